package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/testworld/world"
)

// BenchmarkSignalToTerminate measures the real binary's reaction to the
// runner cancelling the job: from SIGINT to the first TerminateInstances
// EC2 receives (the emulator stamps each call as it arrives), while the
// 1 + 4 nodes are booting. signal-to-terminate-ms is the figure; ns/op is
// the whole iteration (a launch, the signal, the teardown).
func BenchmarkSignalToTerminate(b *testing.B) {
	binary(b)
	w := startWorld(b, false, world.Options{BootDelay: time.Hour})
	dir := killWorkspace(b, memoryCluster)
	var total time.Duration
	for i := 0; i < b.N; i++ {
		runID := fmt.Sprintf("%d-1", 9000+i)
		sear := startSear(b, runnerEnv(b, w, runID, ""), "run", "--runnable", dir+"/runnable.yaml",
			"--cluster", dir+"/cluster.yaml", "--workspace", dir, "--output-dir", b.TempDir(), "--aws-role-arn", world.RoleARN)
		// Every RunInstances answer is in: the terminate needs no lookup.
		until(b, sear, "the nodes launched", func() bool { return strings.Contains(sear.stdout.String(), "sear: launched 5 instances") })
		sent := sear.signal(b, syscall.SIGINT)
		var first time.Time
		until(b, sear, "a TerminateInstances", func() bool {
			for _, c := range w.EC2().Calls() {
				if c.Action == "TerminateInstances" && !c.Time.Before(sent) {
					first = c.Time
					return true
				}
			}
			return false
		})
		total += first.Sub(sent)
		if code := sear.wait(b); code != 1 {
			b.Fatalf("exit %d\n%s", code, sear.output())
		}
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "signal-to-terminate-ms/op")
}
