package runner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/testworld/world"
)

// The release end to end: scripts/release builds the image and pushes it to a registry (Debian's
// docker-registry, the CNCF distribution registry GHCR speaks the protocol of, on loopback),
// writes the release's action.yml naming it docker://REGISTRY/sear@sha256:..., and builds the
// command line's binaries. The local copy of the image is then removed, so that the job pulls it
// from the registry as a runner does, and the action runs from the release's action.yml as in
// the end-to-end tests of the Dockerfile's image: a pull request, and a cancellation.

const releaseVersion = "v0.0.0-test"

func TestRelease(t *testing.T) {
	t.Parallel()
	r := cutRelease(t, releaseVersion)

	t.Run("artifacts", func(t *testing.T) {
		checkReleaseArtifacts(t, r)
	})
	r.forget(t)
	// The two jobs pull the image each, as two jobs on fresh runners would.
	t.Run("pull_request", func(t *testing.T) {
		t.Parallel()
		j, w := releaseJob(t, r, world.Options{})
		assertPullRequestRun(t, j, w)
	})
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		j, w := releaseJob(t, r, world.Options{})
		assertCancelled(t, j, w)
	})
}

// checkReleaseArtifacts checks what scripts/release wrote: the action.yml (the source's with
// only runs.image changed, to the pushed digest), the binaries with the version in their
// -ldflags, SHA256SUMS that match them, and the release commit, a child of the source whose only
// change is action.yml.
func checkReleaseArtifacts(t *testing.T, r *release) {
	repo, digest, ok := strings.Cut(r.Ref, "@sha256:")
	if !ok || repo != r.Registry.Addr+"/sear" || len(digest) != 64 {
		t.Fatalf("scripts/release printed %q last; want %s/sear@sha256:<64 hex digits>", r.Ref, r.Registry.Addr)
	}
	m, err := ReadManifest(filepath.Join(r.Out, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Image != "docker://"+r.Ref {
		t.Errorf("the release's runs.image is %q, want docker://%s", m.Image, r.Ref)
	}
	source, err := ReadManifest(filepath.Join(r.Clone, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if source.Image != "Dockerfile" {
		t.Errorf("the source's runs.image is %q: the default branch must keep building from the Dockerfile", source.Image)
	}
	if m.Entrypoint != source.Entrypoint || m.PostEntrypoint != source.PostEntrypoint || len(m.Inputs) != len(source.Inputs) {
		t.Errorf("the release's action.yml differs from the source's beyond runs.image: %+v vs %+v", m, source)
	}
	if data, _ := os.ReadFile(filepath.Join(r.Out, "image")); strings.TrimSpace(string(data)) != r.Ref {
		t.Errorf("OUT/image is %q, want %q", data, r.Ref)
	}

	sums, err := os.ReadFile(filepath.Join(r.Out, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	// The release's date is its commit's, in UTC.
	unix, err := strconv.ParseInt(git(t, r.Clone, "show", "-s", "--format=%ct", r.Source), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	date := time.Unix(unix, 0).UTC().Format(time.RFC3339)
	want := map[string]bool{}
	for _, target := range []string{"linux-amd64", "linux-arm64", "darwin-amd64", "darwin-arm64"} {
		want["sear-"+releaseVersion+"-"+target] = true
	}
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok || !want[name] {
			t.Errorf("SHA256SUMS line %q: want HASH  sear-%s-OS-ARCH", line, releaseVersion)
			continue
		}
		delete(want, name)
		data, err := os.ReadFile(filepath.Join(r.Out, name))
		if err != nil {
			t.Fatal(err)
		}
		if h := sha256.Sum256(data); hex.EncodeToString(h[:]) != sum {
			t.Errorf("%s: SHA256SUMS says %s, the file's is %x", name, sum, h)
		}
		// -trimpath leaves -ldflags out of the build info (it may hold paths), so look for the
		// values themselves: -X stores each as a string constant in the binary.
		for _, x := range []string{releaseVersion, r.Source, date} {
			if !bytes.Contains(data, []byte(x)) {
				t.Errorf("%s does not hold %q: it was not built with -X ...internal/version=%s", name, x, x)
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("SHA256SUMS lacks %v:\n%s", want, sums)
	}
	host := filepath.Join(r.Out, "sear-"+releaseVersion+"-"+runtime.GOOS+"-"+runtime.GOARCH)
	if _, err := os.Stat(host); err != nil {
		t.Errorf("no binary for this machine: %v", err)
	}

	data, err := os.ReadFile(filepath.Join(r.Out, "release-commit"))
	if err != nil {
		t.Fatal(err)
	}
	commit := strings.TrimSpace(string(data))
	if parent := git(t, r.Clone, "rev-parse", commit+"^"); parent != r.Source {
		t.Errorf("the release commit's parent is %s, want the source %s", parent, r.Source)
	}
	if changed := git(t, r.Clone, "diff", "--name-only", r.Source, commit); changed != "action.yml" {
		t.Errorf("the release commit changes %q, want action.yml only", changed)
	}
	released := git(t, r.Clone, "show", commit+":action.yml")
	if out, _ := os.ReadFile(filepath.Join(r.Out, "action.yml")); released != strings.TrimSpace(string(out)) {
		t.Errorf("the release commit's action.yml is not OUT/action.yml")
	}
}

// BenchmarkJobStartToFirstAWSCall measures what a release saves a workflow: from the start of a
// job (the runner setting up the action's image) to the first AWS call, for the release's
// action.yml, whose image is pulled from the registry (every local name of it removed first, as
// on a fresh runner), and for the repository's, whose image is built from the Dockerfile with no
// build cache (docker build --no-cache, as on a fresh runner), side by side in each iteration.
// It reports both medians and their ratio.
//
//	go test ./internal/testworld/runner -run '^$' -bench JobStartToFirstAWSCall -benchtime 3x -timeout 90m
//
// The cold build starts from the stand-in Go image already in the engine and fetches modules from
// this machine's module cache on loopback: a runner also pulls golang:*-bookworm and downloads
// the modules from the proxy, so the build's figure here is a floor. The action step is
// BenchmarkFirstAWSCall's: the main entry point on examples/script, whose first call is STS's.
func BenchmarkJobStartToFirstAWSCall(b *testing.B) {
	ctx := context.Background()
	r := cutRelease(b, releaseVersion)
	n, err := CreateNetwork(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = n.Remove(context.Background()) })
	w := world.StartForTest(b, world.Options{ListenAlso: []netip.Addr{n.Gateway}})
	goRef, err := exec.Command(filepath.Join(r.Clone, "scripts", "action-image"), "--print-bases").Output()
	if err != nil {
		b.Fatalf("scripts/action-image --print-bases: %v", err)
	}
	proxy := moduleProxy(b, r.Clone)
	with := map[string]string{
		"runnable": "runnable.yaml", "cluster": "cluster.yaml",
		"aws-role-arn": w.Seed().RoleARN, "aws-region": world.DefaultRegion, "report": "summary",
	}
	// firstCall lays out a job on image, starts the action's main step and returns when the world
	// sees its first AWS call.
	firstCall := func(manifest, image string) time.Time {
		j, err := NewJob(ctx, JobOptions{Dir: b.TempDir(), World: w, Network: n, Image: image, Manifest: manifest})
		if err != nil {
			b.Fatal(err)
		}
		if err := os.CopyFS(j.Workspace, os.DirFS(filepath.Join(r.Clone, "examples", "script"))); err != nil {
			b.Fatal(err)
		}
		c, err := j.Start(ctx, Step{With: with}, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close(ctx)
		first, err := firstCallAfter(ctx, w, c)
		if err != nil {
			stdout, stderr := c.Output()
			b.Fatalf("%v\n%s%s", err, stdout, stderr)
		}
		return first
	}
	released, err := ReadManifest(filepath.Join(r.Out, "action.yml"))
	if err != nil {
		b.Fatal(err)
	}
	var pulled, built []time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		r.forget(b)
		b.StartTimer()
		start := time.Now()
		image, err := ActionImage(ctx, released, nil)
		if err != nil {
			b.Fatal(err)
		}
		pulled = append(pulled, firstCall(filepath.Join(r.Out, "action.yml"), image).Sub(start))

		tag := "sear-bench-dockerfile:" + strconv.Itoa(i) + "-" + randomHex(4)
		start = time.Now()
		build := exec.CommandContext(ctx, "docker", "build", "--no-cache", "--tag", tag,
			"--build-arg", "GO_IMAGE="+strings.TrimSpace(string(goRef)),
			"--network", "host", "--build-arg", "GOPROXY="+proxy,
			"--file", filepath.Join(r.Clone, "Dockerfile"), r.Clone)
		if out, err := build.CombinedOutput(); err != nil {
			b.Fatalf("docker build: %v\n%s", err, out)
		}
		built = append(built, firstCall(filepath.Join(r.Clone, "action.yml"), tag).Sub(start))
		b.StopTimer()
		if _, err := dockerCLI(ctx, nil, "rmi", tag); err != nil {
			b.Error(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	p, d := median(pulled)/1000, median(built)/1000
	b.ReportMetric(p, "s-prebuilt")
	b.ReportMetric(d, "s-dockerfile")
	b.ReportMetric(d/p, "x-faster")
	b.Logf("job start to the first AWS call: prebuilt image %v; Dockerfile, cold build %v", pulled, built)
}

// moduleProxy serves this machine's module cache (after go mod download in dir) as a GOPROXY on
// loopback, for a docker build on the host's network, as scripts/release --local-bases does.
func moduleProxy(t testing.TB, dir string) string {
	t.Helper()
	download := exec.Command("go", "mod", "download")
	download.Dir = dir
	if out, err := download.CombinedOutput(); err != nil {
		t.Fatalf("go mod download: %v\n%s", err, out)
	}
	cache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(filepath.Join(strings.TrimSpace(string(cache)), "cache", "download")))}
	go srv.Serve(ln)
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}
