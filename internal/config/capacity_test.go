package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

const capacityBase = "!AWSCluster\nname: c\nfactories_num: 2\n"

// TestCapacityLists: subnet_id, orchestrator_type and factories_type take
// a list, first choice first; the first is also the single-valued field,
// so everything that knows only Flambé's form sees the first choice.
func TestCapacityLists(t *testing.T) {
	c, err := ParseCluster("c.yaml", []byte(capacityBase+
		"factories_type: [g5.xlarge, g4dn.xlarge]\norchestrator_type:\n  - t3.large\n  - m5.large\n"+
		"subnet_id: [subnet-aaaa, subnet-bbbb]\ncheck_quotas: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.FactoriesType != "g5.xlarge" || c.OrchestratorType != "t3.large" || c.SubnetID != "subnet-aaaa" {
		t.Errorf("first choices: %q %q %q", c.FactoriesType, c.OrchestratorType, c.SubnetID)
	}
	for _, tc := range []struct{ got, want []string }{
		{c.FactoriesTypeChoices(), []string{"g5.xlarge", "g4dn.xlarge"}},
		{c.OrchestratorTypeChoices(), []string{"t3.large", "m5.large"}},
		{c.Subnets(), []string{"subnet-aaaa", "subnet-bbbb"}},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("got %v, want %v", tc.got, tc.want)
		}
	}
	if !c.CheckQuotas {
		t.Error("check_quotas: true not read")
	}
}

// TestCapacitySingleValues: Flambé's single values stay as they were, and
// the lists stay nil, so the cluster's JSON is what it was.
func TestCapacitySingleValues(t *testing.T) {
	c, err := ParseCluster("c.yaml", []byte(capacityBase+"factories_type: g5.xlarge\norchestrator_type: t3.large\nsubnet_id: subnet-aaaa\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.FactoriesTypes != nil || c.OrchestratorTypes != nil || c.SubnetIDs != nil || c.CheckQuotas {
		t.Errorf("lists set for single values: %+v", c.Capacity)
	}
	if !slices.Equal(c.FactoriesTypeChoices(), []string{"g5.xlarge"}) || !slices.Equal(c.Subnets(), []string{"subnet-aaaa"}) {
		t.Errorf("choices: %v %v", c.FactoriesTypeChoices(), c.Subnets())
	}
	c, err = ParseCluster("c.yaml", []byte("!AWSCluster\nname: c\nfactories_num: 0\nfactories_type: g5.xlarge\norchestrator_type: t3.large\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Subnets() != nil || c.FactoriesTypeChoices() != nil {
		t.Errorf("no subnet_id and no factories: %v %v", c.Subnets(), c.FactoriesTypeChoices())
	}
}

// TestCapacityListErrors: each bad item is reported at its own line and
// column, with the fix.
func TestCapacityListErrors(t *testing.T) {
	_, err := ParseCluster("c.yaml", []byte(capacityBase+
		"factories_type: [g5.xlarge, g5.xlarge]\n"+ // line 4
		"orchestrator_type: []\n"+ // line 5
		"subnet_id:\n  - subnet-aaaa\n  - sg-0123\n  - 7\n")) // lines 6-9
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("want config errors, got %v", err)
	}
	want := []string{
		`c.yaml:4:29: "factories_type" lists "g5.xlarge" twice (first on line 4); remove one`,
		`c.yaml:5:20: "orchestrator_type" is an empty list; give at least one, such as orchestrator_type: [t3.large]`,
		`c.yaml:8:5: "sg-0123" is not an id for "subnet_id"; EC2 ids of this kind start with "subnet-"`,
		`c.yaml:9:5: "subnet_id" must be a string, not an integer; quote it: subnet_id: "7"`,
	}
	pretty := es.Pretty()
	for _, w := range want {
		if !strings.Contains(pretty, w) {
			t.Errorf("missing %q in:\n%s", w, pretty)
		}
	}
}
