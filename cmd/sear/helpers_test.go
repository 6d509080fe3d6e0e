package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/testworld/docker"
	"github.com/sear-ci/sear/internal/testworld/syncbuf"
	"github.com/sear-ci/sear/internal/testworld/world"
)

// hangGuard bounds every wait of these tests. It is not a speed claim:
// a wait that reaches it means sear hung, and the test says where.
const hangGuard = 3 * time.Minute

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds the real sear once per test run, with the race detector
// when the tests have it, so a race in the signal path fails the test that
// meets it (a race-built program exits 66 and says DATA RACE).
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "sear-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "sear")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		// go test puts its own GOROOT/bin first in PATH, so this is the
		// toolchain the tests were built with.
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// syncBuffer collects output that goroutines write while the test reads it.
type syncBuffer = syncbuf.Buffer

// child is a sear process.
type child struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{} // closed when it has exited
	exitedAt       time.Time
	state          *os.ProcessState
}

// startSear runs the binary with exactly env: nothing of the test's own
// environment (an AWS profile, a real region) leaks into the child.
func startSear(t testing.TB, env []string, args ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(binary(t), args...), stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	c.cmd.Env, c.cmd.Stdout, c.cmd.Stderr = env, c.stdout, c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = c.cmd.Wait() // the status is in ProcessState
		c.exitedAt, c.state = time.Now(), c.cmd.ProcessState
		close(c.done)
	}()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill() // an error says it has exited already
		<-c.done
	})
	return c
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *child) signal(t testing.TB, sig syscall.Signal) time.Time {
	t.Helper()
	at := time.Now()
	if err := c.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("send %v: %v", sig, err)
	}
	return at
}

// wait returns the exit status, -1 for a process ended by a signal.
func (c *child) wait(t testing.TB) int {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(hangGuard):
		t.Fatalf("sear still running after %v\nstdout:\n%s\nstderr:\n%s", hangGuard, c.stdout, c.stderr)
	}
	if strings.Contains(c.stderr.String(), "DATA RACE") {
		t.Errorf("the race detector found a race in sear:\n%s", c.stderr)
	}
	return c.state.ExitCode()
}

func (c *child) output() string {
	return "stdout:\n" + c.stdout.String() + "\nstderr:\n" + c.stderr.String()
}

