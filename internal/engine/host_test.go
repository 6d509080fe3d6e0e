package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/config"
)

// These tests run the engine's real scripts with this machine's sh, ps and
// setsid, against a stand-in for python3 that plays Dask's processes and
// their failures. The real Dask is in cluster_test.go.

// fakePython plays python3 with distributed installed. Its variables:
//
//	FAKE_IMPORT=missing     the import of distributed fails
//	FAKE_SCHEDULER=dies     the scheduler exits as it starts
//	FAKE_SCHEDULER=slow     the scheduler never writes its scheduler file
//	FAKE_WORKER_DIES=IP     the worker with --host IP exits after a second
//	FAKE_READY=never        the ready check sees no worker until its timeout
//	FAKE_HOSTS              the workers' hosts the ready check reports
//
// A daemon forks a child, as the nanny forks its worker, so a stop must end
// the whole process group.
const fakePython = `#!/bin/sh
case "$1 $2" in
"-c import distributed")
	if [ "${FAKE_IMPORT:-}" = missing ]; then
		echo "Traceback (most recent call last):" >&2
		echo "ModuleNotFoundError: No module named 'distributed'" >&2
		exit 1
	fi
	exit 0 ;;
"-m distributed.cli.dask_scheduler")
	case ${FAKE_SCHEDULER:-} in
	dies) echo "OSError: [Errno 98] Address already in use" >&2; exit 1 ;;
	slow) exec sleep 1000 ;;
	esac
	while [ $# -gt 0 ]; do [ "$1" = --scheduler-file ] && f=$2; shift; done
	sleep 1000 &
	echo '{"type": "Scheduler"}' > "$f"
	wait ;;
"-m distributed.cli.dask_worker")
	echo "worker starting"
	while [ $# -gt 0 ]; do [ "$1" = --host ] && host=$2; shift; done
	if [ "$host" = "${FAKE_WORKER_DIES:-}" ]; then
		sleep 1
		echo "worker: killed by the OOM killer" >&2
		exit 1
	fi
	sleep 1000 &
	wait ;;
"-c "*)
	want=$3 timeout=$4
	if [ "${FAKE_READY:-}" = never ]; then
		sleep "$timeout"
		echo '{"address": "tls://127.0.0.10:8786", "workers": []}'
		exit 3
	fi
	printf '{"address": "tls://127.0.0.10:8786", "workers": ['
	i=0 sep=
	for h in $FAKE_HOSTS; do
		printf '%s{"address": "tls://%s:4%d", "name": "w%d", "host": "%s", "threads": 2}' "$sep" "$h" "$i" "$i" "$h"
		i=$((i + 1)) sep=,
	done
	echo ']}'
	exit 0 ;;
esac
echo "fake python3: unexpected $*" >&2
exit 2
`

// hostCluster is n nodes on this machine, each with its own directory, and
// the stand-in python3 first on their PATH.
func hostCluster(t *testing.T, n int, env map[string]string) ([]Node, []Shell) {
	t.Helper()
	root := t.TempDir()
	bin := filepath.Join(root, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "python3"), []byte(fakePython), 0o755); err != nil {
		t.Fatal(err)
	}
	nodes := make([]Node, n)
	shells := make([]Shell, n)
	var hosts []string
	for i := range nodes {
		name := fmt.Sprintf("c_factory_%d", i)
		if i == 0 {
			name = "c_orchestrator"
		}
		dir := filepath.Join(root, name)
		nodes[i] = Node{Name: name, IP: fmt.Sprintf("127.0.0.%d", 10+i), Dir: filepath.Join(dir, "engine"), Work: root,
			TLS: TLSFiles{CA: dir + "/ca.pem", Cert: dir + "/node.pem", Key: dir + "/node-key.pem"},
			Env: map[string]string{"PATH": bin + ":" + os.Getenv("PATH")}}
		if i > 0 || n == 1 {
			hosts = append(hosts, nodes[i].IP)
		}
		shells[i] = hostShell(name, nil)
	}
	for i := range nodes {
		nodes[i].Env["FAKE_HOSTS"] = strings.Join(hosts, " ")
		for k, v := range env {
			nodes[i].Env[k] = v
		}
	}
	return nodes, shells
}

// pids reads the pid files in dir.
func pids(t *testing.T, dir string) map[string]int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.pid"))
	out := map[string]int{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatalf("%s: %q", f, b)
		}
		out[filepath.Base(f)] = p
	}
	return out
}

// group lists the live (not zombie) processes whose process group is pgid.
func group(t *testing.T, pgid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var live []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp session ...; comm may hold spaces.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) > 3 && f[0] != "Z" && f[2] == strconv.Itoa(pgid) {
			live = append(live, pid)
		}
	}
	return live
}

