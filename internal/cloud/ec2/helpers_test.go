package ec2

import (
	"bytes"
	"context"
	"crypto"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/crypto/ssh"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/keys"
	"github.com/sear-ci/sear/internal/testworld/fakeec2"
	"github.com/sear-ci/sear/internal/testworld/sigv4"
	ssmworld "github.com/sear-ci/sear/internal/testworld/ssm"
	"github.com/sear-ci/sear/internal/testworld/syncbuf"
)

const (
	testKey    = "AKIASEARPROVIDER0001"
	testSecret = "provider-test-secret"
	testRegion = "us-east-1"
	runnerIP   = "203.0.113.7"
)

// fast is the pacing of every test: polls and SDK backoffs of
// milliseconds, so waits cost little and the emulator's delays decide.
var fast = Timing{Poll: 5 * time.Millisecond, MaxPoll: 20 * time.Millisecond, RetryMaxBackoff: 10 * time.Millisecond}

// fixture is the emulated EC2 behind a loopback HTTP server that records
// every request, a checkip service, and switchable credentials.
type fixture struct {
	srv     *fakeec2.Server
	ssm     *ssmworld.Server // on the same endpoint, as in the test world
	http    *httptest.Server
	checkip *httptest.Server
	creds   *switchCreds
	log     *syncBuffer

	checkipHits atomic.Int32
	checkipBody atomic.Value // string

	mu       sync.Mutex
	requests []url.Values
	hook     func(w http.ResponseWriter, form url.Values) bool
}

func newFixture(t *testing.T, mods ...func(*fakeec2.Options)) *fixture {
	t.Helper()
	opts := fakeec2.Options{Region: testRegion, Credentials: sigv4.StaticSource{testKey: testSecret},
		BootDelay: 20 * time.Millisecond, TerminateDelay: 20 * time.Millisecond}
	for _, m := range mods {
		m(&opts)
	}
	f := &fixture{srv: fakeec2.New(opts), creds: &switchCreds{}, log: &syncBuffer{}}
	f.ssm = ssmworld.New(ssmworld.Options{Region: opts.Region, Credentials: opts.Credentials, Parameters: map[string]string{
		ssmworld.DLAMIParameter: fakeec2.DLAMIImageID, ssmworld.DLAMIArmParameter: fakeec2.DLAMIArmImageID}})
	f.checkipBody.Store(runnerIP + "\n")
	f.http = httptest.NewServer(http.HandlerFunc(f.serve))
	f.checkip = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		f.checkipHits.Add(1)
		io.WriteString(w, f.checkipBody.Load().(string))
	}))
	t.Cleanup(func() {
		f.http.Close()
		f.checkip.Close()
		f.srv.Close()
	})
	return f
}

// serve records the request's form, lets the hook answer it if it wants,
// and passes it on to the emulator.
func (f *fixture) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.Header.Get("X-Amz-Target"), ssmworld.Target) {
		f.ssm.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	f.mu.Lock()
	f.requests = append(f.requests, form)
	hook := f.hook
	f.mu.Unlock()
	if hook != nil && hook(w, form) {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	f.srv.ServeHTTP(w, r)
}

func (f *fixture) setHook(h func(w http.ResponseWriter, form url.Values) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hook = h
}

func (f *fixture) forms() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.requests...)
}

func (f *fixture) cfg() aws.Config {
	return aws.Config{Region: testRegion, Credentials: f.creds, HTTPClient: f.http.Client(), BaseEndpoint: aws.String(f.http.URL)}
}

func (f *fixture) provider() *Provider {
	return New(f.cfg(), Options{Timing: fast, Log: f.log, CheckIPURL: f.checkip.URL, HTTPClient: f.checkip.Client(), Creator: "tester"})
}

// switchCreds are the test key until broken, then a key EC2 does not
// know, as credentials that stopped working would be. (A changed secret
// under the same key id would go unnoticed: the SDK's signer caches the
// derived signing key by key id.)
type switchCreds struct{ broken atomic.Bool }

