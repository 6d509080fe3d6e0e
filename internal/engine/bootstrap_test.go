package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/remote"
)

// The bootstraps' scripts are pinned: engine_packages: pip reaches a package index, which the
// test world does not have, so its scripts are checked here only.
func TestBootstrapGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    Bootstrap
	}{
		{"bootstrap-dask-pip", Bootstrap{Engine: config.EngineDask, Setup: &config.Setup{Python: "venv", EnginePackages: config.EnginePip, Requirements: "requirements.txt", Packages: []string{"numpy==1.26.4"}}}},
		{"bootstrap-dask-system", Bootstrap{Engine: config.EngineDask, Setup: &config.Setup{Python: "venv", EnginePackages: config.EngineSystem, Requirements: "requirements.txt"}}},
		{"bootstrap-ray-pip", Bootstrap{Engine: config.EngineRay, Setup: &config.Setup{Python: "venv", EnginePackages: config.EnginePip}}},
		{"bootstrap-flambe-none", Bootstrap{Engine: config.EngineNone, Flambe: true, Setup: &config.Setup{Python: "venv", EnginePackages: config.EnginePip}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.b.Venv, tc.b.Work = "/home/ubuntu/sear/venv", "/home/ubuntu/sear/work"
			var b strings.Builder
			for _, s := range tc.b.Steps() {
				b.WriteString("### " + s.Name + "\n" + s.Script)
			}
			got := b.String()
			file := filepath.Join("testdata", "golden", tc.name+".txt")
			if *update {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if string(want) != got {
				t.Errorf("%s differs (go test -update rewrites it); got:\n%s", file, got)
			}
		})
	}
}

// A failing step stops the bootstrap with the step's name and the end of its output; the
// steps before it are timed.
func TestBootstrapFailureHasTheLogTail(t *testing.T) {
	b := Bootstrap{Engine: config.EngineDask, Setup: &config.Setup{EnginePackages: config.EnginePip, Requirements: "r.txt"}, Venv: "/v", Work: "/w"}
	sh := scriptedShell(func(script string) (string, error) {
		if strings.Contains(script, "pip install") && strings.Contains(script, " -r ") {
			return "Collecting nope==1\nERROR: No matching distribution found for nope==1\n", &remote.ExitError{Status: 1}
		}
		return "ok\n", nil
	})
	timings, err := b.Run(context.Background(), "factory-1", sh, nil, nil)
	var be *BootstrapError
	if !errors.As(err, &be) || be.Step != "requirements" || !strings.Contains(err.Error(), "No matching distribution found for nope==1") {
		t.Fatalf("err = %v", err)
	}
	if len(timings) != 4 {
		t.Errorf("timings %v, want apt-get, venv, packages, requirements", timings)
	}
}

type scriptedShell func(script string) (string, error)

func (f scriptedShell) Run(_ context.Context, script string, opts remote.RunOptions) error {
	out, err := f(script)
	if opts.Stdout != nil {
		opts.Stdout.Write([]byte(out))
	}
	return err
}

// Every node's missing pieces come back at once, with the fix for a cluster without setup:.
func TestCheckNodesNamesEveryNode(t *testing.T) {
	shells := []NodeShell{
		{Name: "orchestrator", Orch: true, Shell: scriptedShell(func(s string) (string, error) { return missingIndex(t, s, "distributed"), nil })},
		{Name: "factory-1", Shell: scriptedShell(func(s string) (string, error) { return missingIndex(t, s, "distributed"), nil })},
		{Name: "factory-2", Shell: scriptedShell(func(string) (string, error) { return "", nil })},
	}
	err := CheckNodes(context.Background(), shells, Requirements{Engine: config.EngineDask, Launcher: "python3"})
	var me *MissingError
	if !errors.As(err, &me) || !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("err = %v, want a *MissingError", err)
	}
	for _, want := range []string{
		"2 of the cluster's nodes lack",
		"orchestrator: the python3 module distributed (engine dask)",
		"factory-1: the python3 module distributed (engine dask)",
		"add `setup: {}` to the cluster file, and sear installs distributed==" + DistributedVersion,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "factory-2") {
		t.Errorf("names a node that has everything:\n%v", err)
	}
	// With setup:, distributed is the bootstrap's to install.
	if err := CheckNodes(context.Background(), shells, Requirements{Engine: config.EngineDask, Setup: &config.Setup{EnginePackages: config.EnginePip}}); err != nil {
		t.Errorf("with setup: %v", err)
	}
}

// missingIndex prints the index the check script gives the need whose check mentions word.
func missingIndex(t *testing.T, script, word string) string {
	for _, line := range strings.Split(script, "\n") {
		if strings.Contains(line, word) {
			return strings.TrimSuffix(line[strings.LastIndex(line, "echo ")+5:], "; fi") + "\n"
		}
	}
	return ""
}
