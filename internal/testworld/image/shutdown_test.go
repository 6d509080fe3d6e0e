package image

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestShutdownEndsTheContainer: every way an instance powers itself off ends its container at
// once, with a status that tells the emulator what happened.
func TestShutdownEndsTheContainer(t *testing.T) {
	t.Parallel()
	ref := testImage(t)
	network := newNetwork(t)
	for _, tc := range []struct {
		name string
		cfg  map[string]any
		want int
	}{
		{"runcmd shutdown -h now", map[string]any{"runcmd": []string{"shutdown -h now"}}, ExitPoweroff},
		{"runcmd poweroff", map[string]any{"runcmd": []string{"poweroff"}}, ExitPoweroff},
		{"runcmd halt", map[string]any{"runcmd": []string{"halt"}}, ExitHalt},
		{"runcmd shutdown -r now", map[string]any{"runcmd": []string{"shutdown -r now"}}, ExitReboot},
		{"runcmd sudo from the default user", map[string]any{"runcmd": []string{"su ubuntu -c 'sudo -n shutdown -hP now'"}}, ExitPoweroff},
		{"power_state poweroff", map[string]any{"power_state": map[string]any{"mode": "poweroff", "delay": "now", "message": "bye"}}, ExitPoweroff},
		{"power_state reboot", map[string]any{"power_state": map[string]any{"mode": "reboot"}}, ExitReboot},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := launch(t, ref, network, cloudConfig(t, tc.cfg))
			code := in.waitExit(t, 90*time.Second)
			t.Logf("%s: exited with %d after %v", tc.name, code, time.Since(in.started).Round(time.Millisecond))
			if code != tc.want {
				t.Errorf("exit status %d, want %d", code, tc.want)
			}
			if code == ExitReboot {
				// Rebooting is starting the same container again: same disk, same instance-id,
				// so cloud-init does not run the per-instance user data (and reboot) again.
				if _, err := docker(context.Background(), "start", in.name); err != nil {
					t.Fatal(err)
				}
				waitFor(t, 60*time.Second, func() bool {
					out, _ := in.exec(t, "cloud-init", "status")
					return strings.Contains(out, "status: done")
				})
				if status, _ := in.state(t); status != "running" {
					t.Errorf("after the reboot: %s, want running", status)
				}
				if boots, _ := in.exec(t, "sh", "-c", "ls /var/lib/cloud/instances"); boots != in.id {
					t.Errorf("instances after the reboot: %q, want only %s", boots, in.id)
				}
			}
		})
	}
	t.Run("docker stop", func(t *testing.T) {
		t.Parallel()
		in := launch(t, ref, network, cloudConfig(t, map[string]any{}))
		waitFor(t, 60*time.Second, func() bool {
			out, _ := in.exec(t, "cloud-init", "status")
			return strings.Contains(out, "status: done")
		})
		start := time.Now()
		// docker stop sends SIGTERM, then SIGKILL (status 137) after 10 s.
		if _, err := docker(context.Background(), "stop", in.name); err != nil {
			t.Fatal(err)
		}
		if _, code := in.state(t); code != ExitPoweroff || time.Since(start) > 8*time.Second {
			t.Errorf("docker stop: status %d after %v, want %d at once", code, time.Since(start), ExitPoweroff)
		}
	})
}

