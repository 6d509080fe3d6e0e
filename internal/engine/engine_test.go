package engine

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/config"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// testNodes are n nodes laid out as the run lays them out.
func testNodes(n int, name string) []Node {
	nodes := make([]Node, n)
	for i := range nodes {
		home := "/home/ubuntu"
		nodeName := fmt.Sprintf("%s_factory_%d", name, i)
		if i == 0 {
			nodeName = name + "_orchestrator"
		}
		nodes[i] = Node{
			Name: nodeName,
			IP:   fmt.Sprintf("10.0.0.%d", 10+i),
			Dir:  home + "/sear/engine",
			Work: home + "/sear/work",
			Env:  map[string]string{"PYTHONPATH": home + "/sear/work", "SEAR_RANK": fmt.Sprint(i)},
			TLS:  TLSFiles{CA: home + "/.sear/tls/ca.pem", Cert: home + "/.sear/tls/node.pem", Key: home + "/.sear/tls/node-key.pem"},
		}
	}
	return nodes
}

// goldenCases are the engines whose commands and environments are pinned.
var goldenCases = []struct {
	name string
	opts Options
}{
	{"dask-tls", Options{Kind: config.EngineDask, TLS: true, Nodes: testNodes(3, "mnist")}},
	{"dask-plain", Options{Kind: config.EngineDask, TLS: false, Nodes: testNodes(3, "mnist")}},
	{"dask-single-node", Options{Kind: config.EngineDask, TLS: true, Nodes: testNodes(1, "solo"), Workers: 2, Threads: 4, Port: 9786}},
	{"ray-tls", Options{Kind: config.EngineRay, TLS: true, Nodes: testNodes(3, "mnist")}},
	{"ray-plain", Options{Kind: config.EngineRay, TLS: false, Nodes: testNodes(2, "mnist"), Threads: 8}},
	{"ray-single-node", Options{Kind: config.EngineRay, TLS: true, Nodes: testNodes(1, "solo")}},
	{"none", Options{Kind: config.EngineNone, TLS: false, Nodes: testNodes(2, "mnist")}},
}

// render is everything an engine generates, as a reader checks it.
func render(e *Engine) string {
	var b strings.Builder
	fmt.Fprintf(&b, "address: %s\nwarning: %s\n", e.Address(), e.Warning())
	for rank := range e.opts.Nodes {
		fmt.Fprintf(&b, "\n=== rank %d (%s): job environment\n", rank, e.opts.Nodes[rank].Name)
		env := e.Env(rank)
		for _, k := range slices.Sorted(maps.Keys(env)) {
			fmt.Fprintf(&b, "%s=%s\n", k, env[k])
		}
		if e.flavor == nil {
			continue
		}
		fmt.Fprintf(&b, "\n=== rank %d: start, waiting at most 5m\n%s", rank, e.startScript(rank, 5*time.Minute))
		fmt.Fprintf(&b, "\n=== rank %d: stop\n%s", rank, e.stopScript(rank))
		fmt.Fprintf(&b, "\n=== rank %d: alive\n%s", rank, e.aliveScript(rank))
	}
	if e.flavor != nil {
		fmt.Fprintf(&b, "\n=== ready, 290s left\n%s", e.readyScript(290*time.Second))
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := New(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := render(e)
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
			if got != string(want) {
				t.Errorf("%s differs from what the engine generates (go test -update rewrites it); got:\n%s", file, got)
			}
		})
	}
}

