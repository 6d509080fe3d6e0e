package action

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/sear-ci/sear/internal/testworld/runnerlog"
)

func noEnv(string) string { return "" }

// TestMaskInsideAFenceIsActedOn is the threat of a credential refresh
// while the job's output streams: the AWS SDK mints new credentials (and
// sear a fresh OIDC token, which assumes the role) in the background, and
// sear masks them. Inside a fence the runner ignores commands and prints
// their lines, so an ::add-mask:: written there would print the secret in
// clear in a log anyone with read access can see. Every mask must be
// acted on, and no secret shown, whatever the job prints around it.
func TestMaskInsideAFenceIsActedOn(t *testing.T) {
	var out bytes.Buffer
	l := NewLog(&out, noEnv)
	o := l.Output()
	end := l.Fence()
	secrets := make([]string, 20)
	for i := range secrets {
		secrets[i] = fmt.Sprintf("ASIA-secret-%02d-%s", i, strings.Repeat("k", 30))
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < 500; i++ {
			// A job that tries to resume commands, set an output and
			// add masks of its own, in whole and in partial lines.
			fmt.Fprintf(o, "step %d ::set-output name=x::y\n::endgroup::\n::add-mask::job-%d\n", i, i)
			o.Write([]byte("partial "))
			o.Write([]byte("line\n"))
		}
	}()
	go func() {
		defer wg.Done()
		for _, s := range secrets {
			l.Mask([]string{s})
		}
	}()
	wg.Wait()
	// A secret masked while the job's last line is still open.
	o.Write([]byte("no newline yet"))
	l.Mask([]string{"late-secret-value"})
	o.Write([]byte(" and the rest\n"))
	end()
	l.Warning("after the fence")

	tr := runnerlog.Interpret(out.String())
	want := append(secrets, "late-secret-value")
	if len(tr.Masks) != len(want) {
		t.Errorf("the runner registered %d masks, want %d: %q", len(tr.Masks), len(want), tr.Masks)
	}
	for _, line := range tr.Shown {
		for _, s := range want {
			if strings.Contains(line, s) {
				t.Fatalf("the log shows the secret %q in clear: %q", s, line)
			}
		}
	}
	for _, c := range tr.Commands {
		if c.Name != "warning" || c.Data != "after the fence" {
			t.Errorf("the runner acted on %+v, which the job printed inside the fence", c)
		}
	}
	if len(tr.Commands) != 1 {
		t.Errorf("the runner acted on %d commands, want the warning after the fence: %+v", len(tr.Commands), tr.Commands)
	}
	shownJobLines := 0
	for _, line := range tr.Shown {
		if strings.HasPrefix(line, "::add-mask::job-") {
			shownJobLines++
		}
	}
	if shownJobLines != 500 {
		t.Errorf("the log shows %d of the job's 500 ::add-mask:: lines as text", shownJobLines)
	}
}

// TestFenceEndIsItsOwn: the end of a fence already lifted does not lift
// a later one (the action ends each phase's fence as the phase ends; a
// late call must not open the next phase to the job's commands).
func TestFenceEndIsItsOwn(t *testing.T) {
	var out bytes.Buffer
	l := NewLog(&out, noEnv)
	first := l.Fence()
	first()
	second := l.Fence()
	first()
	fmt.Fprintln(l.Output(), "::error::from the job")
	second()
	if tr := runnerlog.Interpret(out.String()); len(tr.Commands) != 0 {
		t.Fatalf("the runner acted on %+v", tr.Commands)
	}
}
