package timebudget

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// fakeClock is a clock a test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time                  { return c.t }
func (c *fakeClock) sleep(d time.Duration)           { c.t = c.t.Add(d) }
func (c *fakeClock) until(t time.Time) time.Duration { return t.Sub(c.t) }

var withEverything = For(Inputs{ReadyTimeout: 10 * time.Minute, MaxDuration: time.Hour, Bootstrap: true, SetupCmds: true})

// step is one of run's steps as the schedule sees it.
type step struct {
	name  string
	phase Phase
	share float64 // of the phase's bound it takes, before ε
}

// runSteps is run's order: the ready window is spent by four steps before
// the upload and by the engine's start after setup.
var runSteps = []step{
	{"launch", Ready, 0.4}, {"connect", Ready, 0.2}, {"environment", Ready, 0.1}, {"trust", Ready, 0.1},
	{"upload", Upload, 1}, {"bootstrap", Bootstrap, 1}, {"setup", Setup, 1},
	{"engine", Ready, 0.2}, {"job", Job, 1}, {"collect", Collect, 1},
}

// simulate runs every step for its share of its bound less eps, plus late
// (a step returning after its deadline), and the teardown for its bound
// less eps; it fails if any step's deadline came before it was done, and
// returns the teardown's end.
func simulate(t *testing.T, b Budget, eps, late time.Duration) (start, end time.Time) {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	s := b.Start(clock.now)
	start = s.Started()
	for _, st := range runSteps {
		need := time.Duration(float64(b.Bound(st.phase))*st.share) - eps
		if need < 0 {
			need = 0
		}
		deadline := s.Begin(st.phase)
		if late == 0 && clock.until(deadline) < need {
			t.Errorf("%s needs %s but got %s", st.name, need, clock.until(deadline))
		}
		clock.sleep(min(need, max(clock.until(deadline), 0)) + late)
		s.End(st.phase)
	}
	deadline := s.Begin(Teardown)
	if late == 0 && clock.until(deadline) < b.Teardown-eps {
		t.Errorf("teardown needs %s but got %s", b.Teardown-eps, clock.until(deadline))
	}
	clock.sleep(min(b.Teardown-eps, max(clock.until(deadline), 0)) + late)
	return start, clock.t
}

// A run whose every phase takes just under its bound is never cut short,
// and its teardown ends before the nodes' own deadline.
func TestEveryPhaseJustUnderItsBoundEndsBeforeTheLifetime(t *testing.T) {
	for _, b := range []Budget{withEverything, For(Inputs{ReadyTimeout: 3 * time.Minute, MaxDuration: 6 * time.Hour})} {
		start, end := simulate(t, b, time.Second, 0)
		if expires := start.Add(b.Lifetime()); !end.Before(expires) {
			t.Errorf("%s: teardown ends at +%s, not before the nodes' deadline at +%s", b, end.Sub(start), b.Lifetime())
		}
	}
}

// Steps that return after their deadline (a command that takes a while to
// notice its context) take from the later phases, not from past the
// lifetime: with each of 11 steps 20s late, the slack still holds.
func TestLateStepsStillEndBeforeTheLifetime(t *testing.T) {
	b := withEverything
	start, end := simulate(t, b, time.Second, 20*time.Second)
	if expires := start.Add(b.Lifetime()); !end.Before(expires) {
		t.Errorf("teardown ends at +%s, not before the nodes' deadline at +%s", end.Sub(start), b.Lifetime())
	}
}

// ready_timeout is one window: a launch that takes 70% of it leaves 30%
// for connecting, and the engine gets what the steps before the upload
// left, whatever the upload, bootstrap and setup took.
func TestReadyTimeoutIsSpentOnce(t *testing.T) {
	b := For(Inputs{ReadyTimeout: 10 * time.Minute, MaxDuration: time.Hour, Bootstrap: true})
	clock := &fakeClock{t: time.Unix(0, 0)}
	s := b.Start(clock.now)
	s.Begin(Ready)
	clock.sleep(7 * time.Minute)
	s.End(Ready)
	if got := clock.until(s.Begin(Ready)); got != 3*time.Minute {
		t.Errorf("connect's deadline is %s away, want the 3m the launch left", got)
	}
	clock.sleep(time.Minute)
	s.End(Ready)
	for _, p := range []Phase{Upload, Bootstrap, Setup} {
		s.Begin(p)
		clock.sleep(5 * time.Minute)
		s.End(p)
	}
	if got := clock.until(s.Begin(Ready)); got != 2*time.Minute {
		t.Errorf("the engine's deadline is %s away, want the 2m left of ready_timeout", got)
	}
	if got := s.ReadyLeft(); got != 2*time.Minute {
		t.Errorf("ReadyLeft = %s during the engine's start, want 2m (not counting the phase under way)", got)
	}
}

// The lifetime is every bound and the slack; a phase with nothing to do
// adds nothing.
func TestLifetimeIsTheSumOfTheBounds(t *testing.T) {
	plain := For(Inputs{ReadyTimeout: 10 * time.Minute, MaxDuration: 6 * time.Hour})
	want := 10*time.Minute + DefaultUpload + 6*time.Hour + DefaultJobOverhead + DefaultCollect + DefaultTeardown + DefaultSlack
	if got := plain.Lifetime(); got != want {
		t.Errorf("Lifetime = %s, want %s", got, want)
	}
	if got := withEverything.Lifetime() - For(Inputs{ReadyTimeout: 10 * time.Minute, MaxDuration: time.Hour}).Lifetime(); got != DefaultBootstrap+DefaultSetup {
		t.Errorf("setup: and setup_cmds add %s, want %s", got, DefaultBootstrap+DefaultSetup)
	}
	if s := plain.String(); strings.Contains(s, "bootstrap") || !strings.Contains(s, "ready 10m0s") {
		t.Errorf("String = %q, want the ready window and no bootstrap", s)
	}
}

// Each bound's error names the field or the fix.
func TestExceededNamesWhatToChange(t *testing.T) {
	for p, want := range map[Phase]string{
		Ready: "raise ready_timeout", Upload: "upload less", Bootstrap: "setup:", Setup: "setup_cmds",
		Job: "raise max_duration", Collect: "narrow outputs", Teardown: "sear sweep",
	} {
		var e *ExceededError
		if err := error(withEverything.Exceeded(p)); !errors.As(err, &e) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want it to say %q", p, err, want)
		}
	}
	if got := withEverything.Exceeded(Job).Error(); !strings.Contains(got, "max_duration 1h0m0s plus 2m0s") {
		t.Errorf("job: %s", got)
	}
}

func TestSumNamesEveryTerm(t *testing.T) {
	got := For(Inputs{ReadyTimeout: 8 * time.Minute, MaxDuration: 45 * time.Minute}).Sum(time.Duration.String)
	want := "ready_timeout 8m0s + upload 10m0s + max_duration 45m0s + job start and stop 2m0s + collect 10m0s + teardown 10m0s + slack 5m0s"
	if got != want {
		t.Errorf("Sum = %q, want %q", got, want)
	}
}
