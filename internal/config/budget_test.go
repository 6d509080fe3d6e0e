package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const budgetCluster = "!AWSCluster\nname: c\nfactories_num: 1\nfactories_type: m5.large\norchestrator_type: m5.large\n"

// TestMaxCost: max_cost is a positive number of US dollars; anything else
// is refused at its line with what to write instead.
func TestMaxCost(t *testing.T) {
	for _, tc := range []struct{ value, want string }{
		{"25", ""},
		{"7.5", ""},
		{"1_000", ""},
		{`"$20"`, `max_cost must be a number of US dollars, not a string "$20"; write it as a bare number of US dollars: max_cost: 20`},
		{"20 USD", `write it as a bare number of US dollars: max_cost: 20`},
		{"twenty", `max_cost must be a number of US dollars, not a string "twenty"`},
		{"0", "max_cost 0 must be more than 0 US dollars; remove the field for no limit"},
		{"-5", "max_cost -5 must be more than 0 US dollars"},
		{".nan", `max_cost ".nan" is not a number of US dollars`},
		{"2500000", "max_cost 2500000 is more than $1000000: is it in cents?"},
		{"[1]", `"max_cost" must be a number of US dollars, not a list`},
	} {
		c, err := ParseCluster("cluster.yaml", []byte(budgetCluster+"max_cost: "+tc.value+"\n"))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("max_cost: %s: %v", tc.value, err)
		case tc.want == "" && c.MaxCost <= 0:
			t.Errorf("max_cost: %s read as %v", tc.value, c.MaxCost)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), "cluster.yaml:6:11: ") || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("max_cost: %s: got %v, want cluster.yaml:6:11: …%s", tc.value, err, tc.want)
		}
	}
	if c, err := ParseCluster("cluster.yaml", []byte(budgetCluster)); err != nil || c.MaxCost != 0 {
		t.Errorf("without max_cost: %v, MaxCost %v; want no limit", err, c.MaxCost)
	}
	if _, err := ParseCluster("cluster.yaml", []byte("!LocalCluster\nname: c\nmax_cost: 5\n")); err == nil || !strings.Contains(err.Error(), `unknown field "max_cost" in !LocalCluster`) {
		t.Errorf("a !LocalCluster, which costs nothing, took max_cost: %v", err)
	}
}

// TestMaxCostError points at max_cost with its line when the file gives
// it, and at the file when the limit came from elsewhere.
func TestMaxCostError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cluster.yaml")
	os.WriteFile(path, []byte(budgetCluster+"max_cost: 5\n"), 0o644)
	c, err := LoadCluster(path)
	if err != nil {
		t.Fatal(err)
	}
	e := c.MaxCostError("over budget")
	if e.Line != 6 || e.Col != 1 || e.Source != "max_cost: 5" || !strings.HasPrefix(e.Pretty(), path+":6:1: over budget\n    6 | max_cost: 5\n      | ^") {
		t.Errorf("MaxCostError = %+v\n%s", e, e.Pretty())
	}
	delete(c.Set, "max_cost")
	if e := c.MaxCostError("over budget"); e.Line != 0 || e.Error() != path+": over budget" {
		t.Errorf("without the field: %+v", e)
	}
}