// until polls cond, the world's state or the child's output, until it
// holds. It fails if the child exits first or the hang guard is reached.
func until(t testing.TB, c *child, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for !cond() {
		switch {
		case c != nil && c.exited():
			t.Fatalf("sear exited (%v) before %s\n%s", c.state, what, c.output())
		case time.Now().After(deadline):
			msg := fmt.Sprintf("no %s after %v", what, hangGuard)
			if c != nil {
				msg += "\n" + c.output()
			}
			t.Fatal(msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startWorld starts a test world of its own for one test; with dockerized,
// its instances are containers, whose network is the world's too.
func startWorld(t testing.TB, dockerized bool, opts world.Options) *world.World {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if dockerized {
		b, err := docker.New(ctx, docker.Options{Log: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		opts.Backend = b
	}
	return world.StartForTest(t, opts)
}

// runnerEnv is what a workflow step in w would give sear: the world's
// variables, the run's id (GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT is runID), a
// home of its own, and EC2 reached at ec2URL (the world's, or a tap's).
func runnerEnv(t testing.TB, w *world.World, runID, ec2URL string) []string {
	t.Helper()
	id, attempt, _ := strings.Cut(runID, "-")
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "GITHUB_ACTOR=octocat",
		"GITHUB_RUN_ID=" + id, "GITHUB_RUN_ATTEMPT=" + attempt}
	for _, kv := range w.Env() {
		if strings.HasPrefix(kv, "AWS_ENDPOINT_URL_EC2=") && ec2URL != "" {
			kv = "AWS_ENDPOINT_URL_EC2=" + ec2URL
		}
		env = append(env, kv)
	}
	return env
}

// leftovers lists what of sear's still exists in w: instances not yet
// terminated and security groups not deleted (the VPC's default group is
// the world's own).
func leftovers(w *world.World) (instances, groups []string) {
	st := w.EC2().State()
	for _, i := range st.Instances {
		if i.State != "terminated" {
			instances = append(instances, i.ID+" ("+i.State+")")
		}
	}
	for _, g := range st.SecurityGroups {
		if !g.Deleted && g.Name != "default" {
			groups = append(groups, g.ID)
		}
	}
	return instances, groups
}

// tap stands between sear and the world's EC2 endpoint, passing calls on
// unchanged (the Host header too, which SigV4 signs), and can hold the
// calls of an action where the test wants a phase held open: holding a
// request keeps it in transit (if sear gives up on it meanwhile, EC2 never
// sees it); holding an answer lets EC2 act on the call at once while sear
// waits for the answer (if sear gives up meanwhile, the answer is lost, as
// on a cancelled call whose request had already reached AWS).
type tap struct {
	srv    *httptest.Server
	target string
	client *http.Client

	mu       sync.Mutex
	arrivals []arrival
	requests map[string]chan struct{} // action → closed to let held requests go on
	answers  map[string]chan struct{} // action → closed to let held answers go back
	held     map[string]int           // action → calls held now
	inflight int
	fates    map[string][]string // action → each held request's fate, in arrival order
}

// arrival is one call as it reached the tap.
type arrival struct {
	action string
	dryRun bool
	at     time.Time
}

func newTap(t testing.TB, target string) *tap {
	p := &tap{target: strings.TrimSuffix(target, "/"), client: &http.Client{},
		requests: map[string]chan struct{}{}, answers: map[string]chan struct{}{},
		held: map[string]int{}, fates: map[string][]string{}}
	p.srv = httptest.NewServer(p)
	t.Cleanup(func() {
		p.releaseAll()
		p.srv.Close()
	})
	return p
}

func (p *tap) URL() string { return p.srv.URL }

// holdRequests keeps the (non-DryRun) requests of action in transit until
// releaseRequests.
func (p *tap) holdRequests(action string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests[action] = make(chan struct{})
}

// holdAnswers passes the (non-DryRun) calls of action on to EC2 and keeps
// their answers until releaseAnswers.
func (p *tap) holdAnswers(action string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answers[action] = make(chan struct{})
}

func (p *tap) releaseRequests(action string) { p.release(p.requests, action) }
func (p *tap) releaseAnswers(action string)  { p.release(p.answers, action) }

func (p *tap) release(gates map[string]chan struct{}, action string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if g := gates[action]; g != nil {
		close(g)
		delete(gates, action)
	}
}

func (p *tap) releaseAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, gates := range []map[string]chan struct{}{p.requests, p.answers} {
		for a, g := range gates {
			close(g)
			delete(gates, a)
		}
	}
}

// heldNow is how many calls of action are held now.
func (p *tap) heldNow(action string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held[action]
}

// arrived counts the non-DryRun calls of action that reached the tap.
func (p *tap) arrived(action string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, a := range p.arrivals {
		if a.action == action && !a.dryRun {
			n++
		}
	}
	return n
}

// idle reports that no call is passing through.
func (p *tap) idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inflight == 0
}

// heldFates says, for each request of action that was held, in the order
// they arrived, whether it was "forwarded" to EC2 once let go or "dropped"
// because sear had given up on it.
func (p *tap) heldFates(action string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.fates[action]...)
}

func (p *tap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	action, dry := form.Get("Action"), form.Get("DryRun") == "true"
	p.mu.Lock()
	p.arrivals = append(p.arrivals, arrival{action, dry, time.Now()})
	p.inflight++
	reqGate, ansGate := p.requests[action], p.answers[action]
	if dry {
		reqGate, ansGate = nil, nil
	}
	fate := -1
	if reqGate != nil {
		fate = len(p.fates[action])
		p.fates[action] = append(p.fates[action], "held")
	}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.inflight--
		p.mu.Unlock()
	}()
	ctx := r.Context()
	if reqGate != nil {
		ok := p.wait(reqGate, action, ctx)
		p.mu.Lock()
		p.fates[action][fate] = map[bool]string{true: "forwarded", false: "dropped"}[ok]
		p.mu.Unlock()
		if !ok {
			return // the caller gave up: the request never reaches EC2
		}
	}
	if ansGate != nil {
		// EC2 has the request: it completes whatever the caller does.
		ctx = context.WithoutCancel(ctx)
	}
	status, header, answer, err := p.forward(ctx, r, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if ansGate != nil {
		p.wait(ansGate, action, nil)
	}
	for k, vs := range header {
		w.Header()[k] = vs
	}
	w.WriteHeader(status)
	w.Write(answer)
}

// wait blocks on gate, counting the call as held; it reports false if ctx
// (when given) ends first.
func (p *tap) wait(gate chan struct{}, action string, ctx context.Context) bool {
	p.mu.Lock()
	p.held[action]++
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.held[action]--
		p.mu.Unlock()
	}()
	var done <-chan struct{}
	if ctx != nil {
		done = ctx.Done()
	}
	select {
	case <-gate:
		return ctx == nil || ctx.Err() == nil
	case <-done:
		return false
	}
}

func (p *tap) forward(ctx context.Context, r *http.Request, body []byte) (int, http.Header, []byte, error) {
	out, err := http.NewRequestWithContext(ctx, r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	out.Header = r.Header.Clone()
	out.Host = r.Host // signed by SigV4
	resp, err := p.client.Do(out)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	resp.Header.Del("Content-Length")
	return resp.StatusCode, resp.Header, answer, err
}
