package config

import (
	"reflect"
	"strings"
	"testing"
)

const setupBase = "!AWSCluster\nname: c\nfactories_num: 1\nfactories_type: t3.small\norchestrator_type: t3.small\nengine: %s\n"

func TestSetupDefaults(t *testing.T) {
	t.Parallel()
	c, err := ParseCluster("cluster.yaml", []byte(strings.Replace(setupBase, "%s", "dask", 1)+"setup: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := &Setup{Python: SetupVenv, EnginePackages: EnginePip, Pos: Pos{File: "cluster.yaml", Line: 7, Col: 1}}
	if !reflect.DeepEqual(c.Setup, want) {
		t.Errorf("setup = %+v, want %+v", c.Setup, want)
	}
}

func TestSetupAllFields(t *testing.T) {
	t.Parallel()
	src := strings.Replace(setupBase, "%s", "dask", 1) + `setup:
  python: venv
  engine_packages: system
  requirements: ./deps/requirements.txt
  packages: [numpy==1.26.4, "scipy >= 1.10"]
`
	c, err := ParseCluster("cluster.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := &Setup{Python: SetupVenv, EnginePackages: EngineSystem, Requirements: "deps/requirements.txt",
		Packages: []string{"numpy==1.26.4", "scipy >= 1.10"}, Pos: Pos{File: "cluster.yaml", Line: 7, Col: 1}}
	if !reflect.DeepEqual(c.Setup, want) {
		t.Errorf("setup = %+v, want %+v", c.Setup, want)
	}
}

func TestSetupOnALocalCluster(t *testing.T) {
	t.Parallel()
	c, err := ParseCluster("cluster.yaml", []byte("!LocalCluster\nname: l\nsetup: {requirements: r.txt}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Setup == nil || c.Setup.Requirements != "r.txt" {
		t.Errorf("setup = %+v", c.Setup)
	}
}

func TestNoSetup(t *testing.T) {
	t.Parallel()
	c, err := ParseCluster("cluster.yaml", []byte(strings.Replace(setupBase, "%s", "dask", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Setup != nil {
		t.Errorf("setup = %+v, want nil", c.Setup)
	}
}

// Every problem in setup: is reported at once, each at its line and column.
func TestSetupErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		engine, setup string
		want          []string
	}{
		{"dask", "setup:\n", []string{"cluster.yaml:7:7: setup is empty"}},
		{"dask", "setup: venv\n", []string{`cluster.yaml:7:8: "setup" must be a mapping`}},
		{"dask", "setup:\n  pyhton: venv\n", []string{`cluster.yaml:8:3: unknown field "pyhton" in "setup"; did you mean "python"?`}},
		{"dask", "setup:\n  python: conda\n  engine_packages: conda\n  requirements: /etc/passwd\n  packages: [\"--index-url=http://x\", \"\"]\n", []string{
			`cluster.yaml:8:11: python "conda" is not a way sear makes the job's Python; expected venv`,
			`cluster.yaml:9:20: engine_packages "conda": expected pip`,
			`cluster.yaml:10:17: requirements "/etc/passwd" must be inside the workspace`,
			`cluster.yaml:11:14: package "--index-url=http://x" is a pip option`,
			`cluster.yaml:11:38: packages has an empty entry`,
		}},
		{"ray", "setup: {engine_packages: system}\n", []string{"cluster.yaml:7:26: engine_packages system: Debian and Ubuntu have no package of Ray"}},
		{"dask", "setup: {requirements: ../r.txt}\n", []string{`cluster.yaml:7:23: requirements "../r.txt" must be inside the workspace`}},
	} {
		_, err := ParseCluster("cluster.yaml", []byte(strings.Replace(setupBase, "%s", tc.engine, 1)+tc.setup))
		if err == nil {
			t.Errorf("%q: no error", tc.setup)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error lacks %q:\n%v", tc.setup, w, err)
			}
		}
	}
}
