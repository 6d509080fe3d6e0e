package docker

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// bootTimeout bounds RunInstances to SSH on two busy cores.
const bootTimeout = 2 * time.Minute

// TestBootThroughEC2 launches instances with the SDK and reaches them as sear does: OpenSSH
// pinned to the host key from user data, at the address DescribeInstances gives, as ubuntu.
// User data plain and gzip'd.
func TestBootThroughEC2(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	for _, tc := range []struct {
		name string
		gzip bool
	}{{"plain user data", false}, {"gzip user data", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			host, client := newKeyPair(t), newKeyPair(t)
			userData := cloudConfig(t, host, client, map[string]any{
				"runcmd": []string{"echo from user data > /var/tmp/ran"},
			})
			if tc.gzip {
				userData = gzipped(t, userData)
			}
			id := w.launch(t, userData, "")
			inst := w.waitState(t, id, types.InstanceStateNameRunning, bootTimeout)
			addr := aws.ToString(inst.PrivateIpAddress)
			if got, ok := w.backend.Addr(id); !ok || got != addr {
				t.Fatalf("backend address %q (%v), DescribeInstances says %q", got, ok, addr)
			}
			if status := containerState(t, "sear-tw-"+id); status != "running" {
				t.Fatalf("container sear-tw-%s: %q, want running", id, status)
			}

			c := newSSHClient(t, client, addr, host.authorized)
			c.waitSSH(t, addr, bootTimeout)
			out, err := c.run(addr, "cloud-init status --wait >/dev/null; id -un; hostname; cat /var/lib/cloud/data/instance-id /var/tmp/ran")
			if err != nil {
				t.Fatal(err)
			}
			// EC2's private DNS name starts with the instance's hostname.
			want := strings.Join([]string{"ubuntu", hostname(netip.MustParseAddr(addr)), id, "from user data"}, "\n")
			if out != want || !strings.HasPrefix(aws.ToString(inst.PrivateDnsName), hostname(netip.MustParseAddr(addr))+".") {
				t.Errorf("on the instance: %q, want %q (private DNS name %q)", out, want, aws.ToString(inst.PrivateDnsName))
			}

			other := newSSHClient(t, client, addr, newKeyPair(t).authorized)
			if _, err := other.run(addr, "true"); !errors.Is(err, errHostKey) {
				t.Errorf("a client pinned to another host key: %v, want host key verification failed", err)
			}
		})
	}
}

