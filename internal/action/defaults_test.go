// An external test: package run imports package report, which imports
// package action for the outputs, so action's own tests cannot import run.
package action_test

import (
	"os"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sear-ci/sear/internal/action"
	"github.com/sear-ci/sear/internal/run"
)

// action.yml's defaults are what the run package defaults to, so the
// README and the inputs' descriptions tell the truth.
func TestMaxOutputDefaultsMatchTheRun(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var a struct {
		Inputs map[string]struct{ Default string } `yaml:"inputs"`
	}
	if err := yaml.Unmarshal(data, &a); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"INPUT_RUNNABLE": "r.yaml", "INPUT_CLUSTER": "c.yaml",
		"INPUT_MAX-OUTPUT-BYTES": a.Inputs["max-output-bytes"].Default, "INPUT_MAX-OUTPUT-FILES": a.Inputs["max-output-files"].Default,
	}
	in, err := action.ReadStepInputs(func(k string) string { return vars[k] })
	if err != nil || in.MaxOutputBytes != run.DefaultMaxOutputBytes || in.MaxOutputFiles != run.DefaultMaxOutputFiles {
		t.Errorf("action.yml's defaults read as %d bytes and %d files (%v); the run's are %d and %d",
			in.MaxOutputBytes, in.MaxOutputFiles, err, run.DefaultMaxOutputBytes, run.DefaultMaxOutputFiles)
	}
}