func (c *switchCreds) Retrieve(context.Context) (aws.Credentials, error) {
	id := testKey
	if c.broken.Load() {
		id = "AKIASEARBROKEN000001"
	}
	// They expire at once, so that a credential cache asks again for every
	// call and sees the switch.
	return aws.Credentials{AccessKeyID: id, SecretAccessKey: testSecret, Source: "test",
		CanExpire: true, Expires: time.Now().Add(time.Millisecond)}, nil
}

// syncBuffer collects output that goroutines write while the test reads it.
type syncBuffer = syncbuf.Buffer

// clusterYAML is a 1 + 4 cluster. Each extra "key: value" line replaces
// the line of that key, or is added.
func clusterYAML(extra ...string) string {
	lines := []string{
		"!AWSCluster",
		"name: exp",
		"factories_num: 4",
		"factories_type: t3.micro",
		"orchestrator_type: t3.small",
		"tags:",
		"  team: ml",
	}
	for _, e := range extra {
		key, _, _ := strings.Cut(e, ":")
		replaced := false
		for i, l := range lines {
			if strings.HasPrefix(l, key+":") {
				lines[i], replaced = e, true
			}
		}
		if !replaced {
			lines = append(lines, e)
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

func parseCluster(t *testing.T, yaml string) *config.Cluster {
	t.Helper()
	c, err := config.ParseCluster("cluster.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("cluster file: %v", err)
	}
	return c
}

// newSpec makes a spec with fresh keys, TLS leaves included, so that tests
// can look for every private key the cluster has.
func newSpec(t *testing.T, c *config.Cluster, runID string) cloud.Spec {
	t.Helper()
	kc, err := keys.New(keys.Options{Nodes: c.Nodes(), Lifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for rank := range kc.Nodes {
		if err := kc.IssueNodeCert(rank, []net.IP{net.IPv4(127, 0, 0, 1)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	return cloud.Spec{Cluster: c, Keys: kc, RunID: runID, Repository: "octo/repo",
		ExpiresAt: time.Now().Add(2 * time.Hour).Truncate(time.Second)}
}

// launch brings a cluster up and fails the test if it does not.
func launch(t *testing.T, p *Provider, spec cloud.Spec) []cloud.Node {
	t.Helper()
	nodes, err := p.Launch(context.Background(), spec)
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	return nodes
}

// teardown must succeed.
func teardown(t *testing.T, p *Provider) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Teardown(ctx); err != nil {
		t.Fatalf("Teardown: %v", err)
	}
}

// live returns the instances that are not terminated.
func live(st fakeec2.StateSnapshot) []fakeec2.InstanceState {
	var out []fakeec2.InstanceState
	for _, i := range st.Instances {
		if i.State != "terminated" {
			out = append(out, i)
		}
	}
	return out
}

// searGroups returns the security groups sear made that still exist.
func searGroups(st fakeec2.StateSnapshot) []fakeec2.SecurityGroupState {
	var out []fakeec2.SecurityGroupState
	for _, g := range st.SecurityGroups {
		if !g.Deleted && strings.HasPrefix(g.Name, "sear-") {
			out = append(out, g)
		}
	}
	return out
}

// assertClean fails unless nothing of sear's is left.
func assertClean(t *testing.T, f *fixture) {
	t.Helper()
	st := f.srv.State()
	if l := live(st); len(l) != 0 {
		t.Errorf("%d instances not terminated: %+v", len(l), l)
	}
	if g := searGroups(st); len(g) != 0 {
		t.Errorf("%d sear security groups left: %+v", len(g), g)
	}
}

// calls returns the emulator's calls of one action, DryRun ones apart.
func calls(f *fixture, action string, dryRun bool) []fakeec2.Call {
	var out []fakeec2.Call
	for _, c := range f.srv.Calls() {
		if c.Action == action && (c.Params["DryRun"] == "true") == dryRun {
			out = append(out, c)
		}
	}
	return out
}

// assertNothingCreated fails if anything that costs or lasts was created
// or even asked for.
func assertNothingCreated(t *testing.T, f *fixture) {
	t.Helper()
	st := f.srv.State()
	if len(st.Instances) != 0 || len(searGroups(st)) != 0 {
		t.Errorf("preflight failure left %d instances and %d groups", len(st.Instances), len(searGroups(st)))
	}
	for _, a := range []string{"RunInstances", "CreateSecurityGroup", "AuthorizeSecurityGroupIngress"} {
		if n := len(calls(f, a, false)); n != 0 {
			t.Errorf("%d %s calls before preflight passed", n, a)
		}
	}
}

// eventually polls cond for up to 5 seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ec2Error answers a request as EC2 answers a refused one.
func ec2Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>0f2c7d8e-aaaa-4bbb-8ccc-0123456789ab</RequestID></Response>`, code, msg)
}

// denyAction refuses every call of action as EC2 refuses a permission the
// role lacks.
func denyAction(action string) func(http.ResponseWriter, url.Values) bool {
	return func(w http.ResponseWriter, form url.Values) bool {
		if form.Get("Action") != action {
			return false
		}
		ec2Error(w, http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation. Encoded authorization failure message: c2VhciB0ZXN0")
		return true
	}
}

// keyNames names every private key of a cluster by its public half, in
// SSH wire form: the client and internal keys, each node's bootstrap host
// key and TLS key, and the CA's.
func keyNames(t *testing.T, kc *keys.Cluster) map[string]string {
	t.Helper()
	names := map[string]string{}
	add := func(name string, pub crypto.PublicKey) {
		k, err := ssh.NewPublicKey(pub)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		names[string(k.Marshal())] = name
	}
	add("client key", kc.Client.Private.Public())
	add("internal key", kc.Internal.Private.Public())
	add("CA key", kc.CA.Cert.PublicKey)
	for rank, n := range kc.Nodes {
		add(fmt.Sprintf("host key of node %d", rank), n.HostKey.Private.Public())
		if n.Cert != nil {
			add(fmt.Sprintf("TLS key of node %d", rank), n.Cert.PublicKey)
		}
	}
	return names
}

// privateKeysIn finds every PEM private key in text, indented or not (a
// YAML block scalar indents it), and names it by names; a key not in names
// is "unknown key". Comparing public halves finds a key whatever its
// encoding: OpenSSH's format is not byte-for-byte repeatable.
func privateKeysIn(t *testing.T, text string, names map[string]string) []string {
	t.Helper()
	var found []string
	for {
		begin := strings.Index(text, "-----BEGIN ")
		if begin < 0 {
			return found
		}
		rest := text[begin:]
		end := strings.Index(rest, "-----END ")
		if end < 0 {
			t.Errorf("unterminated PEM block: %.40q", rest)
			return append(found, "unterminated block")
		}
		close := end + len("-----END ") + strings.Index(rest[end+len("-----END "):], "-----") + len("-----")
		var lines []string
		for _, l := range strings.Split(rest[:close], "\n") {
			lines = append(lines, strings.TrimSpace(l))
		}
		text = rest[close:]
		if !strings.Contains(lines[0], "PRIVATE KEY") {
			continue
		}
		raw, err := ssh.ParseRawPrivateKey([]byte(strings.Join(lines, "\n") + "\n"))
		if err != nil {
			t.Errorf("a private key block that does not parse: %v", err)
			found = append(found, "unparseable key")
			continue
		}
		pub, err := ssh.NewPublicKey(raw.(crypto.Signer).Public())
		name := "unknown key"
		if err == nil && names[string(pub.Marshal())] != "" {
			name = names[string(pub.Marshal())]
		}
		found = append(found, name)
	}
}
