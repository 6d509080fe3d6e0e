package ec2

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/keys"
	"github.com/sear-ci/sear/internal/testworld/fakeec2"
	"github.com/sear-ci/sear/internal/testworld/sigv4"
)

// benchBootDelay is the emulated boot time the launch is measured over: the
// test world's container instance takes about 1.55 s from creation to SSH
// (BENCHMARKS.md, "Test-world instance: boot to SSH").
const benchBootDelay = 1500 * time.Millisecond

// BenchmarkLaunchOverhead measures what Launch adds to the boot itself:
// preflight, the security group, one RunInstances per node and the polls
// until every node runs, over an EC2 whose instances take benchBootDelay
// to boot and which answers at once. overhead-ms is launch time minus the
// boot delay. "production" paces DescribeInstances as sear does on AWS
// (first poll after 2 s, then half as long again each time); "fast" polls
// every few milliseconds, so what is left is sear's own work and the
// calls.
func BenchmarkLaunchOverhead(b *testing.B) {
	for _, pacing := range []struct {
		name string
		t    Timing
	}{{"production", Timing{}}, {"fast", fast}} {
		for _, nodes := range []int{1, 8, 32} {
			b.Run(fmt.Sprintf("pacing=%s/nodes=%d", pacing.name, nodes), func(b *testing.B) {
				benchLaunch(b, nodes, pacing.t)
			})
		}
	}
}

func benchLaunch(b *testing.B, nodes int, timing Timing) {
	srv := fakeec2.New(fakeec2.Options{Region: testRegion, Credentials: sigv4.StaticSource{testKey: testSecret},
		BootDelay: benchBootDelay})
	ec2 := httptest.NewServer(srv)
	checkip := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, runnerIP+"\n") }))
	b.Cleanup(func() {
		ec2.Close()
		checkip.Close()
		srv.Close()
	})
	cfg := aws.Config{Region: testRegion, HTTPClient: ec2.Client(), BaseEndpoint: aws.String(ec2.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret, Source: "bench"}, nil
		})}
	c, err := config.ParseCluster("cluster.yaml", []byte(clusterYAML(fmt.Sprintf("factories_num: %d", nodes-1))))
	if err != nil {
		b.Fatal(err)
	}
	var overhead time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		kc, err := keys.New(keys.Options{Nodes: nodes, Lifetime: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		p := New(cfg, Options{Timing: timing, CheckIPURL: checkip.URL, HTTPClient: checkip.Client()})
		spec := cloud.Spec{Cluster: c, Keys: kc, RunID: fmt.Sprintf("bench-%d", i), Repository: "octo/repo", ExpiresAt: time.Now().Add(time.Hour)}
		b.StartTimer()
		start := time.Now()
		got, err := p.Launch(context.Background(), spec)
		took := time.Since(start)
		b.StopTimer()
		if err != nil || len(got) != nodes {
			b.Fatalf("Launch: %d nodes, %v", len(got), err)
		}
		overhead += took - benchBootDelay
		// Terminated at once (no terminate delay), so the next launch
		// starts on an EC2 as empty as the first's.
		if err := p.Teardown(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(overhead.Milliseconds())/float64(b.N), "overhead-ms/op")
}