// TestShutdownInInstance: an instance that powers itself off ends as EC2 says its
// InstanceInitiatedShutdownBehavior must, and its container goes; one that reboots keeps running.
// The first case waits for a real "shutdown -h +1" (sear's dead man's switch), about 70 s.
func TestShutdownInInstance(t *testing.T) {
	// go test runs GOMAXPROCS parallel tests at a time, and a test waiting for a slot waits
	// doing nothing: the instance that waits a minute is launched before t.Parallel, so that
	// its minute runs alongside the other tests whatever order they get their slots in.
	w := newWorld(t, nil)
	host, client := newKeyPair(t), newKeyPair(t)
	launched := time.Now()
	plusOne := w.launch(t, cloudConfig(t, host, client, map[string]any{"runcmd": []string{"shutdown -h +1"}}), types.ShutdownBehaviorTerminate)
	t.Parallel()

	t.Run("shutdown -h +1 with terminate", func(t *testing.T) {
		t.Parallel()
		id := plusOne
		inst := w.waitState(t, id, types.InstanceStateNameTerminated, 3*time.Minute)
		took := time.Since(launched)
		t.Logf("RunInstances to terminated: %v", took.Round(time.Millisecond))
		if took < time.Minute {
			t.Errorf("terminated %v after launch, before the minute shutdown -h +1 waits", took)
		}
		if code := aws.ToString(inst.StateReason.Code); code != "Client.InstanceInitiatedShutdown" {
			t.Errorf("state reason %q, want Client.InstanceInitiatedShutdown", code)
		}
		if status := containerState(t, "sear-tw-"+id); status != "" {
			t.Errorf("container of the terminated instance: %s, want removed", status)
		}
	})

	t.Run("poweroff with stop", func(t *testing.T) {
		t.Parallel()
		id := w.launch(t, cloudConfig(t, host, client, map[string]any{"runcmd": []string{"poweroff"}}), types.ShutdownBehaviorStop)
		inst := w.waitState(t, id, types.InstanceStateNameStopped, bootTimeout)
		if code := aws.ToString(inst.StateReason.Code); code != "Client.InstanceInitiatedShutdown" {
			t.Errorf("state reason %q, want Client.InstanceInitiatedShutdown", code)
		}
		if status := containerState(t, "sear-tw-"+id); status != "" {
			t.Errorf("container of the stopped instance: %s, want removed", status)
		}
	})

	t.Run("reboot", func(t *testing.T) {
		t.Parallel()
		// bootcmd runs at every boot, runcmd once per instance: two boots, then it stays up.
		id := w.launch(t, cloudConfig(t, host, client, map[string]any{
			"bootcmd": []string{"echo boot >> /var/tmp/boots"},
			"runcmd":  []string{"shutdown -r now"},
		}), types.ShutdownBehaviorTerminate)
		addr := aws.ToString(w.waitState(t, id, types.InstanceStateNameRunning, bootTimeout).PrivateIpAddress)
		c := newSSHClient(t, client, addr, host.authorized)
		deadline := time.Now().Add(bootTimeout)
		for {
			out, err := c.run(addr, "wc -l < /var/tmp/boots")
			if err == nil && out == "2" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("boots after shutdown -r now: %q, %v; want 2", out, err)
			}
			if state := w.describe(t, id).State.Name; state != types.InstanceStateNameRunning {
				t.Fatalf("during the reboot: %s, want running", state)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if state := w.describe(t, id).State.Name; state != types.InstanceStateNameRunning {
			t.Errorf("after a reboot: %s, want running", state)
		}
	})
}

// TestTerminateAndClose: TerminateInstances removes the container, its death is not reported as
// the instance powering off, and Close leaves nothing of the world, twice over.
func TestTerminateAndClose(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var exits []string
	w := newWorld(t, func(id string) {
		mu.Lock()
		defer mu.Unlock()
		exits = append(exits, id)
	})
	host, client := newKeyPair(t), newKeyPair(t)
	terminated := w.launch(t, cloudConfig(t, host, client, nil), "")
	poweroff := w.launch(t, cloudConfig(t, host, client, nil), types.ShutdownBehaviorTerminate)
	w.waitState(t, terminated, types.InstanceStateNameRunning, bootTimeout)
	w.waitState(t, poweroff, types.InstanceStateNameRunning, bootTimeout)

	if _, err := w.client.TerminateInstances(context.Background(), &awsec2.TerminateInstancesInput{InstanceIds: []string{terminated}}); err != nil {
		t.Fatal(err)
	}
	w.waitState(t, terminated, types.InstanceStateNameTerminated, time.Minute)
	if status := containerState(t, "sear-tw-"+terminated); status != "" {
		t.Fatalf("container of the terminated instance: %s, want removed", status)
	}
	// Docker reports deaths in order: once the second instance's is handled, the first one's
	// (docker rm --force) has been seen, and must not have been reported.
	if _, err := run(context.Background(), nil, "exec", "sear-tw-"+poweroff, "poweroff"); err != nil {
		t.Fatal(err)
	}
	w.waitState(t, poweroff, types.InstanceStateNameTerminated, time.Minute)
	mu.Lock()
	got := slices.Clone(exits)
	mu.Unlock()
	if !slices.Equal(got, []string{poweroff}) {
		t.Errorf("exits reported: %v, want only %s", got, poweroff)
	}

	running := w.launch(t, cloudConfig(t, host, client, nil), "")
	w.waitState(t, running, types.InstanceStateNameRunning, bootTimeout)
	ctx := context.Background()
	for i := range 2 {
		if err := w.backend.Close(ctx); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
		if left := labelled(t, w.backend.Label()); left != "" {
			t.Fatalf("after Close #%d: %s", i+1, left)
		}
	}
	if _, ok := w.backend.Addr(running); ok {
		t.Errorf("Addr(%s) after Close: still known", running)
	}
}

// TestCutRestore: a cut instance cannot be reached; restored, it is reached at the same address.
func TestCutRestore(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	host, client := newKeyPair(t), newKeyPair(t)
	id := w.launch(t, cloudConfig(t, host, client, nil), "")
	addr := aws.ToString(w.waitState(t, id, types.InstanceStateNameRunning, bootTimeout).PrivateIpAddress)
	c := newSSHClient(t, client, addr, host.authorized)
	c.waitSSH(t, addr, bootTimeout)

	ctx := context.Background()
	for range 2 { // the second is a no-op
		if err := w.backend.Cut(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := dial(addr); err == nil {
		t.Fatalf("TCP to %s:22 succeeded on a cut instance", addr)
	}
	for range 2 {
		if err := w.backend.Restore(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := w.backend.Addr(id); got != addr {
		t.Errorf("address after Restore: %s, want %s", got, addr)
	}
	if out, err := c.run(addr, "hostname"); err != nil || out != hostname(netip.MustParseAddr(addr)) {
		t.Errorf("ssh after Restore: %q, %v", out, err)
	}
	if err := w.backend.Cut(ctx, "i-0000000000000000"); err == nil {
		t.Error("Cut of an unknown instance succeeded")
	}
}

// TestAddresses: instances get the addresses of the subnet's lower half from the lowest, past
// the gateway (the upper half is the engine's), and EC2's hostnames for them.
func TestAddresses(t *testing.T) {
	b := &Backend{subnet: netip.MustParsePrefix("172.30.0.0/28"), used: map[netip.Addr]bool{}, network: "n"}
	var got []string
	for {
		a, err := b.allocate()
		if err != nil {
			break
		}
		got = append(got, a.String())
	}
	want := []string{"172.30.0.2", "172.30.0.3", "172.30.0.4", "172.30.0.5", "172.30.0.6", "172.30.0.7"}
	if !slices.Equal(got, want) {
		t.Errorf("allocated %v, want %v", got, want)
	}
	delete(b.used, netip.MustParseAddr("172.30.0.4"))
	if a, err := b.allocate(); err != nil || a.String() != "172.30.0.4" {
		t.Errorf("after freeing 172.30.0.4: %v, %v", a, err)
	}
	if h := hostname(netip.MustParseAddr("10.0.0.5")); h != "ip-10-0-0-5" {
		t.Errorf("hostname = %q", h)
	}
	for p, want := range map[string]string{"172.18.0.0/16": "172.18.128.0/17", "10.1.2.0/24": "10.1.2.128/25", "172.30.0.0/28": "172.30.0.8/29"} {
		if h := upperHalf(netip.MustParsePrefix(p)); h.String() != want {
			t.Errorf("upperHalf(%s) = %v, want %s", p, h, want)
		}
	}
}
