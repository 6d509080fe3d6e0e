package command

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sear-ci/sear/internal/action"
	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/report"
)

// TestActionAnnotatesARunsConfigErrors: a run that fails on a finding
// about a field of the cluster file (a provider's preflight: an instance
// type the region does not offer) puts it on the file's line, as
// validation's errors are, and the report lists it as a configuration
// error. The errors are synthetic, wrapped as the run and the pipeline
// wrap a launch's, one of them joined with a cleanup's error.
func TestActionAnnotatesARunsConfigErrors(t *testing.T) {
	t.Parallel()
	ws, files := t.TempDir(), t.TempDir()
	cluster := filepath.Join(ws, "ci", "cluster.yaml")
	offered := &config.Error{File: cluster, Line: 4, Col: 20, Msg: `orchestrator_type "p9.huge" is not offered in eu-west-1; give one of g5.xlarge`,
		Source: "orchestrator_type: p9.huge"}
	subnet := &config.Error{File: cluster, Line: 7, Col: 12, Msg: `subnet_id "subnet-SECRET" does not exist`, Source: "subnet_id: subnet-SECRET"}
	launch := fmt.Errorf(`run "launch": launch cluster "gpu": %w`, fmt.Errorf("preflight, before anything was created: %w; and %w", offered, subnet))
	err := errors.Join(launch, errors.New(`cleanup "extensions": remove the clones: busy`))

	var out bytes.Buffer
	log := action.NewLog(&out, func(string) string { return "" })
	runner := action.Runner{OutputFile: filepath.Join(files, "output"), SummaryFile: filepath.Join(files, "summary")}
	a := &actionStep{s: streams{stdout: log.Output(), stderr: log.Output(), env: func(string) string { return "" }, runner: runner},
		log: log, workspace: ws}
	mask := func(s string) string { return strings.ReplaceAll(s, "SECRET", "***") }
	r := a.annotateRunErrors(report.Run{Runnable: "ci/runnable.yaml", Verdict: report.Failure, Reason: firstLine(err.Error())}, err, mask)

	want := []report.ConfigError{
		{File: "ci/cluster.yaml", Line: 4, Column: 20, Message: offered.Msg, Source: offered.Source},
		{File: "ci/cluster.yaml", Line: 7, Column: 12, Message: `subnet_id "subnet-***" does not exist`, Source: "subnet_id: subnet-***"},
	}
	if len(r.ConfigErrors) != len(want) {
		t.Fatalf("report's configuration errors: %+v, want %+v", r.ConfigErrors, want)
	}
	for i := range want {
		if r.ConfigErrors[i] != want[i] {
			t.Errorf("configuration error %d: %+v, want %+v", i, r.ConfigErrors[i], want[i])
		}
	}
	for _, line := range []string{
		`::error col=20,file=ci/cluster.yaml,line=4,title=sear%3A invalid configuration::orchestrator_type "p9.huge" is not offered in eu-west-1`,
		`::error col=12,file=ci/cluster.yaml,line=7,title=sear%3A invalid configuration::subnet_id "subnet-***" does not exist`,
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("no annotation %s in the log:\n%s", line, out.String())
		}
	}
	if strings.Contains(out.String(), "SECRET") {
		t.Errorf("an annotation is not masked:\n%s", out.String())
	}

	if code := a.conclude(context.Background(), r); code != ExitFailure {
		t.Errorf("exit status %d, want %d", code, ExitFailure)
	}
	summary, _ := os.ReadFile(runner.SummaryFile)
	for _, s := range []string{"2 configuration errors", "ci/cluster.yaml:4:20: orchestrator_type", "orchestrator_type: p9.huge"} {
		if !strings.Contains(string(summary), s) {
			t.Errorf("the step summary lacks %q:\n%s", s, summary)
		}
	}
}

// TestActionRunErrorWithoutConfigErrors: a run's other failures are no
// configuration errors and annotate nothing.
func TestActionRunErrorWithoutConfigErrors(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	a := &actionStep{log: action.NewLog(&out, func(string) string { return "" }), workspace: t.TempDir()}
	for _, err := range []error{nil, errors.New(`run "job": the job exited with status 1`)} {
		if r := a.annotateRunErrors(report.Run{}, err, func(s string) string { return s }); len(r.ConfigErrors) != 0 || out.Len() != 0 {
			t.Errorf("%v: configuration errors %v, log %q", err, r.ConfigErrors, out.String())
		}
	}
}
