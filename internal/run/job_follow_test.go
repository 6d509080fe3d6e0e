package run

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/cloud/local"
)

// The SSH connection to the orchestrator drops again and again while the
// job prints: each time, the log stream reconnects and resumes at the byte
// it had reached, so every line arrives exactly once, in order, the last
// ones (read after the job exited) included.
func TestLogResumesAcrossDroppedConnections(t *testing.T) {
	t.Parallel()
	const lines = 120
	rig := newUploadRig(t, local.New(), "!LocalCluster\nname: drops\n")
	job := fmt.Sprintf("import time\nfor i in range(1, %d):\n    print('line %%03d' %% i, flush=True)\n    time.sleep(0.04)\n", lines+1)
	writeFile(t, rig.ws, "job.py", []byte(job), 0o644)
	rig.upload(t)
	ctx := context.Background()

	done := make(chan error, 1)
	go func() { done <- runJob(ctx, rig.st) }()
	waitFor(t, func() bool { return strings.Contains(rig.log.String(), "line 005") })
	var err error
	// Cut every 250 ms, about six lines apart, until the job's end has
	// been seen: the cuts land in tail, in the exit check, in the final
	// read and in the reconnects themselves.
cutting:
	for {
		select {
		case err = <-done:
			break cutting
		case <-time.After(250 * time.Millisecond):
			rig.counters[0].cut()
		}
	}
	if err != nil {
		t.Fatalf("runJob: %v\nlog:\n%s", err, rig.log.String())
	}
	rig.counters[0].mu.Lock()
	cuts := rig.counters[0].cuts
	rig.counters[0].mu.Unlock()
	if cuts < 5 {
		t.Errorf("only %d connections were cut while the job ran", cuts)
	}
	log := rig.log.String()
	t.Logf("%d cuts, %d reconnections", cuts, strings.Count(log, "reconnecting"))
	var got []string
	for line := range strings.SplitSeq(log, "\n") {
		if strings.HasPrefix(line, "line ") {
			got = append(got, line)
		}
	}
	for i, line := range got {
		if want := fmt.Sprintf("line %03d", i+1); line != want {
			t.Fatalf("log line %d is %q, want %q: a line was lost or repeated\nlog:\n%s", i+1, line, want, log)
		}
	}
	if len(got) != lines {
		t.Fatalf("%d lines, want %d\nlog:\n%s", len(got), lines, log)
	}
}

// A job that kills its own process group, the wrapper that would record
// its exit status included, ends the run at once with an error that says
// so, rather than a log stream that waits for a status until max_duration.
func TestJobKilledWithoutExitStatus(t *testing.T) {
	t.Parallel()
	rig := newUploadRig(t, local.New(), "!LocalCluster\nname: killed\nmax_duration: 2m\n")
	writeFile(t, rig.ws, "job.py", []byte("import os, signal\nprint('bye', flush=True)\nos.killpg(os.getpgrp(), signal.SIGKILL)\n"), 0o644)
	rig.upload(t)
	start := time.Now()
	err := runJob(context.Background(), rig.st)
	if err == nil || !strings.Contains(err.Error(), "ended without an exit status") {
		t.Fatalf("runJob: %v, want the job ended without an exit status\nlog:\n%s", err, rig.log.String())
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %s to notice", d)
	}
	if !strings.Contains(rig.log.String(), "bye\n") {
		t.Errorf("the job's last line is missing from the log:\n%s", rig.log.String())
	}
}

// logLines passes on whole lines only, however the stream is cut, and its
// offset counts exactly what it passed on.
func TestLogLinesPassesWholeLines(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	l := &logLines{w: &out, offset: 100}
	for _, piece := range []string{"one\ntw", "o\nthr", "ee", "\rbar 50%\rbar 100%", "\nunended"} {
		l.Write([]byte(piece))
	}
	want := "one\ntwo\nthree\rbar 50%\rbar 100%\n"
	if out.String() != want || l.offset != 100+int64(len(want)) {
		t.Fatalf("passed %q (offset %d), want %q (offset %d)", out.String(), l.offset, want, 100+len(want))
	}
	// The stream ends: the unended line is read again from the offset,
	// then flushed with a newline that the offset does not count.
	l = &logLines{w: &out, offset: l.offset}
	l.Write([]byte("unended"))
	if err := l.flush(); err != nil {
		t.Fatal(err)
	}
	if want += "unended\n"; out.String() != want || l.offset != 100+int64(len(want))-1 {
		t.Errorf("passed %q (offset %d), want %q", out.String(), l.offset, want)
	}
	// A line that never ends is passed on in pieces, not held forever.
	long := &logLines{}
	long.Write(make([]byte, maxPartial+1))
	if long.offset != maxPartial+1 {
		t.Errorf("held %d bytes of an endless line", maxPartial+1-long.offset)
	}
}
