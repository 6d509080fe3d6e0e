package ec2

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sear-ci/sear/internal/awsauth"
	"github.com/sear-ci/sear/internal/testworld/servicequotas"
	"github.com/sear-ci/sear/internal/testworld/sigv4"
	"github.com/sear-ci/sear/internal/testworld/syncbuf"
	"github.com/sear-ci/sear/internal/testworld/world"
)

// quotaFixture is the EC2 fixture with the Service Quotas emulator on the
// same endpoint, as in the test world.
type quotaFixture struct {
	*fixture
	sq   *servicequotas.Server
	http *httptest.Server
}

func newQuotaFixture(t *testing.T, values map[string]float64) *quotaFixture {
	t.Helper()
	f := newFixture(t)
	v := map[string]float64{}
	for k, n := range servicequotas.DefaultValues {
		v[k] = n
	}
	for k, n := range values {
		v[k] = n
	}
	sq := servicequotas.New(servicequotas.Options{Region: testRegion, Credentials: sigv4.StaticSource{testKey: testSecret}, Values: v})
	hs := httptest.NewServer(sq.Alongside(f.http.Config.Handler))
	t.Cleanup(hs.Close)
	return &quotaFixture{fixture: f, sq: sq, http: hs}
}

func (q *quotaFixture) provider() *Provider {
	cfg := q.cfg()
	cfg.BaseEndpoint, cfg.HTTPClient = aws.String(q.http.URL), q.http.Client()
	return New(cfg, Options{Timing: fast, Log: q.log, CheckIPURL: q.checkip.URL, HTTPClient: q.checkip.Client(), Creator: "tester"})
}

// gpuCluster is a 1 + 4 cluster with check_quotas: a t3.small
// orchestrator (2 vCPUs, Standard) and four g5.xlarge factories (4 vCPUs
// each, G and VT).
func gpuCluster(extra ...string) string {
	return clusterYAML(append([]string{"factories_type: g5.xlarge", "check_quotas: true"}, extra...)...)
}

// runInstances are every RunInstances the emulator answered, DryRun ones
// included.
func runInstances(f *fixture) int {
	return len(calls(f, "RunInstances", false)) + len(calls(f, "RunInstances", true))
}

// TestQuotaClass: each family's vCPU quota, by the letters before its
// generation.
func TestQuotaClass(t *testing.T) {
	t.Parallel()
	for itype, want := range map[string]string{
		"t3.micro": "Standard", "m5.large": "Standard", "i4i.large": "Standard", "im4gn.large": "Standard", "z1d.large": "Standard",
		"g5.xlarge": "G", "g4dn.xlarge": "G", "gr6.4xlarge": "G", "vt1.3xlarge": "G", "p4d.24xlarge": "P", "p5.48xlarge": "P",
		"f1.2xlarge": "F", "inf2.xlarge": "Inf", "x2idn.16xlarge": "X", "dl1.24xlarge": "DL", "trn1.2xlarge": "Trn",
		"u-6tb1.metal": "", "hpc7a.96xlarge": "", "mac2.metal": "", "nonsense": "",
	} {
		if got := quotaClass(itype); got != want {
			t.Errorf("quotaClass(%q) = %q, want %q", itype, got, want)
		}
	}
	if q, _ := quotaFor("g5.xlarge", true); q.code != servicequotas.SpotG {
		t.Errorf("g5.xlarge on spot counts against %v", q)
	}
}