// Every script is valid for dash, the /bin/sh of Debian and Ubuntu, and
// for bash, a login shell's.
func TestScriptsParse(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenCases {
		e, err := New(tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		if e.flavor == nil {
			continue
		}
		scripts := map[string]string{"ready": e.readyScript(time.Minute)}
		for rank := range e.opts.Nodes {
			scripts[fmt.Sprintf("start %d", rank)] = e.startScript(rank, time.Minute)
			scripts[fmt.Sprintf("stop %d", rank)] = e.stopScript(rank)
			scripts[fmt.Sprintf("alive %d", rank)] = e.aliveScript(rank)
			scripts[fmt.Sprintf("tail %d", rank)] = e.tailScript(rank, "worker")
		}
		for name, script := range scripts {
			for _, sh := range []string{"dash", "bash"} {
				out, err := exec.Command(sh, "-n", "-c", script).CombinedOutput()
				if err != nil {
					t.Errorf("%s: %s script does not parse with %s: %v\n%s\n%s", tc.name, name, sh, err, out, script)
				}
			}
		}
	}
}

// The Python programs compile (Python 3.11, bookworm's).
func TestReadyProgramsCompile(t *testing.T) {
	t.Parallel()
	for _, fl := range []flavor{dask{}, ray{}} {
		src := fl.readyProgram()
		out, err := exec.Command("python3", "-c", "import sys; compile(sys.argv[1], 'ready', 'exec')", src).CombinedOutput()
		if err != nil {
			t.Errorf("%s's ready program does not compile: %v\n%s", fl.name(), err, out)
		}
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	good := testNodes(2, "c")
	with := func(f func(n []Node)) []Node {
		n := slices.Clone(good)
		f(n)
		return n
	}
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"unknown engine", Options{Kind: "spark", Nodes: good}, `engine "spark": expected dask, ray or none`},
		{"no nodes", Options{Kind: config.EngineDask}, "no nodes"},
		{"port", Options{Kind: config.EngineDask, Nodes: good, Port: 70000}, "port 70000"},
		{"negative threads", Options{Kind: config.EngineDask, Nodes: good, Threads: -1}, "threads -1"},
		{"address", Options{Kind: config.EngineDask, Nodes: with(func(n []Node) { n[1].IP = "ip-10-0-0-1" })}, `"ip-10-0-0-1" is not an IP address`},
		{"relative dir", Options{Kind: config.EngineRay, Nodes: with(func(n []Node) { n[0].Dir = "sear/engine" })}, "expected absolute paths"},
		{"tls files", Options{Kind: config.EngineDask, TLS: true, Nodes: with(func(n []Node) { n[1].TLS.Key = "" })}, "TLS is on but its CA, certificate or key path is missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// Without TLS the daemons get no certificate and the job's client no
// encryption requirement, and the run is told to warn.
func TestPlainWarns(t *testing.T) {
	t.Parallel()
	for _, kind := range []config.Engine{config.EngineDask, config.EngineRay} {
		e, err := New(Options{Kind: kind, Nodes: testNodes(2, "c")})
		if err != nil {
			t.Fatal(err)
		}
		if w := e.Warning(); !strings.Contains(w, "tls: false") || !strings.Contains(w, "troubleshooting") {
			t.Errorf("%s: warning %q", kind, w)
		}
		for rank := range 2 {
			if s := e.startScript(rank, time.Minute); strings.Contains(s, "tls") || strings.Contains(s, ".pem") {
				t.Errorf("%s: plain start script of rank %d mentions TLS:\n%s", kind, rank, s)
			}
		}
		tlsOn, _ := New(Options{Kind: kind, TLS: true, Nodes: testNodes(2, "c")})
		if w := tlsOn.Warning(); w != "" {
			t.Errorf("%s with TLS warns %q", kind, w)
		}
	}
}

// A node's environment names its own certificate, never another node's.
func TestEnvUsesTheNodesOwnCertificate(t *testing.T) {
	t.Parallel()
	nodes := testNodes(3, "c")
	for i := range nodes {
		nodes[i].TLS.Cert = fmt.Sprintf("/certs/%d.pem", i)
	}
	e, err := New(Options{Kind: config.EngineDask, TLS: true, Nodes: nodes})
	if err != nil {
		t.Fatal(err)
	}
	for rank := range nodes {
		if got := e.Env(rank)["DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT"]; got != nodes[rank].TLS.Cert {
			t.Errorf("rank %d: client certificate %q, want %q", rank, got, nodes[rank].TLS.Cert)
		}
		if got := e.Env(rank)["DASK_SCHEDULER_ADDRESS"]; got != "tls://10.0.0.10:8786" {
			t.Errorf("rank %d: scheduler address %q", rank, got)
		}
	}
}

func TestJoinQuotes(t *testing.T) {
	t.Parallel()
	got := join([]string{"python3", "-m", "x", "--host", "[::1]:8786", "it's", "", "/a b"})
	want := `python3 -m x --host '[::1]:8786' 'it'\''s' '' '/a b'`
	if got != want {
		t.Errorf("join: %s, want %s", got, want)
	}
}
