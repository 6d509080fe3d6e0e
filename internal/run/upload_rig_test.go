package run

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/awsauth"
	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/cloud/ec2"
	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/shell"
	"github.com/sear-ci/sear/internal/testworld/docker"
	"github.com/sear-ci/sear/internal/testworld/syncbuf"
	"github.com/sear-ci/sear/internal/testworld/world"
)

// wireCounter is a TCP proxy in front of a node's sshd that counts the
// bytes the runner sends through it: what an upload costs on the wire,
// SSH framing, encryption and every round trip included. It can also cut
// every connection through it at once, as a dropped link does.
type wireCounter struct {
	ln     net.Listener
	target string
	sent   atomic.Int64

	mu    sync.Mutex
	conns map[net.Conn]bool
	cuts  int
}

func newWireCounter(t testing.TB, target string) *wireCounter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w := &wireCounter{ln: ln, target: target}
	t.Cleanup(func() { ln.Close() })
	go w.serve()
	return w
}

func (w *wireCounter) serve() {
	for {
		c, err := w.ln.Accept()
		if err != nil {
			return
		}
		go w.relay(c)
	}
}

func (w *wireCounter) relay(c net.Conn) {
	defer c.Close()
	up, err := net.Dial("tcp", w.target)
	if err != nil {
		return
	}
	defer up.Close()
	w.track(c, up)
	defer w.untrack(c, up)
	go func() {
		io.Copy(c, up)
		c.Close()
	}()
	io.Copy(counted{up, &w.sent}, c)
}

func (w *wireCounter) track(cs ...net.Conn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conns == nil {
		w.conns = map[net.Conn]bool{}
	}
	for _, c := range cs {
		w.conns[c] = true
	}
}

func (w *wireCounter) untrack(cs ...net.Conn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range cs {
		delete(w.conns, c)
	}
}

// cut closes every connection through the proxy; new ones are accepted.
func (w *wireCounter) cut() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.conns) > 0 {
		w.cuts++
	}
	for c := range w.conns {
		c.Close()
	}
}

type counted struct {
	w io.Writer
	n *atomic.Int64
}

func (c counted) Write(p []byte) (int, error) {
	k, err := c.w.Write(p)
	c.n.Add(int64(k))
	return k, err
}

// uploadRig is a cluster brought up to the upload step, each node reached
// through a wireCounter.
type uploadRig struct {
	st       *state
	counters []*wireCounter
	ws       string
	log      *syncBuffer
}

