package command

import (
	"context"
	"os"
	"syscall"

	"github.com/sear-ci/sear/internal/report"
	ghreport "github.com/sear-ci/sear/internal/report/github"
)

// publisher keeps the check run current as phases pass, off the run's
// path: a slow or rate-limited GitHub must never hold up a launch or a
// teardown. Only the latest report matters, so one waiting update is
// replaced by a newer one rather than queued.
type publisher struct {
	rp     *ghreport.Reporter
	next   chan report.Run
	cancel context.CancelFunc
	done   chan struct{}
}

func newPublisher(rp *ghreport.Reporter) *publisher {
	ctx, cancel := context.WithCancel(context.Background())
	p := &publisher{rp: rp, next: make(chan report.Run, 1), cancel: cancel, done: make(chan struct{})}
	go p.loop(ctx)
	return p
}

// push queues r in place of any update not yet sent. It is called from
// one goroutine (the pipeline's).
func (p *publisher) push(r report.Run) {
	select {
	case <-p.next:
	default:
	}
	p.next <- r
}

func (p *publisher) loop(ctx context.Context) {
	defer close(p.done)
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-p.next:
			// Progress is not worth an error: the final update says all.
			_ = p.rp.Progress(ctx, r)
		}
	}
}

// stop abandons any update under way; the reporter is then free for the
// final one.
func (p *publisher) stop() {
	if p.rp == nil {
		return
	}
	p.cancel()
	<-p.done
}

// owner is the user and group that own path.
func owner(path string) (uid, gid int, ok bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, 0, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}
