package image

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"
)

// BenchmarkBootToSSH measures an emulated instance's boot as sear sees it: from docker create
// (with the seed copied in and the container started) to sshd accepting the client key with the
// pinned host key. It reports the median, and the image's size.
//
//	go test ./internal/testworld/image -run '^$' -bench BootToSSH -benchtime 5x
func BenchmarkBootToSSH(b *testing.B) {
	ref := testImage(b)
	network := newNetwork(b)
	size, err := docker(context.Background(), "image", "inspect", "--format", "{{.Size}}", ref)
	if err != nil {
		b.Fatal(err)
	}
	var boots []time.Duration
	b.ResetTimer()
	for range b.N {
		host, client := newKeyPair(b), newKeyPair(b)
		in := launch(b, ref, network, cloudConfig(b, hostKeyConfig(host, client)))
		c := newSSHClient(b, client, in.addr, host.authorized)
		boots = append(boots, c.waitSSH(b, in.addr, 90*time.Second).Sub(in.started))
		b.StopTimer()
		if _, err := docker(context.Background(), "rm", "--force", in.name); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	slices.Sort(boots)
	b.ReportMetric(float64(boots[len(boots)/2].Milliseconds()), "ms-median-boot")
	mb, _ := strconv.ParseFloat(size, 64)
	b.ReportMetric(mb/1e6, "MB-image")
	b.Logf("boots: %v", boots)
}