// TestQuotaTooLow: a cluster that needs more vCPUs than its quota holds is
// refused in preflight, before any RunInstances (DryRun included), with
// the quota's exact name and code, the ask, the limit and the increase
// link; the quota it fits is not named.
func TestQuotaTooLow(t *testing.T) {
	t.Parallel()
	f := newQuotaFixture(t, map[string]float64{servicequotas.OnDemandG: 8})
	_, err := f.provider().Launch(context.Background(), newSpec(t, parseCluster(t, gpuCluster()), "run-1"))
	if err == nil {
		t.Fatal("Launch succeeded with 16 vCPUs of g5.xlarge asked of a quota of 8")
	}
	for _, w := range []string{`"Running On-Demand G and VT instances" (L-DB2E81BA)`, "is 8 vCPUs, 0 are in use, and the cluster asks 16 more (4 × g5.xlarge)",
		"https://console.aws.amazon.com/servicequotas/home/services/ec2/quotas/L-DB2E81BA", "us-east-1", "factories_num"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
	if strings.Contains(err.Error(), "L-1216C47A") {
		t.Errorf("the Standard quota holds the orchestrator, yet the error names it: %v", err)
	}
	if n := runInstances(f.fixture); n != 0 {
		t.Errorf("%d RunInstances calls before the quota refused the launch", n)
	}
	assertNothingCreated(t, f.fixture)
	got := map[string]bool{}
	for _, c := range f.sq.Calls() {
		got[c.QuotaCode] = true
	}
	if !got[servicequotas.OnDemandG] || !got[servicequotas.OnDemandStandard] || len(got) != 2 {
		t.Errorf("Service Quotas was asked for %v, want the G and Standard on-demand quotas", got)
	}
}

// TestQuotaCountsRunningInstances: the vCPUs of what already runs in the
// region count: a quota that holds one cluster refuses the second.
func TestQuotaCountsRunningInstances(t *testing.T) {
	t.Parallel()
	f := newQuotaFixture(t, map[string]float64{servicequotas.OnDemandG: 24})
	first := f.provider()
	launch(t, first, newSpec(t, parseCluster(t, gpuCluster()), "run-1"))
	_, err := f.provider().Launch(context.Background(), newSpec(t, parseCluster(t, gpuCluster("name: second")), "run-2"))
	if err == nil || !strings.Contains(err.Error(), "is 24 vCPUs, 16 are in use, and the cluster asks 16 more") {
		t.Errorf("second cluster: %v, want a refusal counting the first's 16 vCPUs", err)
	}
	teardown(t, first)
	assertClean(t, f.fixture)
}

// TestQuotaEnough: a cluster within its quotas launches, and the check
// asked only the quotas its types count against.
func TestQuotaEnough(t *testing.T) {
	t.Parallel()
	f := newQuotaFixture(t, map[string]float64{servicequotas.OnDemandG: 16})
	p := f.provider()
	launch(t, p, newSpec(t, parseCluster(t, gpuCluster()), "run-1"))
	if n := len(f.sq.Calls()); n != 2 {
		t.Errorf("%d GetServiceQuota calls, want 2 (G and Standard): %+v", n, f.sq.Calls())
	}
	if strings.Contains(f.log.String(), "warning") {
		t.Errorf("a launch within its quotas warned:\n%s", f.log.String())
	}
	teardown(t, p)
	assertClean(t, f.fixture)
}

// TestQuotaNotChecked: without check_quotas, Service Quotas is not asked,
// whatever the quota; with it but AccessDeniedException from
// GetServiceQuota, the launch goes ahead after a warning naming the
// permission.
func TestQuotaNotChecked(t *testing.T) {
	t.Parallel()
	t.Run("check_quotas off", func(t *testing.T) {
		t.Parallel()
		f := newQuotaFixture(t, map[string]float64{servicequotas.OnDemandG: 0})
		p := f.provider()
		launch(t, p, newSpec(t, parseCluster(t, clusterYAML("factories_type: g5.xlarge")), "run-1"))
		if n := len(f.sq.Calls()); n != 0 {
			t.Errorf("%d GetServiceQuota calls without check_quotas", n)
		}
		teardown(t, p)
	})
	t.Run("access denied", func(t *testing.T) {
		t.Parallel()
		f := newQuotaFixture(t, map[string]float64{servicequotas.OnDemandG: 0})
		f.sq.SetAccessDenied(true)
		p := f.provider()
		launch(t, p, newSpec(t, parseCluster(t, gpuCluster()), "run-1"))
		if log := f.log.String(); !strings.Contains(log, "warning: check_quotas: the AWS role may not call servicequotas:GetServiceQuota") {
			t.Errorf("no warning naming the permission:\n%s", log)
		}
		if n := len(f.sq.Calls()); n != 1 {
			t.Errorf("%d GetServiceQuota calls, want 1: a refusal stops the check", n)
		}
		teardown(t, p)
		assertClean(t, f.fixture)
	})
}

// TestQuotaWithoutDescribeInstances: a role that may not list the
// region's instances gets its ask compared with the quota alone, and is
// told so.
func TestQuotaWithoutDescribeInstances(t *testing.T) {
	t.Parallel()
	f := newQuotaFixture(t, map[string]float64{servicequotas.OnDemandG: 8})
	f.setHook(denyAction("DescribeInstances"))
	err := f.provider().Preflight(context.Background(), newSpec(t, parseCluster(t, gpuCluster()), "run-1"))
	if err == nil || !strings.Contains(err.Error(), "L-DB2E81BA") {
		t.Errorf("Preflight: %v, want the G quota's refusal", err)
	}
	if log := f.log.String(); !strings.Contains(log, "comparing the cluster's vCPUs with the quotas alone") {
		t.Errorf("no warning that running instances are not counted:\n%s", log)
	}
}

// TestQuotaSpot: a spot cluster is checked against the spot quotas; when
// one is short but the on-demand quotas hold the cluster, it launches
// (the failover's second pass goes on demand) after a warning; when both
// are short, both are named.
func TestQuotaSpot(t *testing.T) {
	t.Parallel()
	t.Run("on demand holds it", func(t *testing.T) {
		t.Parallel()
		f := newQuotaFixture(t, map[string]float64{servicequotas.SpotG: 0})
		p := f.provider()
		launch(t, p, newSpec(t, parseCluster(t, gpuCluster("spot: true")), "run-1"))
		if log := f.log.String(); !strings.Contains(log, `spot: the quota "All G and VT Spot Instance Requests" (L-3819A6DF)`) ||
			!strings.Contains(log, "launch on demand") {
			t.Errorf("no warning about the spot quota:\n%s", log)
		}
		teardown(t, p)
		assertClean(t, f.fixture)
	})
	t.Run("both short", func(t *testing.T) {
		t.Parallel()
		f := newQuotaFixture(t, map[string]float64{servicequotas.SpotG: 4, servicequotas.OnDemandG: 4})
		_, err := f.provider().Launch(context.Background(), newSpec(t, parseCluster(t, gpuCluster("spot: true")), "run-1"))
		if err == nil || !strings.Contains(err.Error(), servicequotas.SpotG) || !strings.Contains(err.Error(), servicequotas.OnDemandG) {
			t.Errorf("Launch: %v, want a refusal naming both G quotas", err)
		}
		if n := runInstances(f.fixture); n != 0 {
			t.Errorf("%d RunInstances calls", n)
		}
	})
}

// TestVcpuLimitExceededAdvice: a VcpuLimitExceeded from RunInstances (a
// quota the check did not see, or check_quotas off) names the quota and
// its increase link too.
func TestVcpuLimitExceededAdvice(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.setHook(func(w http.ResponseWriter, form url.Values) bool {
		if form.Get("Action") == "RunInstances" && form.Get("DryRun") != "true" && form.Get("InstanceType") == "g5.xlarge" {
			ec2Error(w, 400, "VcpuLimitExceeded", "You have requested more vCPU capacity than your current vCPU limit of 8 allows for the instance bucket that the specified instance type belongs to.")
			return true
		}
		return false
	})
	p := f.provider()
	_, err := p.Launch(context.Background(), newSpec(t, parseCluster(t, clusterYAML("factories_type: g5.xlarge")), "run-1"))
	want := `ask for more of "Running On-Demand G and VT instances" (L-DB2E81BA) at https://console.aws.amazon.com/servicequotas/home/services/ec2/quotas/L-DB2E81BA`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Launch: %v, want %q", err, want)
	}
	teardown(t, p)
	assertClean(t, f)
}

