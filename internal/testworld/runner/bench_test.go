package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/testworld/world"
)

// BenchmarkFirstAWSCall measures the action's image as a workflow meets it: from the runner's
// docker run to the first AWS call the world receives, and from the container's start (its
// State.StartedAt) to that call, which leaves out docker's own share. The container is killed
// once the call is seen. It reports the medians and the image's size.
//
//	go test ./internal/testworld/runner -run '^$' -bench FirstAWSCall -benchtime 10x
//
// Two ways in:
//   - action: the main entry point on examples/script's !AWSCluster, with the workflow's OIDC
//     token: the first call is STS's AssumeRoleWithWebIdentity.
//   - sweep: the image's binary itself, sear sweep --expired --dry-run with a static key from
//     the environment (the SDK's default chain): the first call is EC2's.
func BenchmarkFirstAWSCall(b *testing.B) {
	b.Run("action", func(b *testing.B) {
		j, w := newJob(b, world.Options{})
		if err := os.CopyFS(j.Workspace, os.DirFS(filepath.Join(repoRoot(b), "examples", "script"))); err != nil {
			b.Fatal(err)
		}
		benchmarkFirstCall(b, j, w, Step{With: map[string]string{
			"runnable": "runnable.yaml", "cluster": "cluster.yaml",
			"aws-role-arn": w.Seed().RoleARN, "aws-region": world.DefaultRegion,
			"report": "summary",
		}})
	})
	b.Run("sweep", func(b *testing.B) {
		key := &world.StaticCredentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
		j, w := newJob(b, world.Options{StaticCredentials: key})
		benchmarkFirstCall(b, j, w, Step{Entrypoint: "/usr/local/bin/sear", Args: []string{"sweep", "--expired", "--dry-run"}})
	})
}

func benchmarkFirstCall(b *testing.B, j *Job, w *world.World, s Step) {
	ctx := context.Background()
	size, err := dockerCLI(ctx, nil, "image", "inspect", "--format", "{{.Size}}", j.image)
	if err != nil {
		b.Fatal(err)
	}
	var firsts, inside []time.Duration
	b.ResetTimer()
	for range b.N {
		c, err := j.Start(ctx, s, nil)
		if err != nil {
			b.Fatal(err)
		}
		first, err := firstCallAfter(ctx, w, c)
		b.StopTimer()
		if err != nil {
			stdout, stderr := c.Output()
			_ = c.Close(ctx)
			b.Fatalf("%v\n%s%s", err, stdout, stderr)
		}
		firsts = append(firsts, first.Sub(c.Started()))
		// The container is still there: it is killed only now.
		out, err := dockerCLI(ctx, nil, "container", "inspect", "--format", "{{.State.StartedAt}}", c.Name)
		if err != nil {
			b.Fatal(err)
		}
		started, err := time.Parse(time.RFC3339Nano, out)
		if err != nil {
			b.Fatal(err)
		}
		inside = append(inside, first.Sub(started))
		if err := c.Close(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(median(firsts), "ms-run-to-call")
	b.ReportMetric(median(inside), "ms-start-to-call")
	mb, _ := strconv.ParseFloat(size, 64)
	b.ReportMetric(mb/1e6, "MB-image")
	b.Logf("docker run to the first AWS call: %v; container start to it: %v", firsts, inside)
}

// median is the middle duration, in milliseconds.
func median(d []time.Duration) float64 {
	slices.Sort(d)
	return float64(d[len(d)/2].Microseconds()) / 1000
}

// awsCalls are the times of every STS and EC2 call the world has answered.
func awsCalls(w *world.World) []time.Time {
	calls := w.State().Calls
	var times []time.Time
	for _, c := range calls.STS {
		times = append(times, c.Time)
	}
	for _, c := range calls.EC2 {
		times = append(times, c.Time)
	}
	return times
}

// firstCallAfter waits for the first AWS call since the container's docker run and returns its
// time. It fails if the container exits first, or after a minute.
func firstCallAfter(ctx context.Context, w *world.World, c *Container) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		var first time.Time
		for _, t := range awsCalls(w) {
			if t.After(c.Started()) && (first.IsZero() || t.Before(first)) {
				first = t
			}
		}
		if !first.IsZero() {
			return first, nil
		}
		select {
		case <-c.done:
			return time.Time{}, errors.New("the action exited before any AWS call")
		case <-ctx.Done():
			return time.Time{}, context.Cause(ctx)
		case <-tick.C:
		}
	}
}
