package run

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/sear-ci/sear/internal/cloud/local"
	"github.com/sear-ci/sear/internal/engine"
)

// Without setup:, nodes whose python3 lacks distributed fail the run right after connect,
// before anything is uploaded, naming every node and the fix.
func TestRunFailsRightAfterConnectWithoutTheEngine(t *testing.T) {
	fakePython(t, noDask)
	r, c := parseInputs(t, "!Script\nscript: job\n", "!LocalCluster\nname: bare\nfactories_num: 2\nengine: dask\n")
	res, err := Run(context.Background(), Options{Runnable: r, Cluster: c, Provider: local.New(), Workspace: jobWorkspace(t), OutputDir: t.TempDir()})
	var me *engine.MissingError
	if !errors.As(err, &me) {
		t.Fatalf("err = %v, want the nodes' missing pieces", err)
	}
	for _, want := range []string{"3 of the cluster's nodes lack", "bare_orchestrator: the python3 module distributed (engine dask)",
		"bare_factory_2: the python3 module distributed", "add `setup: {}` to the cluster file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	var names []string
	for _, p := range res.Phases {
		if !p.Cleanup {
			names = append(names, p.Name)
		}
	}
	if !slices.Equal(names, []string{"extensions", "keys", "launch", "connect", "environment"}) {
		t.Errorf("phases %v, want the run to stop at environment", names)
	}
}