func waitFor(t testing.TB, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not done within %v", timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pending reads the scheduled shutdown: action and time.
func pending(t testing.TB, in *instance) (action string, when int64, ok bool) {
	t.Helper()
	out, err := in.exec(t, "cat", "/run/sear-shutdown/scheduled")
	if err != nil {
		return "", 0, false
	}
	f := strings.Fields(out)
	if len(f) != 3 {
		t.Fatalf("scheduled: %q", out)
	}
	when, err = strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f[1], when, true
}

// TestShutdownSchedule checks the shutdown command's time and option parsing, replacing and
// cancelling, on a running instance, without waiting for any of it.
func TestShutdownSchedule(t *testing.T) {
	t.Parallel()
	ref := testImage(t)
	network := newNetwork(t)
	in := launch(t, ref, network, cloudConfig(t, map[string]any{}))
	waitFor(t, 60*time.Second, func() bool {
		out, _ := in.exec(t, "cloud-init", "status")
		return strings.Contains(out, "status: done")
	})

	now := func() int64 {
		out, err := in.exec(t, "date", "+%s")
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.ParseInt(out, 10, 64)
		return n
	}
	clock := func(offset time.Duration) (hhmm string, when int64) {
		out, err := in.exec(t, "date", "-d", fmt.Sprintf("@%d", now()+int64(offset/time.Second)), "+%H:%M %s")
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(out)
		when, _ = strconv.ParseInt(f[1], 10, 64)
		return f[0], when - when%60
	}
	exists := func(path string) bool {
		_, err := in.exec(t, "test", "-e", path)
		return err == nil
	}
	waiterAlive := func() bool {
		_, err := in.exec(t, "sh", "-c", "kill -0 $(cat /run/sear-shutdown/pid)")
		return err == nil
	}

	in2h, at2h := clock(2 * time.Hour)
	_, inAMinute := clock(-time.Minute)
	for _, tc := range []struct {
		args   string
		action string
		when   func(before int64) (lo, hi int64) // acceptable range, from the time before the call
	}{
		{"shutdown -h +1", "poweroff", func(b int64) (int64, int64) { return b + 60, b + 62 }},
		{"shutdown", "poweroff", func(b int64) (int64, int64) { return b + 60, b + 62 }},
		{"shutdown -r +10 going down", "reboot", func(b int64) (int64, int64) { return b + 600, b + 602 }},
		{"shutdown -P +007", "poweroff", func(b int64) (int64, int64) { return b + 420, b + 422 }},
		{"shutdown -H " + in2h, "halt", func(int64) (int64, int64) { return at2h, at2h }},
		// A time of day that has passed is tomorrow's.
		{"shutdown -h " + time.Unix(inAMinute, 0).UTC().Format("15:04"), "poweroff", func(int64) (int64, int64) { return inAMinute + 86400, inAMinute + 86400 }},
		{"shutdown -Hh +1", "halt", func(b int64) (int64, int64) { return b + 60, b + 62 }},
		{"shutdown -hH +1", "halt", func(b int64) (int64, int64) { return b + 60, b + 62 }},
		{"shutdown -rh +1", "poweroff", func(b int64) (int64, int64) { return b + 60, b + 62 }},
		{"shutdown --reboot --no-wall +2", "reboot", func(b int64) (int64, int64) { return b + 120, b + 122 }},
	} {
		before := now()
		if out, err := in.exec(t, strings.Fields(tc.args)...); err != nil {
			t.Fatalf("%s: %v %s", tc.args, err, out)
		}
		action, when, ok := pending(t, in)
		lo, hi := tc.when(before)
		if !ok || action != tc.action || when < lo || when > hi {
			t.Errorf("%s: scheduled %q at %d (%v), want %q in [%d, %d]", tc.args, action, when, ok, tc.action, lo, hi)
		}
		if !waiterAlive() {
			t.Errorf("%s: no process waits for the time (it must outlive the command)", tc.args)
		}
		// systemd-logind blocks unprivileged logins from 5 minutes before the time.
		if want := when-before <= 300; exists("/run/nologin") != want {
			t.Errorf("%s: /run/nologin exists: %v, want %v", tc.args, !want, want)
		}
		show, _ := in.exec(t, "shutdown", "--show")
		if !strings.Contains(show, "scheduled for") {
			t.Errorf("%s: shutdown --show = %q", tc.args, show)
		}
	}

	waiter, _ := in.exec(t, "cat", "/run/sear-shutdown/pid")
	if out, err := in.exec(t, "shutdown", "-c"); err != nil {
		t.Fatal(err, out)
	}
	if _, _, ok := pending(t, in); ok || exists("/run/nologin") {
		t.Errorf("shutdown -c left a pending shutdown or /run/nologin")
	}
	if _, err := in.exec(t, "kill", "-0", waiter); err == nil {
		t.Errorf("shutdown -c left the waiting process %s", waiter)
	}
	if show, _ := in.exec(t, "shutdown", "--show"); show != "No scheduled shutdown." {
		t.Errorf("shutdown --show after -c = %q", show)
	}

	for _, args := range []string{
		"shutdown -h soon",
		"shutdown -h 24:00",
		"shutdown -h 12:60",
		"shutdown -h +x",
		"shutdown -z now",
		"poweroff now",
		"halt --bogus",
	} {
		if out, err := in.exec(t, strings.Fields(args)...); err == nil {
			t.Errorf("%s: succeeded (%q), want an error", args, out)
		}
	}
	// Only root may shut the instance down; -k and -w only pretend.
	if out, err := docker(context.Background(), "exec", "--user", "nobody", in.name, "shutdown", "-h", "now"); err == nil || !strings.Contains(err.Error(), "Access denied") {
		t.Errorf("shutdown as nobody: %v %q, want Access denied", err, out)
	}
	for _, args := range []string{"shutdown -k now", "shutdown -k +1 maintenance", "poweroff -w", "shutdown -c"} {
		if out, err := in.exec(t, strings.Fields(args)...); err != nil {
			t.Errorf("%s: %v %s", args, err, out)
		}
	}
	time.Sleep(2 * time.Second)
	if status, _ := in.state(t); status != "running" {
		t.Errorf("after commands that must not shut down: %s", status)
	}
	if _, _, ok := pending(t, in); ok {
		t.Errorf("shutdown -k scheduled a shutdown")
	}
}

// TestShutdownPlusOne waits for a real "shutdown -h +1", sear's dead-man's switch, from user data:
// the instance keeps running, then powers off a minute after the command, while an instance
// whose shutdown was cancelled keeps running. About 65 s; run in parallel with the rest.
func TestShutdownPlusOne(t *testing.T) {
	t.Parallel()
	ref := testImage(t)
	network := newNetwork(t)
	scheduled := launch(t, ref, network, cloudConfig(t, map[string]any{"runcmd": []string{"shutdown -h +1"}}))
	cancelled := launch(t, ref, network, cloudConfig(t, map[string]any{"runcmd": []string{"shutdown -h +1", "shutdown -c"}}))

	var when int64
	waitFor(t, 60*time.Second, func() bool {
		var ok bool
		_, when, ok = pending(t, scheduled)
		return ok
	})
	waitFor(t, 60*time.Second, func() bool {
		out, _ := cancelled.exec(t, "cloud-init", "status")
		return strings.Contains(out, "status: done")
	})
	if _, _, ok := pending(t, cancelled); ok {
		t.Fatal("shutdown -c did not cancel")
	}

	time.Sleep(5 * time.Second)
	if status, _ := scheduled.state(t); status != "running" {
		t.Fatalf("5 s after shutdown -h +1: %s", status)
	}
	code := scheduled.waitExit(t, 90*time.Second)
	exited := time.Now()
	t.Logf("shutdown -h +1: exited %v after the scheduled time", exited.Sub(time.Unix(when, 0)).Round(time.Millisecond))
	if code != ExitPoweroff || exited.Before(time.Unix(when, 0)) || exited.After(time.Unix(when+5, 0)) {
		t.Errorf("exit status %d at %v, want %d within 5 s after %v", code, exited, ExitPoweroff, time.Unix(when, 0))
	}
	time.Sleep(3 * time.Second)
	if status, _ := cancelled.state(t); status != "running" {
		t.Errorf("the cancelled instance: %s, want running", status)
	}
}