func newEngine(t *testing.T, opts Options) *Engine {
	t.Helper()
	e, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// stopOnCleanup stops whatever a test started, even when it failed.
func stopOnCleanup(t *testing.T, e *Engine, shells []Shell) {
	t.Cleanup(func() {
		if err := e.Stop(context.Background(), shells); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
}

// Start launches every daemon in a session of its own that outlives the
// command that started it; Stop ends each whole group, and can run again.
func TestHostStartStop(t *testing.T) {
	t.Parallel()
	nodes, shells := hostCluster(t, 3, nil)
	e := newEngine(t, Options{Kind: config.EngineDask, TLS: true, Nodes: nodes})
	stopOnCleanup(t, e, shells)
	ready, err := e.Start(context.Background(), shells)
	if err != nil {
		t.Fatal(err)
	}
	if len(ready.Workers) != 2 || ready.Threads() != 4 {
		t.Errorf("ready: %+v", ready)
	}
	var groups []int
	for rank, n := range nodes {
		want := "worker.pid"
		if rank == 0 {
			want = "scheduler.pid"
		}
		ps := pids(t, n.Dir)
		p, ok := ps[want]
		if len(ps) != 1 || !ok {
			t.Fatalf("%s: pid files %v, want only %s", n.Name, ps, want)
		}
		// The leader and its child, which the worker may not have forked
		// yet: the group is the daemon's own.
		live := group(t, p)
		for deadline := time.Now().Add(5 * time.Second); len(live) != 2 && time.Now().Before(deadline); live = group(t, p) {
			time.Sleep(20 * time.Millisecond)
		}
		if len(live) != 2 {
			t.Errorf("%s: process group %d has %v, want the daemon and its child", n.Name, p, live)
		}
		groups = append(groups, p)
	}
	if err := e.Stop(context.Background(), shells); err != nil {
		t.Fatal(err)
	}
	for i, p := range groups {
		if live := group(t, p); len(live) != 0 {
			t.Errorf("%s: %v still running after Stop", nodes[i].Name, live)
		}
		if ps := pids(t, nodes[i].Dir); len(ps) != 0 {
			t.Errorf("%s: pid files %v left after Stop", nodes[i].Name, ps)
		}
	}
	if err := e.Stop(context.Background(), shells); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	// A node never reached is skipped.
	if err := e.Stop(context.Background(), []Shell{shells[0], nil, nil}); err != nil {
		t.Errorf("Stop with nil shells: %v", err)
	}
}

// Every failure names the node, says what happened and shows the daemon's
// own words.
func TestHostStartExplains(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		timeout time.Duration
		is      error
		want    []string
	}{
		{
			name: "not installed", env: map[string]string{"FAKE_IMPORT": "missing"},
			is: ErrNotInstalled,
			want: []string{"dask is not installed on c_orchestrator (ModuleNotFoundError: No module named 'distributed'): " +
				"add `setup: {}` to the cluster file (sear installs distributed==" + DistributedVersion + " in a venv on every node), or use an AMI with it"},
		},
		{
			name: "scheduler exits", env: map[string]string{"FAKE_SCHEDULER": "dies"},
			want: []string{"the dask scheduler on c_orchestrator exited as it started", "scheduler.log", "Address already in use"},
		},
		{
			name: "scheduler never serves", env: map[string]string{"FAKE_SCHEDULER": "slow"}, timeout: time.Second,
			want: []string{"the dask scheduler on c_orchestrator was not serving within 1s"},
		},
		{
			name: "worker exits while the run waits", env: map[string]string{"FAKE_WORKER_DIES": "127.0.0.11", "FAKE_READY": "never"},
			want: []string{"the dask worker on c_factory_1 exited", "worker.log", "killed by the OOM killer"},
		},
		{
			name: "workers never join", env: map[string]string{"FAKE_READY": "never"}, timeout: 2 * time.Second,
			want: []string{"0 of 2 dask workers joined within 2s; none from c_factory_1, c_factory_2", "c_factory_2, ", "worker starting"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			nodes, shells := hostCluster(t, 3, tc.env)
			e := newEngine(t, Options{Kind: config.EngineDask, TLS: true, Nodes: nodes, ReadyTimeout: tc.timeout})
			stopOnCleanup(t, e, shells)
			start := time.Now()
			_, err := e.Start(context.Background(), shells)
			if err == nil {
				t.Fatal("Start succeeded")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("Start: %v, want it to wrap %v", err, tc.is)
			}
			t.Logf("error:\n%v", err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Start's error lacks %q:\n%v", w, err)
				}
			}
			// A death is seen within a few polls, not at the 5 minute timeout.
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("Start took %v to fail", d)
			}
		})
	}
}

// With engine none nothing runs, and Stop has nothing to do.
func TestNoneDoesNothing(t *testing.T) {
	t.Parallel()
	e := newEngine(t, Options{Kind: config.EngineNone, Nodes: testNodes(2, "c")})
	ready, err := e.Start(context.Background(), []Shell{nil, nil})
	if err != nil || len(ready.Workers) != 0 {
		t.Errorf("Start: %+v, %v", ready, err)
	}
	if err := e.Stop(context.Background(), nil); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if len(e.Env(0)) != 0 || e.Address() != "" || e.Warning() != "" {
		t.Errorf("none: env %v, address %q, warning %q", e.Env(0), e.Address(), e.Warning())
	}
}
