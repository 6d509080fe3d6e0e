package config

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

const nodeCluster = `!AWSCluster
name: exp
factories_num: 2
orchestrator_type: t3.large
factories_type:
  - g5.xlarge
  - g6.xlarge
factory_ami: ami-0123456789abcdef0
spot: true
`

// TestNode: each rank's role, name, types, image and fields, as the
// providers and sear plan read them.
func TestNode(t *testing.T) {
	t.Parallel()
	c, err := ParseCluster("cluster.yaml", []byte(nodeCluster))
	if err != nil {
		t.Fatal(err)
	}
	want := []Node{
		{Rank: 0, Role: RoleOrchestrator, Name: "exp_orchestrator", Types: []string{"t3.large"}, Spot: true,
			TypeField: "orchestrator_type", AMIField: "orchestrator_ami"},
		{Rank: 1, Role: RoleFactory, Name: "exp_factory_1", Types: []string{"g5.xlarge", "g6.xlarge"}, AMI: "ami-0123456789abcdef0", Spot: true,
			TypeField: "factories_type", AMIField: "factory_ami"},
		{Rank: 2, Role: RoleFactory, Name: "exp_factory_2", Types: []string{"g5.xlarge", "g6.xlarge"}, AMI: "ami-0123456789abcdef0", Spot: true,
			TypeField: "factories_type", AMIField: "factory_ami"},
	}
	if got := c.AllNodes(); !reflect.DeepEqual(got, want) {
		t.Errorf("AllNodes =\n%+v\nwant\n%+v", got, want)
	}
	if got := c.Roles(); !reflect.DeepEqual(got, want[:2]) {
		t.Errorf("Roles = %+v", got)
	}
	if got := c.Node(1).Type(); got != "g5.xlarge" {
		t.Errorf("Type = %q, want the first choice", got)
	}

	local, err := ParseCluster("local.yaml", []byte("!LocalCluster\nname: here\nfactories_num: 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := local.Roles(); len(got) != 1 || got[0].Name != "here_orchestrator" || got[0].Types != nil || got[0].Type() != "" {
		t.Errorf("local Roles = %+v", got)
	}
}

// TestFieldError: an error found after validation points at the field's
// line, or at a list's item, with the line under it; a field the file
// does not give puts it on the file.
func TestFieldError(t *testing.T) {
	t.Parallel()
	c, err := ParseCluster("cluster.yaml", []byte(nodeCluster))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		err  *Error
		want string
		src  string
	}{
		{"field", c.FieldError("orchestrator_type", "no"), "cluster.yaml:4:1: no", "orchestrator_type: t3.large"},
		{"list item", c.ItemError("factories_type", "g6.xlarge", "no"), "cluster.yaml:7:5: no", "  - g6.xlarge"},
		{"single value as item", c.ItemError("orchestrator_type", "t3.large", "no"), "cluster.yaml:4:1: no", "orchestrator_type: t3.large"},
		{"item not listed", c.ItemError("factories_type", "p5.48xlarge", "no"), "cluster.yaml:5:1: no", "factories_type:"},
		{"field not given", c.FieldError("subnet_id", "no"), "cluster.yaml: no", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err.Error() != tc.want || tc.err.Source != tc.src {
				t.Errorf("got %q with source %q, want %q with %q", tc.err, tc.err.Source, tc.want, tc.src)
			}
			var ce *Error
			if !errors.As(fmt.Errorf("preflight: %w", tc.err), &ce) || ce != tc.err {
				t.Error("errors.As does not find the *Error through a wrap")
			}
		})
	}
}
