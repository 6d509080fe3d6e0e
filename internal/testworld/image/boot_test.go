package image

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestBoot boots instances as sear does and checks what sear relies on: the host key from user
// data (and only it) is served, the client key logs in as ubuntu, sudo needs no password, and
// cloud-init ran the rest of the user data without an error. Both plain and gzip'd user data.
func TestBoot(t *testing.T) {
	t.Parallel()
	ref := testImage(t)
	network := newNetwork(t)
	for _, tc := range []struct {
		name string
		gzip bool
	}{{"plain", false}, {"gzip", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			host, client := newKeyPair(t), newKeyPair(t)
			cfg := hostKeyConfig(host, client)
			cfg["write_files"] = []map[string]any{{
				"path": "/etc/sear/written", "content": "from write_files\n", "permissions": "0640",
			}}
			cfg["runcmd"] = []any{
				"echo from runcmd > /var/tmp/runcmd",
				[]string{"sh", "-c", "id -un > /var/tmp/runcmd-user"},
				"grep SigIgn /proc/self/status > /var/tmp/runcmd-sigign",
			}
			userData := cloudConfig(t, cfg)
			if tc.gzip {
				userData = gzipped(t, userData)
			}
			in := launch(t, ref, network, userData)
			c := newSSHClient(t, client, in.addr, host.authorized)
			ready := c.waitSSH(t, in.addr, 90*time.Second)
			t.Logf("%s: docker create to SSH with the pinned key: %v", in.name, ready.Sub(in.started).Round(time.Millisecond))

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			for _, check := range []struct{ command, want string }{
				{"id -un", "ubuntu"},
				{"sudo -n true && echo sudo ok", "sudo ok"},
				{"hostname", ""},
				// Only the injected host key: cloud-init deleted the others and generated none.
				{"ls /etc/ssh/ssh_host_*", "/etc/ssh/ssh_host_ed25519_key\n/etc/ssh/ssh_host_ed25519_key.pub"},
				{"sudo cat /etc/ssh/ssh_host_ed25519_key.pub | cut -d' ' -f1,2", host.authorized},
				{"cloud-init status --wait >/dev/null; cloud-init status --long | grep -E '^(status|errors|detail)'", ""},
				{"sudo cat /etc/sear/written; stat -c %a /etc/sear/written", "from write_files\n640"},
				{"cat /var/tmp/runcmd /var/tmp/runcmd-user", "from runcmd\nroot"},
				// As under systemd, user data's commands do not start with signals ignored.
				{"cat /var/tmp/runcmd-sigign", "SigIgn:\t0000000000000000"},
				{"cat /var/lib/cloud/data/instance-id", in.id},
			} {
				out, _, err := c.run(ctx, "ubuntu", in.addr, check.command)
				if err != nil {
					t.Fatal(err)
				}
				out = strings.TrimSpace(out)
				switch check.command {
				case "hostname":
					if !strings.HasPrefix(out, "ip-") {
						t.Errorf("hostname = %q, want the meta-data's local-hostname", out)
					}
				case "cloud-init status --wait >/dev/null; cloud-init status --long | grep -E '^(status|errors|detail)'":
					if !strings.Contains(out, "status: done") || strings.Contains(out, "status: error") {
						t.Errorf("cloud-init status:\n%s", out)
					}
				default:
					if out != check.want {
						t.Errorf("%s: got %q, want %q", check.command, out, check.want)
					}
				}
			}

			// ssh-keyscan shows what sshd presents: exactly the injected key.
			scan, err := exec.CommandContext(ctx, "ssh-keyscan", "-t", "ed25519", in.addr).Output()
			if err != nil {
				t.Fatal("ssh-keyscan:", err)
			}
			if got := strings.TrimSpace(string(scan)); got != in.addr+" "+host.authorized {
				t.Errorf("ssh-keyscan = %q, want %q", got, in.addr+" "+host.authorized)
			}

			// A known_hosts with another key is refused.
			other := newSSHClient(t, client, in.addr, newKeyPair(t).authorized)
			_, stderr, err := other.run(ctx, "ubuntu", in.addr, "true")
			if !errors.Is(err, errHostKey) || !strings.Contains(stderr, "REMOTE HOST IDENTIFICATION HAS CHANGED") {
				t.Errorf("ssh with another pinned key: err %v, stderr %q; want host key verification failure", err, stderr)
			}
			// An unknown client key is refused too.
			stranger := newSSHClient(t, newKeyPair(t), in.addr, host.authorized)
			if _, _, err := stranger.run(ctx, "ubuntu", in.addr, "true"); err == nil || errors.Is(err, errHostKey) {
				t.Errorf("ssh with an unknown client key: %v, want permission denied", err)
			}
		})
	}
}

// TestBootWithoutSeed: an instance launched without user data still boots (cloud-init's None
// datasource) and serves host keys it generated, like an AMI launched without user data.
func TestBootWithoutSeed(t *testing.T) {
	t.Parallel()
	ref := testImage(t)
	network := newNetwork(t)
	in := launch(t, ref, network, nil)
	deadline := time.Now().Add(90 * time.Second)
	for {
		scan, err := exec.Command("ssh-keyscan", "-t", "ed25519", in.addr).Output()
		if err == nil && strings.Contains(string(scan), "ssh-ed25519 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no host key served within 90 s: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if status, _ := in.state(t); status != "running" {
		t.Errorf("container %s", status)
	}
}
