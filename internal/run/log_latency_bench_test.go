package run

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/cloud/local"
)

// BenchmarkLogLatency measures how long a line of the job's log takes from
// the node to the runner: the job prints its clock with every line (one
// every 20 ms), the runner notes its own when the line reaches the run's
// log. The container's clock is the runner's (one kernel), so the
// difference is the latency. It reports the median and the 95th and 99th
// percentiles over every line of every round (SEAR_BENCH_REPS rounds of
// 250 lines), on a container instance and on the local cluster.
//
//	go test ./internal/run -run '^$' -bench LogLatency -benchtime 1x
func BenchmarkLogLatency(b *testing.B) {
	b.Run("container", func(b *testing.B) {
		rig := newUploadRig(b, containerProvider(b), "!AWSCluster\nname: latency\nfactories_num: 0\nfactories_type: t3.small\norchestrator_type: t3.small\nready_timeout: 3m\n")
		measureLogLatency(b, rig)
	})
	b.Run("local", func(b *testing.B) {
		measureLogLatency(b, newUploadRig(b, local.New(), "!LocalCluster\nname: latency\n"))
	})
}

const latencyJob = `import time
for i in range(250):
    print("stamp", time.time_ns(), flush=True)
    time.sleep(0.02)
`

func measureLogLatency(b *testing.B, rig *uploadRig) {
	writeFile(b, rig.ws, "job.py", []byte(latencyJob), 0o644)
	rig.upload(b)
	arrivals := &stampedLines{}
	rig.st.opts.Log = arrivals
	var all, medians []time.Duration
	b.ResetTimer()
	for range benchReps(b) {
		arrivals.reset()
		if err := runJob(context.Background(), rig.st); err != nil {
			b.Fatal(err)
		}
		lat := arrivals.latencies(b)
		medians = append(medians, percentile(lat, 50))
		all = append(all, lat...)
	}
	b.StopTimer()
	med, p95, p99 := percentile(all, 50), percentile(all, 95), percentile(all, 99)
	b.ReportMetric(float64(med.Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(p95.Microseconds())/1000, "ms-p95")
	b.ReportMetric(float64(p99.Microseconds())/1000, "ms-p99")
	b.Logf("%d lines: median %s, p95 %s, p99 %s, max %s; round medians %v", len(all), med, p95, p99, percentile(all, 100), medians)
}

// percentile is the p-th percentile of d (nearest rank), d unsorted.
func percentile(d []time.Duration, p int) time.Duration {
	s := slices.Sorted(slices.Values(d))
	i := (len(s)*p + 99) / 100
	return s[max(i-1, 0)]
}

// stampedLines notes when each "stamp <ns>" line of the job reaches the
// run's log.
type stampedLines struct {
	mu      sync.Mutex
	partial []byte
	sent    []int64 // the node's clock, from the line
	arrived []int64 // this machine's, when the line came
}

func (s *stampedLines) Write(p []byte) (int, error) {
	now := time.Now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partial = append(s.partial, p...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(s.partial[:i])
		s.partial = s.partial[i+1:]
		if v, ok := strings.CutPrefix(line, "stamp "); ok {
			ns, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("stamp line %q: %w", line, err)
			}
			s.sent, s.arrived = append(s.sent, ns), append(s.arrived, now)
		}
	}
}

func (s *stampedLines) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partial, s.sent, s.arrived = nil, nil, nil
}

func (s *stampedLines) latencies(b *testing.B) []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sent) != 250 {
		b.Fatalf("%d stamped lines arrived, want 250", len(s.sent))
	}
	d := make([]time.Duration, len(s.sent))
	for i := range s.sent {
		d[i] = time.Duration(s.arrived[i] - s.sent[i])
	}
	return d
}
