package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/keys"
	"github.com/sear-ci/sear/internal/testworld/image"
)

// The real thing: Debian bookworm's python3-distributed in three containers
// of the test world's instance image on a network of their own, started
// with exactly the scripts the engine generates (through docker exec as
// the image's user rather than SSH, which is tested elsewhere), with a CA
// and node certificates from package keys.

const (
	user = "ubuntu"
	home = "/home/ubuntu"
)

// container is one node of the test cluster.
type container struct {
	name string // also its hostname
	ip   string
}

func docker(ctx context.Context, stdin []byte, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("docker %s: %w: %s", strings.Join(args[:min(len(args), 4)], " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// testCluster starts n containers on a network of their own, each with the
// image's default user, removed (network included) when the test ends.
func testCluster(t *testing.T, ctx context.Context, n int) []container {
	t.Helper()
	var log bytes.Buffer
	ref, err := image.Ensure(ctx, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	id := make([]byte, 4)
	rand.Read(id)
	prefix := "sear-engine-" + hex.EncodeToString(id)
	if _, err := docker(ctx, nil, "network", "create", "--label", "sear.testworld=1", prefix); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := docker(context.Background(), nil, "network", "rm", prefix); err != nil {
			t.Error(err)
		}
	})
	cs := make([]container, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range cs {
		cs[i].name = fmt.Sprintf("%s-%d", prefix, i)
		t.Cleanup(func() {
			if t.Failed() {
				out, _ := docker(context.Background(), nil, "exec", cs[i].name, "sh", "-c", "tail -n 50 "+home+"/sear/engine*/*.log")
				t.Logf("%s's engine logs:\n%s", cs[i].name, out)
			}
			if _, err := docker(context.Background(), nil, "rm", "--force", cs[i].name); err != nil && !strings.Contains(err.Error(), "No such container") {
				t.Error(err)
			}
		})
		wg.Go(func() { errs[i] = startContainer(ctx, ref, prefix, &cs[i]) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return cs
}

// startContainer runs the image with tini and nothing else: the engine
// needs neither cloud-init nor sshd, and tini reaps the daemons' orphans as
// an instance's init does. The user is the one cloud-init would create.
func startContainer(ctx context.Context, ref, network string, c *container) error {
	if _, err := docker(ctx, nil, "run", "--detach", "--name", c.name, "--hostname", c.name, "--network", network,
		"--label", "sear.testworld=1", ref, "/usr/bin/tini", "--", "sleep", "infinity"); err != nil {
		return err
	}
	ip, err := docker(ctx, nil, "inspect", "--format", fmt.Sprintf("{{(index .NetworkSettings.Networks %q).IPAddress}}", network), c.name)
	if err != nil || net.ParseIP(ip) == nil {
		return fmt.Errorf("address of %s: %q, %v", c.name, ip, err)
	}
	c.ip = ip
	_, err = docker(ctx, nil, "exec", c.name, "sh", "-c", "useradd --create-home --shell /bin/bash "+user+" && su "+user+" -c 'mkdir -p "+home+"/sear/work'")
	return err
}

// writeFile writes data to path in c as the user, readable by the user only.
func writeFile(ctx context.Context, c container, path string, data []byte) error {
	_, err := docker(ctx, data, "exec", "-i", "-u", user, c.name, "sh", "-c", `umask 077 && mkdir -p "$(dirname "$1")" && cat > "$1"`, "sh", path)
	return err
}

// tlsFiles puts a node's CA, certificate and key where the run's trust
// step puts them.
func tlsFiles(ctx context.Context, c container, dir string, ca, cert, key []byte) (TLSFiles, error) {
	f := TLSFiles{CA: dir + "/ca.pem", Cert: dir + "/node.pem", Key: dir + "/node-key.pem"}
	for path, data := range map[string][]byte{f.CA: ca, f.Cert: cert, f.Key: key} {
		if err := writeFile(ctx, c, path, data); err != nil {
			return f, err
		}
	}
	return f, nil
}

// python runs a program in c as the user with exactly env, and returns its
// stdout.
func python(ctx context.Context, c container, env map[string]string, program string, args ...string) (string, error) {
	argv := []string{"exec", "-u", user, "-w", home + "/sear/work"}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		argv = append(argv, "-e", k+"="+env[k])
	}
	argv = append(argv, c.name, "python3", "-c", program)
	return docker(ctx, nil, append(argv, args...)...)
}

// computeProgram is a job: Client() with no arguments, a task on each
// worker, a task on the first worker that needs both results (so the
// workers talk to each other), and a map.
const computeProgram = `import json, socket
from distributed import Client

with Client(timeout=30) as c:
    workers = sorted(c.scheduler_info()["workers"])
    hosts = c.run(socket.gethostname)
    parts = [c.submit(lambda i: (socket.gethostname(), list(range(i * 1000, (i + 1) * 1000))), i,
                      workers=[w], allow_other_workers=False, pure=False) for i, w in enumerate(workers)]
    total = c.submit(lambda ps: (socket.gethostname(), sum(sum(p[1]) for p in ps), [p[0] for p in ps]), parts,
                     workers=[workers[0]], allow_other_workers=False, pure=False)
    summed_on, s, made_on = total.result()
    squares = sum(c.gather(c.map(lambda x: x * x, range(100), pure=False)))
print(json.dumps({"workers": workers, "hosts": hosts, "made_on": made_on, "summed_on": summed_on, "sum": s, "squares": squares}))
`

// configProgram prints what dask.config makes of the environment.
const configProgram = `import json, dask.config, distributed
keys = ["scheduler-address", "distributed.comm.default-scheme", "distributed.comm.require-encryption",
        "distributed.comm.tls.ca-file", "distributed.comm.tls.client.cert", "distributed.comm.tls.client.key"]
print(json.dumps({k: dask.config.get(k, None) for k in keys}))
`

// clientProgram connects a Dask client to argv[1] with the CA, certificate
// and key in $CA, $CERT and $KEY, or with no TLS at all when $CA is unset,
// giving up after $TIMEOUT seconds (default 5).
const clientProgram = `import os, sys
from distributed import Client
from distributed.security import Security

kw = {}
if os.environ.get("CA"):
    kw = dict(tls_ca_file=os.environ["CA"], tls_client_cert=os.environ["CERT"], tls_client_key=os.environ["KEY"])
try:
    with Client(sys.argv[1], security=Security(require_encryption=bool(kw), **kw), timeout=int(os.environ.get("TIMEOUT", 5))) as c:
        print("accepted: %d workers" % len(c.scheduler_info()["workers"]))
except Exception as e:
    print("refused: %s: %s" % (type(e).__name__, e))
`

// rawTLSProgram makes a TLS connection to argv[1]:argv[2] that trusts $CA
// and presents $CERT and $KEY if set. Under TLS 1.3 a server's verdict on
// the client's certificate comes after the client's side of the handshake,
// so it also reads: a refusal arrives as an alert, acceptance as data or
// silence.
const rawTLSProgram = `import os, socket, ssl, sys

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.load_verify_locations(os.environ["CA"])
if os.environ.get("CERT"):
    ctx.load_cert_chain(os.environ["CERT"], os.environ["KEY"])
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5) as raw:
        with ctx.wrap_socket(raw) as s:
            s.settimeout(2)
            try:
                s.recv(1)
            except socket.timeout:
                pass
    print("accepted")
except (ssl.SSLError, OSError) as e:
    print("refused: %s: %s" % (type(e).__name__, e))
`

func TestDaskOnContainers(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cs := testCluster(t, ctx, 3)
	ck, err := keys.New(keys.Options{Nodes: 3, Lifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	other, err := keys.New(keys.Options{Nodes: 1, Lifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	tlsNodes, plainNodes := make([]Node, 3), make([]Node, 3)
	shells := make([]Shell, 3)
	for i, c := range cs {
		if err := ck.IssueNodeCert(i, []net.IP{net.ParseIP(c.ip)}, []string{c.name}); err != nil {
			t.Fatal(err)
		}
		files, err := tlsFiles(ctx, c, home+"/.sear/tls", ck.CAPEM(), ck.Nodes[i].CertPEM, ck.Nodes[i].KeyPEM)
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("c_factory_%d", i)
		if i == 0 {
			name = "c_orchestrator"
		}
		node := func(dir string, f TLSFiles) Node {
			return Node{Name: name, IP: c.ip, Dir: home + "/sear/" + dir, Work: home + "/sear/work",
				Env: map[string]string{"PYTHONPATH": home + "/sear/work"}, TLS: f}
		}
		tlsNodes[i], plainNodes[i] = node("engine", files), node("engine-plain", TLSFiles{})
		shells[i] = dockerShell(c.name, user)
	}
	if err := other.IssueNodeCert(0, []net.IP{net.ParseIP(cs[0].ip)}, nil); err != nil {
		t.Fatal(err)
	}
	var foreign TLSFiles
	for _, c := range []container{cs[0], cs[2]} {
		if foreign, err = tlsFiles(ctx, c, home+"/other", other.CAPEM(), other.Nodes[0].CertPEM, other.Nodes[0].KeyPEM); err != nil {
			t.Fatal(err)
		}
	}

	// Three engines at once on the same nodes, on different ports and
	// directories: one with TLS, one without (tls: false), and one where
	// a factory has another cluster's certificate.
	t.Run("engines", func(t *testing.T) {
		t.Run("foreign worker", func(t *testing.T) {
			t.Parallel()
			nodes := slices.Clone(tlsNodes)
			for i := range nodes {
				nodes[i].Dir = home + "/sear/engine-foreign"
			}
			nodes[2].TLS = foreign
			e := newEngine(t, Options{Kind: config.EngineDask, TLS: true, Nodes: nodes, Port: 8790})
			testForeignWorker(t, ctx, e, shells)
		})
		t.Run("tls", func(t *testing.T) {
			t.Parallel()
			e := newEngine(t, Options{Kind: config.EngineDask, TLS: true, Nodes: tlsNodes})
			testTLSCluster(t, ctx, e, cs, shells, foreign)
		})
		t.Run("plain", func(t *testing.T) {
			t.Parallel()
			e := newEngine(t, Options{Kind: config.EngineDask, TLS: false, Nodes: plainNodes, Port: 8788})
			testPlainCluster(t, ctx, e, cs, shells)
		})
	})

	// Both stopped: nothing of the user's runs any more.
	for _, c := range cs {
		out, err := docker(ctx, nil, "exec", c.name, "ps", "-u", user, "-o", "pid=,stat=,args=")
		if err != nil && out != "" {
			t.Fatal(err)
		}
		if strings.TrimSpace(out) != "" {
			t.Errorf("%s: still running after Stop:\n%s", c.name, out)
		}
	}
}

// startEngine starts e and stops it when the test ends, checking that a
// second Stop is harmless.
func startEngine(t *testing.T, ctx context.Context, e *Engine, shells []Shell) *Ready {
	t.Helper()
	t.Cleanup(func() {
		for range 2 {
			if err := e.Stop(context.Background(), shells); err != nil {
				t.Errorf("Stop: %v", err)
			}
		}
	})
	start := time.Now()
	ready, err := e.Start(ctx, shells)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s ready in %v: %+v", e.Address(), time.Since(start).Round(time.Millisecond), ready)
	return ready
}

// checkWorkers checks that every factory, and only the factories, runs a
// worker, listening on its private address with the scheme.
func checkWorkers(t *testing.T, ready *Ready, cs []container, scheme string) {
	t.Helper()
	var hosts []string
	for _, w := range ready.Workers {
		hosts = append(hosts, w.Host)
		if !strings.HasPrefix(w.Address, scheme+"://"+w.Host+":") {
			t.Errorf("worker %s listens at %s, want %s://%s:<port>", w.Name, w.Address, scheme, w.Host)
		}
	}
	slices.Sort(hosts)
	want := []string{cs[1].ip, cs[2].ip}
	slices.Sort(want)
	if !slices.Equal(hosts, want) {
		t.Errorf("workers on %v, want one on each factory %v", hosts, want)
	}
}

func testTLSCluster(t *testing.T, ctx context.Context, e *Engine, cs []container, shells []Shell, foreign TLSFiles) {
	ready := startEngine(t, ctx, e, shells)
	checkWorkers(t, ready, cs, "tls")
	orch, own := cs[0], e.opts.Nodes[0].TLS
	scheduler := hostPort(orch.ip, e.opts.Port)
	worker := strings.TrimPrefix(ready.Workers[0].Address, "tls://")
	t.Run("checks", func(t *testing.T) {
		t.Run("nothing listens outside TLS", func(t *testing.T) {
			t.Parallel()
			// The scheduler; a worker and its nanny.
			for i, c := range cs {
				checkListeners(t, ctx, c, e.opts.Nodes[i].Dir, min(i+1, 2))
			}
		})
		t.Run("a job computes on every worker", func(t *testing.T) {
			t.Parallel()
			out, err := python(ctx, orch, e.Env(0), computeProgram)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Workers      []string
				Hosts        map[string]string
				MadeOn       []string `json:"made_on"`
				SummedOn     string   `json:"summed_on"`
				Sum, Squares int
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			factories := []string{cs[1].name, cs[2].name}
			slices.Sort(got.MadeOn)
			if hosts := slices.Sorted(maps.Values(got.Hosts)); !slices.Equal(hosts, factories) || !slices.Equal(got.MadeOn, factories) {
				t.Errorf("workers ran on %v and tasks on %v, want %v", got.Hosts, got.MadeOn, factories)
			}
			if got.Sum != 1999000 || got.Squares != 328350 {
				t.Errorf("sum %d, squares %d: want 1999000, 328350", got.Sum, got.Squares)
			}
		})
		t.Run("a factory's job environment works too", func(t *testing.T) {
			t.Parallel()
			out, err := python(ctx, cs[2], e.Env(2), "from distributed import Client\nwith Client(timeout=30) as c: print(len(c.scheduler_info()['workers']))")
			if err != nil || out != "2" {
				t.Errorf("Client() on a factory saw %q workers, %v", out, err)
			}
		})
		t.Run("the job environment is Dask's configuration", func(t *testing.T) {
			t.Parallel()
			out, err := python(ctx, orch, e.Env(0), configProgram)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			want := map[string]any{
				"scheduler-address": "tls://" + scheduler, "distributed.comm.default-scheme": "tls",
				"distributed.comm.require-encryption": true, "distributed.comm.tls.ca-file": own.CA,
				"distributed.comm.tls.client.cert": own.Cert, "distributed.comm.tls.client.key": own.Key,
			}
			if !maps.Equal(got, want) {
				t.Errorf("dask.config from the job environment:\n got %v\nwant %v", got, want)
			}
		})
		foreignEnv := map[string]string{"CA": own.CA, "CERT": foreign.Cert, "KEY": foreign.Key}
		// Each refusal must be for its reason, not for a network that
		// refuses everything: the accepted cases are the controls.
		refusals := []struct {
			name, program string
			args          []string
			env           map[string]string
			want          string // what the output starts with or contains
		}{
			{"the cluster's certificate is accepted by the scheduler", rawTLSProgram, hostPortArgs(scheduler), certEnv(own), "accepted"},
			{"the cluster's certificate is accepted by a worker", rawTLSProgram, hostPortArgs(worker), certEnv(own), "accepted"},
			{"a Dask client with the cluster's certificate is accepted", clientProgram, []string{"tls://" + scheduler}, certEnv(own), "accepted: 2 workers"},
			{"no certificate is refused by the scheduler", rawTLSProgram, hostPortArgs(scheduler), map[string]string{"CA": own.CA}, "CERTIFICATE_REQUIRED"},
			{"no certificate is refused by a worker", rawTLSProgram, hostPortArgs(worker), map[string]string{"CA": own.CA}, "CERTIFICATE_REQUIRED"},
			{"another CA's certificate is refused by the scheduler", rawTLSProgram, hostPortArgs(scheduler), foreignEnv, "UNKNOWN_CA"},
			{"another CA's certificate is refused by a worker", rawTLSProgram, hostPortArgs(worker), foreignEnv, "UNKNOWN_CA"},
			{"a Dask client with another CA's certificate is refused", clientProgram, []string{"tls://" + scheduler}, foreignEnv, "refused"},
			{"plain TCP is refused", clientProgram, []string{"tcp://" + scheduler}, map[string]string{"TIMEOUT": "2"}, "refused"},
		}
		for _, r := range refusals {
			t.Run(r.name, func(t *testing.T) {
				t.Parallel()
				out, err := python(ctx, orch, r.env, r.program, r.args...)
				if err != nil {
					t.Fatal(err)
				}
				if accepted := strings.HasPrefix(out, "accepted"); accepted != strings.HasPrefix(r.want, "accepted") || !strings.Contains(out, r.want) {
					t.Errorf("got %q, want %q", out, r.want)
				}
			})
		}
	})
}

// checkListeners checks that no process of the user listens on all
// interfaces, and that every TCP port of the engine in dir outside loopback
// speaks TLS and demands a client certificate: a connection with none is
// refused for that reason. Ports on loopback are the HTTP servers that
// Dask runs even without a dashboard.
func checkListeners(t *testing.T, ctx context.Context, c container, dir string, want int) {
	t.Helper()
	// The pids in the process groups that the engine's pid files name.
	mine, err := docker(ctx, nil, "exec", "-u", user, c.name, "sh", "-c",
		`for g in $(cat "$1"/*.pid); do ps -e -o pid= -o pgid= | awk -v g="$g" '$2 == g { print $1 }'; done`, "sh", dir)
	if err != nil {
		t.Fatal(err)
	}
	pids := strings.Fields(mine)
	out, err := docker(ctx, nil, "exec", "-u", user, c.name, "ss", "--no-header", "--listening", "--tcp", "--numeric", "--processes")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.Contains(line, "users:") {
			continue // not the user's
		}
		host, port, err := net.SplitHostPort(f[3])
		if err != nil {
			t.Fatalf("ss: %q: %v", line, err)
		}
		if host != c.ip && host != "127.0.0.1" {
			t.Errorf("%s: %s listens on %s, not only on the node's address", c.name, f[5], f[3])
		}
		if host == "127.0.0.1" || !slices.ContainsFunc(pids, func(p string) bool { return strings.Contains(f[5], "pid="+p+",") }) {
			continue
		}
		n++
		got, err := python(ctx, c, map[string]string{"CA": home + "/.sear/tls/ca.pem"}, rawTLSProgram, host, port)
		if err != nil || !strings.Contains(got, "CERTIFICATE_REQUIRED") {
			t.Errorf("%s: %s (%s) without a client certificate: %s, %v", c.name, f[3], f[5], got, err)
		}
	}
	if n != want {
		t.Errorf("%s: the engine listens on %d ports outside loopback, want %d:\n%s", c.name, n, want, out)
	}
}

func hostPortArgs(addr string) []string {
	h, p, _ := net.SplitHostPort(addr)
	return []string{h, p}
}

func certEnv(f TLSFiles) map[string]string {
	return map[string]string{"CA": f.CA, "CERT": f.Cert, "KEY": f.Key}
}

// A worker whose certificate another CA signed is refused by the
// scheduler and exits; Start says which node and shows Dask's TLS error.
func testForeignWorker(t *testing.T, ctx context.Context, e *Engine, shells []Shell) {
	t.Cleanup(func() {
		if err := e.Stop(context.Background(), shells); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	_, err := e.Start(ctx, shells)
	if err == nil {
		t.Fatal("a worker with another CA's certificate joined")
	}
	for _, want := range []string{"the dask worker on c_factory_2 exited", "engine-foreign/worker.log", "TLS certificate does not match", "Nanny failed to start"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Start's error lacks %q:\n%v", want, err)
		}
	}
}

func testPlainCluster(t *testing.T, ctx context.Context, e *Engine, cs []container, shells []Shell) {
	ready := startEngine(t, ctx, e, shells)
	checkWorkers(t, ready, cs, "tcp")
	out, err := python(ctx, cs[0], e.Env(0), computeProgram)
	if err != nil || !strings.Contains(out, `"squares": 328350`) {
		t.Errorf("a job on the plain cluster: %s, %v", out, err)
	}
	// Without TLS anyone on the network gets in: the reason for the warning.
	out, err = python(ctx, cs[1], nil, clientProgram, "tcp://"+hostPort(cs[0].ip, e.opts.Port))
	if err != nil || !strings.HasPrefix(out, "accepted: 2 workers") {
		t.Errorf("a client without certificates on the plain cluster: %s, %v", out, err)
	}
}
