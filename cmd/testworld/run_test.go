package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/testworld/syncbuf"
)

func TestRunUsage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		args   []string
		status int
		stderr string
	}{
		{"no command", nil, exitUsage, "usage: testworld up"},
		{"unknown command", []string{"down"}, exitUsage, `unknown command "down"`},
		{"unknown backend", []string{"up", "-backend", "vm"}, exitUsage, `-backend "vm": expected memory or docker`},
		{"label without docker", []string{"up", "-label", "x"}, exitUsage, "it needs -backend docker"},
		{"stray argument", []string{"up", "now"}, exitUsage, `unexpected argument "now"`},
		{"bad port base", []string{"up", "-port-base", "65534"}, exitUsage, "-port-base 65534"},
		{"bad flag value", []string{"up", "-boot-delay", "soon"}, exitUsage, `invalid value "soon"`},
		{"bad repository", []string{"up", "-repository", "demo"}, exitFailure, `repository "demo": expected owner/name`},
		{"bad throttle", []string{"up", "-throttle", "2"}, exitFailure, "initial faults: ec2: throttle 2: expected a share between 0 and 1"},
		{"fork on push", []string{"up", "-fork", "-event", "push"}, exitFailure, "a fork only makes sense with the pull_request event"},
		{"help", []string{"up", "-h"}, exitOK, "-static-credentials"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr strings.Builder
			got := run(context.Background(), c.args, &stdout, &stderr)
			if got != c.status || !strings.Contains(stderr.String(), c.stderr) {
				t.Errorf("run(%q) = %d, stderr %q; want %d and %q", c.args, got, stderr.String(), c.status, c.stderr)
			}
			if stdout.Len() != 0 {
				t.Errorf("run(%q) printed %q on stdout, which is for exports only", c.args, stdout.String())
			}
		})
	}
}

// TestUpInProcess runs up until its context ends: it prints the exports, serves, and closes
// cleanly with status 0.
func TestUpInProcess(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"up", "-throttle", "0.5", "-latency", "1ms", "-boot-delay", "5ms"}, pw, &stderr)
		pw.Close()
	}()
	env := readExports(t, bufio.NewScanner(pr))
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	var faults struct {
		EC2 struct {
			Throttle      float64
			ThrottleEvery int `json:"throttle_every"`
			Latency       string
		}
	}
	getJSON(t, env["SEAR_TESTWORLD_URL"]+"/_testworld/faults", &faults)
	if faults.EC2.ThrottleEvery != 2 || faults.EC2.Latency != "1ms" {
		t.Errorf("the flags' faults are not in force: %+v", faults.EC2)
	}
	cancel()
	select {
	case status := <-done:
		if status != exitOK {
			t.Errorf("up returned %d after its context ended; stderr:\n%s", status, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("up did not return within 10s of its context ending")
	}
	if _, err := http.Get(env["SEAR_CHECKIP_URL"]); err == nil {
		t.Error("checkip still answers after up returned")
	}
}

// TestExportsQuoting has a POSIX shell read the export lines back: every value, quotes, spaces,
// dollars and newlines included, must arrive unchanged.
func TestExportsQuoting(t *testing.T) {
	t.Parallel()
	values := []string{"plain", "", "it's", "a b", "$HOME `id` \\n", "line\nbreak", "''", "ends with '"}
	var env []string
	for i, v := range values {
		env = append(env, "V"+string(rune('A'+i))+"="+v)
	}
	script := exports(env)
	for i, v := range values {
		name := "V" + string(rune('A'+i))
		out, err := exec.Command("sh", "-c", script+`printf %s "$`+name+`"`).Output()
		if err != nil {
			t.Fatalf("sh could not read the exports:\n%s\n%v", script, err)
		}
		if string(out) != v {
			t.Errorf("sh read %s as %q, want %q", name, out, v)
		}
	}
}

// syncBuffer collects output that goroutines write while the test reads it.
type syncBuffer = syncbuf.Buffer
