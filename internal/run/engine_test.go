package run

import (
	"context"
	"errors"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/cloud/local"
	"github.com/sear-ci/sear/internal/engine"
	"github.com/sear-ci/sear/internal/pipeline"
	"github.com/sear-ci/sear/internal/remote"
	"github.com/sear-ci/sear/internal/shell"
)

// The engine step over real SSH to local nodes, with a stand-in python3
// first on the nodes' PATH (package engine runs the real Dask in
// containers). It shows that the daemons outlive the SSH sessions that
// started them and that the step's cleanup, not the provider's teardown,
// ends them.

// fakeDask plays python3 with distributed: daemons that fork a child and
// wait, and a ready check that reports a worker on every factory.
const fakeDask = `#!/bin/sh
case "$1 $2" in
"-c import distributed") exit 0 ;;
"-m distributed.cli.dask_scheduler")
	while [ $# -gt 0 ]; do [ "$1" = --scheduler-file ] && f=$2; shift; done
	sleep 1000 &
	echo '{}' > "$f"
	wait ;;
"-m distributed.cli.dask_worker")
	sleep 1000 &
	wait ;;
"-c "*)
	printf '{"address": "%s", "workers": [' "$DASK_SCHEDULER_ADDRESS"
	sep=
	for h in $(echo "$SEAR_FACTORIES" | tr , ' '); do
		printf '%s{"address": "tls://%s:1", "name": "w", "host": "%s", "threads": 3}' "$sep" "$h" "$h"
		sep=,
	done
	echo ']}' ;;
esac
`

// noDask is python3 without distributed.
const noDask = `#!/bin/sh
echo "ModuleNotFoundError: No module named 'distributed'" >&2
exit 1
`

// fakePython puts script first on the PATH that local nodes launched
// from now on get.
func fakePython(t *testing.T, script string) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "python3"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// engineSteps are the run's steps up to the engine's, with the workspace's
// directory made instead of uploaded.
func engineSteps(extra ...pipeline.Step[state]) []pipeline.Step[state] {
	return append([]pipeline.Step[state]{
		{Name: "keys", Run: makeKeys},
		{Name: "launch", Run: launch, Cleanup: teardown},
		{Name: "connect", Run: connect, Cleanup: disconnect},
		{Name: "trust", Run: establishTrust},
		{Name: "workdir", Run: makeWorkDirs},
		{Name: "engine", Run: startEngine, Cleanup: stopEngine},
	}, extra...)
}

func makeWorkDirs(ctx context.Context, st *state) error {
	return st.eachNode(ctx, func(ctx context.Context, n cloud.Node) error {
		return st.conns[n.Rank].Run(ctx, "mkdir -p "+shell.Quote(st.layout[n.Rank].Work), remote.RunOptions{})
	})
}

func engineState(t *testing.T, cluster string) *state {
	r, c := parseInputs(t, "!Script\nscript: job\n", cluster)
	opts := Options{Runnable: r, Cluster: c, Provider: local.New(), Now: time.Now, Workspace: t.TempDir(), OutputDir: t.TempDir()}
	return &state{opts: opts, result: &Result{ExitStatus: -1}, interrupted: context.Background()}
}

// liveGroup lists the processes of group pgid that are not zombies.
func liveGroup(pgid int) []string {
	var live []string
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 2 && fields[0] != "Z" && fields[2] == strconv.Itoa(pgid) {
			live = append(live, f)
		}
	}
	return live
}

func TestEngineStepStartsAndStopsDask(t *testing.T) {
	fakePython(t, fakeDask)
	st := engineState(t, "!LocalCluster\nname: eng\nfactories_num: 2\nengine: dask\n")
	var groups []int
	running := func(context.Context, *state) error {
		for _, n := range st.nodes {
			dir := path.Join(path.Dir(st.layout[n.Rank].Job), "engine")
			files, _ := filepath.Glob(filepath.Join(dir, "*.pid"))
			if len(files) != 1 {
				t.Errorf("%s: pid files %v, want one", n.Name, files)
			}
			for _, f := range files {
				b, _ := os.ReadFile(f)
				p, _ := strconv.Atoi(strings.TrimSpace(string(b)))
				if len(liveGroup(p)) != 2 {
					t.Errorf("%s: %s: group %d runs %v after its SSH session ended, want the daemon and its child", n.Name, f, p, liveGroup(p))
				}
				groups = append(groups, p)
			}
		}
		return nil
	}
	var afterStop []string
	observe := func(e pipeline.Event) {
		if e.Step == "engine" && e.Phase == pipeline.PhaseCleanup && e.Done {
			for _, p := range groups {
				afterStop = append(afterStop, liveGroup(p)...)
			}
		}
	}
	err := pipeline.Run(context.Background(), st, engineSteps(pipeline.Step[state]{Name: "running", Run: running}), pipeline.Options{Observe: observe})
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 3 {
		t.Errorf("%d daemons, want a scheduler and two workers", len(groups))
	}
	if len(afterStop) != 0 {
		t.Errorf("the engine's cleanup left %v running", afterStop)
	}
	// The job's environment on a factory: the scheduler on the
	// orchestrator, the factory's own certificate.
	env := st.engineEnv(st.nodes[2])
	if got, want := env["DASK_SCHEDULER_ADDRESS"], "tls://"+st.nodes[0].PrivateIP+":8786"; got != want {
		t.Errorf("DASK_SCHEDULER_ADDRESS = %q, want %q", got, want)
	}
	if got, want := env["DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT"], path.Join(st.layout[2].TLS, "node.pem"); got != want {
		t.Errorf("client certificate %q, want %q", got, want)
	}
}

func TestEngineStepSaysDaskIsMissing(t *testing.T) {
	fakePython(t, noDask)
	st := engineState(t, "!LocalCluster\nname: nodask\nengine: dask\n")
	err := pipeline.Run(context.Background(), st, engineSteps(), pipeline.Options{})
	if !errors.Is(err, engine.ErrNotInstalled) {
		t.Fatalf("err = %v, want engine.ErrNotInstalled", err)
	}
	for _, want := range []string{"dask is not installed on nodask_orchestrator", "No module named 'distributed'", "add `setup: {}` to the cluster file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// With engine none, or before any node was reached, the step and its
// cleanup do nothing.
func TestEngineStepNone(t *testing.T) {
	st := engineState(t, "!LocalCluster\nname: plain\n")
	if err := pipeline.Run(context.Background(), st, engineSteps(), pipeline.Options{}); err != nil {
		t.Fatal(err)
	}
	if env := st.engineEnv(st.nodes[0]); len(env) != 0 {
		t.Errorf("engine none adds %v to the environment", env)
	}
	never := engineState(t, "!LocalCluster\nname: never\nengine: dask\n")
	if err := stopEngine(context.Background(), never); err != nil {
		t.Errorf("stopEngine before launch: %v", err)
	}
}