// TestQuotaInTheWorld: sear's own configuration (awsauth, from the world's
// environment only: the role, AWS_ENDPOINT_URL_SERVICE_QUOTAS) reaches the
// world's Service Quotas on EC2's listener with the role's session. A
// quota set low through the world refuses the launch with no RunInstances
// in EC2's call log; denied, the launch goes ahead with a warning; raised,
// it launches.
func TestQuotaInTheWorld(t *testing.T) {
	t.Parallel()
	w := world.StartForTest(t, world.Options{})
	env := map[string]string{}
	for _, kv := range w.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	ctx := context.Background()
	cfg, err := awsauth.Config(ctx, awsauth.Options{RoleARN: env["SEAR_TESTWORLD_ROLE_ARN"], Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	log := &syncbuf.Buffer{}
	attempt := func(runID string) error {
		p := New(cfg, Options{Timing: fast, Log: log, CheckIPURL: env["SEAR_CHECKIP_URL"], Creator: "tester"})
		_, err := p.Launch(ctx, newSpec(t, parseCluster(t, gpuCluster("name: "+runID)), runID))
		if terr := p.Teardown(ctx); terr != nil {
			t.Errorf("Teardown %s: %v", runID, terr)
		}
		return err
	}
	set := func(q world.Quotas) {
		if err := w.SetQuotas(q); err != nil {
			t.Fatal(err)
		}
	}
	runs := func() (n int) {
		for _, c := range w.State().Calls.EC2 {
			if c.Action == "RunInstances" {
				n++
			}
		}
		return n
	}

	set(world.Quotas{Values: map[string]float64{servicequotas.OnDemandG: 8}})
	if err := attempt("low"); err == nil || !strings.Contains(err.Error(), "(L-DB2E81BA) in us-east-1 is 8 vCPUs") {
		t.Fatalf("Launch with 8 vCPUs of G quota: %v, want the quota's refusal", err)
	}
	if n := runs(); n != 0 {
		t.Errorf("EC2 answered %d RunInstances before the quota refused the launch", n)
	}
	calls := w.State().Calls.ServiceQuotas
	if len(calls) == 0 || calls[0].Status != 200 || !strings.HasPrefix(calls[0].AccessKeyID, "ASIA") {
		t.Errorf("Service Quotas saw %+v, want calls signed with the role's session", calls)
	}

	denied := true
	set(world.Quotas{AccessDenied: &denied})
	if err := attempt("denied"); err != nil {
		t.Errorf("Launch with GetServiceQuota denied: %v", err)
	}
	if !strings.Contains(log.String(), "assumed-role/sear-test/") {
		t.Errorf("the warning does not carry the refusal naming the role:\n%s", log.String())
	}

	denied = false
	set(world.Quotas{Values: map[string]float64{servicequotas.OnDemandG: 16}, AccessDenied: &denied})
	if err := attempt("enough"); err != nil {
		t.Errorf("Launch within the quota: %v", err)
	}
}
