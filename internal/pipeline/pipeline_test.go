package pipeline

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// trace is the state the test steps share: a log of what ran.
type trace struct {
	mu  sync.Mutex
	log []string
}

func (t *trace) add(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.log = append(t.log, s)
}

func (t *trace) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.log, " ")
}

// step returns a step that logs its run and cleanup and returns runErr.
func step(name string, runErr error) Step[trace] {
	return Step[trace]{
		Name: name,
		Run: func(_ context.Context, s *trace) error {
			s.add("run:" + name)
			return runErr
		},
		Cleanup: func(_ context.Context, s *trace) error {
			s.add("cleanup:" + name)
			return nil
		},
	}
}

func TestRunOrder(t *testing.T) {
	t.Parallel()
	var s trace
	steps := []Step[trace]{step("a", nil), step("b", nil), step("c", nil)}
	if err := Run(context.Background(), &s, steps, Options{}); err != nil {
		t.Fatal(err)
	}
	want := "run:a run:b run:c cleanup:c cleanup:b cleanup:a"
	if got := s.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFailedStepIsCleanedUp(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	var s trace
	steps := []Step[trace]{step("a", nil), step("b", boom), step("c", nil)}
	err := Run(context.Background(), &s, steps, Options{})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if got, want := err.Error(), `run "b": boom`; got != want {
		t.Errorf("err = %q, want %q", got, want)
	}
	want := "run:a run:b cleanup:b cleanup:a"
	if got := s.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestNilRunAndCleanup(t *testing.T) {
	t.Parallel()
	var s trace
	steps := []Step[trace]{
		{Name: "only-cleanup", Cleanup: func(_ context.Context, s *trace) error { s.add("cleanup"); return nil }},
		{Name: "only-run", Run: func(_ context.Context, s *trace) error { s.add("run"); return nil }},
	}
	if err := Run(context.Background(), &s, steps, Options{}); err != nil {
		t.Fatal(err)
	}
	if got, want := s.String(), "run cleanup"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestPanicIsRecovered(t *testing.T) {
	t.Parallel()
	var s trace
	panicky := Step[trace]{
		Name: "launch",
		Run: func(_ context.Context, s *trace) error {
			s.add("run:launch")
			panic("half-launched")
		},
		Cleanup: func(_ context.Context, s *trace) error { s.add("cleanup:launch"); return nil },
	}
	steps := []Step[trace]{step("a", nil), panicky, step("never", nil)}
	err := Run(context.Background(), &s, steps, Options{})

	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a *PanicError", err)
	}
	if pe.Step != "launch" || pe.Phase != PhaseRun || pe.Value != "half-launched" || len(pe.Stack) == 0 {
		t.Errorf("PanicError = %+v", pe)
	}
	if got, want := err.Error(), `run "launch": panic: half-launched`; got != want {
		t.Errorf("err = %q, want %q", got, want)
	}
	if got, want := s.String(), "run:a run:launch cleanup:launch cleanup:a"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestPanicInCleanupDoesNotStopOthers(t *testing.T) {
	t.Parallel()
	var s trace
	bad := errors.New("bad")
	steps := []Step[trace]{
		step("a", nil),
		{Name: "b", Cleanup: func(context.Context, *trace) error { panic(bad) }},
	}
	err := Run(context.Background(), &s, steps, Options{})
	if !errors.Is(err, bad) {
		t.Errorf("err = %v, want it to wrap %v", err, bad)
	}
	if got, want := s.String(), "run:a cleanup:a"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCancelMidRun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var s trace
	started := make(chan struct{})
	blocking := Step[trace]{
		Name: "wait",
		Run: func(ctx context.Context, s *trace) error {
			s.add("run:wait")
			close(started)
			<-ctx.Done()
			return ctx.Err()
		},
		Cleanup: func(_ context.Context, s *trace) error { s.add("cleanup:wait"); return nil },
	}
	go func() { <-started; cancel() }()

	err := Run(ctx, &s, []Step[trace]{step("a", nil), blocking, step("never", nil)}, Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if got, want := s.String(), "run:a run:wait cleanup:wait cleanup:a"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCancelBetweenSteps(t *testing.T) {
	t.Parallel()
	errSignal := errors.New("interrupt")
	ctx, cancel := context.WithCancelCause(context.Background())
	var s trace
	// The step ignores ctx and succeeds; the runner must still notice.
	cancelling := Step[trace]{Name: "cancel", Run: func(context.Context, *trace) error {
		cancel(errSignal)
		return nil
	}}
	err := Run(ctx, &s, []Step[trace]{step("a", nil), cancelling, step("never", nil)}, Options{})
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errSignal) {
		t.Fatalf("err = %v, want context.Canceled and the cause", err)
	}
	if got, want := err.Error(), `before step "never": context canceled: interrupt`; got != want {
		t.Errorf("err = %q, want %q", got, want)
	}
	if got, want := s.String(), "run:a cleanup:a"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCleanupContextSurvivesCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	type key struct{}
	ctx = context.WithValue(ctx, key{}, "kept")
	var (
		cleanupErr error
		deadline   time.Time
		value      any
	)
	steps := []Step[trace]{{
		Name: "terminate",
		Run:  func(context.Context, *trace) error { cancel(); return nil },
		Cleanup: func(ctx context.Context, _ *trace) error {
			cleanupErr = ctx.Err()
			deadline, _ = ctx.Deadline()
			value = ctx.Value(key{})
			return nil
		},
	}}
	before := time.Now()
	var s trace
	if err := Run(ctx, &s, steps, Options{CleanupTimeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if cleanupErr != nil {
		t.Errorf("cleanup context is done: %v", cleanupErr)
	}
	if deadline.Before(before.Add(time.Minute)) || deadline.After(time.Now().Add(time.Minute)) {
		t.Errorf("cleanup deadline %v, want about a minute after %v", deadline, before)
	}
	if value != "kept" {
		t.Errorf("cleanup context lost the parent's values: %v", value)
	}
}

func TestCleanupTimeoutDefault(t *testing.T) {
	t.Parallel()
	var left time.Duration
	steps := []Step[trace]{{Name: "x", Cleanup: func(ctx context.Context, _ *trace) error {
		d, _ := ctx.Deadline()
		left = time.Until(d)
		return nil
	}}}
	var s trace
	if err := Run(context.Background(), &s, steps, Options{}); err != nil {
		t.Fatal(err)
	}
	if left <= DefaultCleanupTimeout-time.Minute || left > DefaultCleanupTimeout {
		t.Errorf("time left in cleanup = %v, want about %v", left, DefaultCleanupTimeout)
	}
}

func TestCleanupErrorsJoinedAndNamed(t *testing.T) {
	t.Parallel()
	errRun := errors.New("launch failed")
	errSG := errors.New("dependency violation")
	errKey := errors.New("throttled")
	failing := func(name string, err error) Step[trace] {
		return Step[trace]{Name: name, Cleanup: func(context.Context, *trace) error { return err }}
	}
	steps := []Step[trace]{
		failing("key-pair", errKey),
		step("ok", nil),
		failing("security-group", errSG),
		{Name: "launch", Run: func(context.Context, *trace) error { return errRun }},
	}
	var s trace
	err := Run(context.Background(), &s, steps, Options{})
	for _, want := range []error{errRun, errSG, errKey} {
		if !errors.Is(err, want) {
			t.Errorf("err does not wrap %v", want)
		}
	}
	want := `run "launch": launch failed
cleanup "security-group": dependency violation
cleanup "key-pair": throttled`
	if got := err.Error(); got != want {
		t.Errorf("err =\n%s\nwant\n%s", got, want)
	}
	if got := s.String(); got != "run:ok cleanup:ok" {
		t.Errorf("a failing cleanup stopped the others: %q", got)
	}
}

func TestObserverEvents(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	slow := Step[trace]{
		Name:    "slow",
		Run:     func(context.Context, *trace) error { time.Sleep(20 * time.Millisecond); return nil },
		Cleanup: func(context.Context, *trace) error { return boom },
	}
	var events []Event
	opts := Options{Observe: func(e Event) { events = append(events, e) }}
	var s trace
	_ = Run(context.Background(), &s, []Step[trace]{slow, step("fails", boom)}, opts)

	want := []struct {
		step  string
		phase Phase
		done  bool
		err   error
	}{
		{"slow", PhaseRun, false, nil},
		{"slow", PhaseRun, true, nil},
		{"fails", PhaseRun, false, nil},
		{"fails", PhaseRun, true, boom},
		{"fails", PhaseCleanup, false, nil},
		{"fails", PhaseCleanup, true, nil},
		{"slow", PhaseCleanup, false, nil},
		{"slow", PhaseCleanup, true, boom},
	}
	if len(events) != len(want) {
		t.Fatalf("got %d events, want %d: %+v", len(events), len(want), events)
	}
	for i, w := range want {
		e := events[i]
		if e.Step != w.step || e.Phase != w.phase || e.Done != w.done || !errors.Is(e.Err, w.err) || (w.err == nil) != (e.Err == nil) {
			t.Errorf("event %d = %+v, want %+v", i, e, w)
		}
		if e.Start.IsZero() {
			t.Errorf("event %d has no start time", i)
		}
		if !e.Done && e.Duration != 0 {
			t.Errorf("start event %d has a duration", i)
		}
		if e.Done && e.Start != events[i-1].Start {
			t.Errorf("end event %d does not match its start", i)
		}
	}
	if d := events[1].Duration; d < 20*time.Millisecond {
		t.Errorf("slow run took %v, want at least 20ms", d)
	}
}

func TestPhaseString(t *testing.T) {
	t.Parallel()
	for p, want := range map[Phase]string{PhaseRun: "run", PhaseCleanup: "cleanup", 0: "phase(?)"} {
		if got := p.String(); got != want {
			t.Errorf("Phase(%d).String() = %q, want %q", p, got, want)
		}
	}
}

// A second signal (Abandon) ends a cleanup that is waiting, and the ones
// after it still run, each seeing a done context.
func TestAbandonCancelsTheCleanupContext(t *testing.T) {
	t.Parallel()
	abandon := make(chan struct{})
	waiting := make(chan struct{})
	var s trace
	steps := []Step[trace]{
		{Name: "first", Cleanup: func(ctx context.Context, s *trace) error {
			s.add("cleanup:first " + errString(ctx.Err()))
			return nil
		}},
		{Name: "wait", Cleanup: func(ctx context.Context, s *trace) error {
			close(waiting)
			<-ctx.Done()
			s.add("cleanup:wait " + errString(ctx.Err()))
			return ctx.Err()
		}},
	}
	go func() { <-waiting; close(abandon) }()
	err := Run(context.Background(), &s, steps, Options{CleanupTimeout: time.Hour, Abandon: abandon})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want the abandoned cleanup's context.Canceled", err)
	}
	if got, want := s.String(), "cleanup:wait context canceled cleanup:first context canceled"; got != want {
		t.Errorf("trace = %q, want %q", got, want)
	}
}

// Without a second signal, Abandon changes nothing.
func TestAbandonNotClosed(t *testing.T) {
	t.Parallel()
	var s trace
	steps := []Step[trace]{{Name: "x", Cleanup: func(ctx context.Context, s *trace) error {
		s.add("cleanup:x " + errString(ctx.Err()))
		return nil
	}}}
	if err := Run(context.Background(), &s, steps, Options{Abandon: make(chan struct{})}); err != nil {
		t.Fatal(err)
	}
	if got := s.String(); got != "cleanup:x <nil>" {
		t.Errorf("trace = %q", got)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