// newUploadRig launches the cluster with the run's own steps, up to and
// including the trust step, then reconnects every node through a counter
// (after the trust step, which tells sshd the port it listens on).
func newUploadRig(t testing.TB, p cloud.Provider, clusterYAML string) *uploadRig {
	t.Helper()
	r, err := config.ParseRunnable("runnable.yaml", []byte("!Script\nscript: job\n"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.ParseCluster("cluster.yaml", []byte(clusterYAML))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	log := &syncBuffer{}
	rig := &uploadRig{ws: t.TempDir(), log: log}
	rig.st = &state{
		opts:   Options{Runnable: r, Cluster: c, Workspace: rig.ws, OutputDir: filepath.Join(rig.ws, "sear-output"), Provider: p, Log: log, Now: time.Now, RunID: "upload-" + fmt.Sprint(time.Now().UnixNano()), Repository: "sear-ci/demo"},
		result: &Result{}, interrupted: ctx,
	}
	st := rig.st
	for _, step := range []func(context.Context, *state) error{fetchExtensions, makeKeys, launch} {
		if err := step(ctx, st); err != nil {
			teardown(ctx, st)
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		disconnect(ctx, st)
		if err := teardown(ctx, st); err != nil {
			t.Error(err)
		}
	})
	for _, step := range []func(context.Context, *state) error{connect, establishTrust} {
		if err := step(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	for i, n := range st.nodes {
		w := newWireCounter(t, n.SSHAddr)
		st.nodes[i].SSHAddr = w.ln.Addr().String()
		rig.counters = append(rig.counters, w)
		if err := st.reconnect(ctx, st.nodes[i]); err != nil {
			t.Fatal(err)
		}
	}
	return rig
}

// upload runs the upload step and returns the bytes sent to each node.
func (r *uploadRig) upload(t testing.TB) []int64 {
	t.Helper()
	before := r.sent()
	if err := upload(context.Background(), r.st); err != nil {
		t.Fatalf("upload: %v\nlog:\n%s", err, r.log.String())
	}
	after := r.sent()
	for i := range after {
		after[i] -= before[i]
	}
	return after
}

func (r *uploadRig) sent() []int64 {
	var n []int64
	for _, c := range r.counters {
		n = append(n, c.sent.Load())
	}
	return n
}

// fileState is one file as the tests compare them.
type fileState struct {
	kind byte
	mode fs.FileMode
	body string
	link string
}

func (f fileState) String() string {
	if f.kind == 0 {
		return "missing"
	}
	body := f.body
	if len(body) > 40 {
		body = body[:40] + "…"
	}
	return fmt.Sprintf("%c %04o %q link %q", f.kind, f.mode, body, f.link)
}

// localTree is what the node should have: the workspace's files, as the
// run lists them, plus the runnable.
func (r *uploadRig) localTree(t *testing.T) map[string]fileState {
	t.Helper()
	names, err := workspaceFiles(r.ws, r.st.opts.OutputDir)
	if err != nil {
		t.Fatal(err)
	}
	tree := map[string]fileState{uploadedRunnable: {kind: 'f', mode: 0o644, body: string(r.st.runnable)}}
	for _, name := range names {
		p := filepath.Join(r.ws, name)
		info, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			link, _ := os.Readlink(p)
			tree[name] = fileState{kind: 'l', link: link}
		default:
			body, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			tree[name] = fileState{kind: 'f', mode: info.Mode().Perm(), body: string(body)}
		}
	}
	return tree
}

// nodeTree is what node rank has, read back with tar (remote.Download),
// independent of the survey the upload makes.
func (r *uploadRig) nodeTree(t *testing.T, rank int) map[string]fileState {
	t.Helper()
	var buf bytes.Buffer
	if err := r.st.conns[rank].Download(context.Background(), r.st.layout[rank].Work, []string{"."}, &buf); err != nil {
		t.Fatal(err)
	}
	tree := map[string]fileState{}
	tr := tar.NewReader(&buf)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return tree
		}
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(hdr.Name, "./")
		switch hdr.Typeflag {
		case tar.TypeReg:
			body, _ := io.ReadAll(tr)
			tree[name] = fileState{kind: 'f', mode: fs.FileMode(hdr.Mode).Perm(), body: string(body)}
		case tar.TypeSymlink:
			tree[name] = fileState{kind: 'l', link: hdr.Linkname}
		case tar.TypeDir:
			tree[strings.TrimSuffix(name, "/")+"/"] = fileState{kind: 'd'}
		}
	}
}

// changeTimes is each file's inode change time on node rank: a file the
// upload did not touch keeps it.
func (r *uploadRig) changeTimes(t *testing.T, rank int) map[string]string {
	t.Helper()
	out, err := r.st.conns[rank].Output(context.Background(), "cd "+shell.Quote(r.st.layout[rank].Work)+" && find . ! -type d -printf '%C@ %P\\0'")
	if err != nil {
		t.Fatal(err)
	}
	times := map[string]string{}
	for rec := range strings.SplitSeq(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		when, name, _ := strings.Cut(rec, " ")
		times[name] = when
	}
	return times
}

// checkSame fails unless every node has exactly the workspace: the same
// files, contents, permissions and links, and no directory beyond those
// the files need.
func (r *uploadRig) checkSame(t *testing.T) {
	t.Helper()
	want := r.localTree(t)
	dirs := map[string]bool{"./": true, "/": true}
	for name := range want {
		for d := filepath.Dir(name); d != "."; d = filepath.Dir(d) {
			dirs[d+"/"] = true
		}
	}
	for rank := range r.st.nodes {
		got := r.nodeTree(t, rank)
		for name, f := range got {
			if f.kind == 'd' {
				if !dirs[name] {
					t.Errorf("node %d: directory %s left behind", rank, name)
				}
				delete(got, name)
			}
		}
		if !maps.Equal(got, want) {
			for _, name := range slices.Sorted(maps.Keys(want)) {
				if g, ok := got[name]; !ok || g != want[name] {
					t.Errorf("node %d: %q = %v, want %v", rank, name, g, want[name])
				}
			}
			for name := range got {
				if _, ok := want[name]; !ok {
					t.Errorf("node %d: has %s, which the workspace does not", rank, name)
				}
			}
		}
	}
}

func writeFile(t testing.TB, root, name string, data []byte, mode fs.FileMode) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // WriteFile's mode goes through the umask
		t.Fatal(err)
	}
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// containerProvider is the EC2 provider pointed at a test world of its
// own, whose instances are containers; the world goes when the test ends.
func containerProvider(t testing.TB) cloud.Provider {
	t.Helper()
	ctx := context.Background()
	b, err := docker.New(ctx, docker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := world.Start(ctx, world.Options{Backend: b, BootDelay: 100 * time.Millisecond})
	if err != nil {
		b.Close(ctx)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	env := map[string]string{}
	for _, kv := range w.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	cfg, err := awsauth.Config(ctx, awsauth.Options{RoleARN: world.RoleARN, Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	return ec2.New(cfg, ec2.Options{CheckIPURL: env["SEAR_CHECKIP_URL"], Timing: ec2.Timing{Poll: 100 * time.Millisecond}})
}

// syncBuffer collects output that goroutines write while the test reads it.
type syncBuffer = syncbuf.Buffer
