package github

import (
	"context"
	"errors"
	"fmt"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/sear-ci/sear/internal/report"
)

// maxAnnotations is what one request may carry: "The Checks API limits the
// number of annotations to a maximum of 50 per API request. To create more
// than 50 annotations, you have to make multiple requests to the Update a
// check run endpoint" (REST API, check runs).
const maxAnnotations = 50

// Start creates the check run, named after the runnable, in progress on
// the head commit. It is the first thing a run does, so that the pull
// request shows the run from its first second; Finish completes it, so it
// never stays pending. A 403 is a warning, not an error.
func (rp *Reporter) Start(ctx context.Context, r report.Run) error {
	r = r.Redacted() // the check run's name and annotations too, which no renderer sees
	out := report.Check(r)
	opts := gh.CreateCheckRunOptions{
		Name: r.Runnable, HeadSHA: rp.opts.HeadSHA, Status: gh.String("in_progress"),
		Output: output(out, nil),
	}
	if !r.Started.IsZero() {
		opts.StartedAt = timestamp(r.Started)
	}
	if r.ClusterID != "" {
		opts.ExternalID = gh.String(r.ClusterID)
	}
	if rp.opts.DetailsURL != "" {
		opts.DetailsURL = gh.String(rp.opts.DetailsURL)
	}
	var cr *gh.CheckRun
	err := rp.call(ctx, "create the check run "+quote(r.Runnable), false, func() (resp *gh.Response, err error) {
		cr, resp, err = rp.client.Checks.CreateCheckRun(ctx, rp.opts.Owner, rp.opts.Repo, opts)
		return resp, err
	})
	if err != nil {
		if rp.forbidden(checksWrite, "create the check run "+quote(r.Runnable), err) {
			return nil
		}
		return err
	}
	rp.checkID, rp.checkURL = cr.GetID(), cr.GetHTMLURL()
	rp.learnApp(cr)
	return nil
}

// Progress updates the check run's output as phases pass. Without a check
// run (Start was refused or failed) it does nothing: progress is not worth
// a second error.
func (rp *Reporter) Progress(ctx context.Context, r report.Run) error {
	r = r.Redacted() // the check run's name and annotations too, which no renderer sees
	if rp.checkID == 0 {
		return nil
	}
	r.Links.CheckRun = rp.checkURL
	opts := gh.UpdateCheckRunOptions{Name: r.Runnable, Status: gh.String("in_progress"), Output: output(report.Check(r), nil)}
	return rp.update(ctx, "update the check run "+quote(r.Runnable), opts)
}

// complete ends the check run with the run's conclusion, sending the
// configuration errors as annotations in batches of 50: every batch but the
// last while the run is still in progress, the last with the conclusion,
// so that the run is complete only once everything is on it. If Start
// never created the run, it is created here, already complete.
func (rp *Reporter) complete(ctx context.Context, r report.Run) error {
	r = r.Redacted() // the check run's name and annotations too, which no renderer sees
	if rp.denied[checksWrite] || rp.opts.NoCheck {
		return nil
	}
	r.Links.CheckRun = rp.checkURL
	out := report.Check(r)
	batches := annotationBatches(r.ConfigErrors)
	if rp.checkID == 0 {
		if err := rp.createCompleted(ctx, r, out, batches[0]); err != nil || rp.checkID == 0 || len(batches) == 1 {
			return err
		}
		batches = batches[1:]
	}
	what := "complete the check run " + quote(r.Runnable)
	var errs []error
	for i, batch := range batches {
		opts := gh.UpdateCheckRunOptions{Name: r.Runnable, Output: output(out, batch)}
		if i < len(batches)-1 {
			opts.Status = gh.String("in_progress")
			errs = append(errs, rp.update(ctx, fmt.Sprintf("add annotations %d to %d to the check run", i*maxAnnotations+1, i*maxAnnotations+len(batch)), opts))
			continue
		}
		opts.Conclusion = gh.String(r.Verdict.Conclusion())
		opts.CompletedAt = timestamp(r.Started.Add(r.Duration))
		if r.Started.IsZero() {
			opts.CompletedAt = nil
		}
		err := rp.update(ctx, what, opts)
		if err != nil && len(batch) > 0 && !rp.denied[checksWrite] {
			// An annotation GitHub will not take must not leave the run
			// pending: complete it without them.
			opts.Output = output(out, nil)
			err = errors.Join(err, rp.update(ctx, what+" without its annotations", opts))
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (rp *Reporter) createCompleted(ctx context.Context, r report.Run, out report.CheckOutput, batch []*gh.CheckRunAnnotation) error {
	opts := gh.CreateCheckRunOptions{Name: r.Runnable, HeadSHA: rp.opts.HeadSHA, Output: output(out, batch)}
	if len(annotationBatches(r.ConfigErrors)) == 1 {
		opts.Conclusion = gh.String(r.Verdict.Conclusion())
	} else {
		opts.Status = gh.String("in_progress")
	}
	if rp.opts.DetailsURL != "" {
		opts.DetailsURL = gh.String(rp.opts.DetailsURL)
	}
	what := "create the check run " + quote(r.Runnable)
	var cr *gh.CheckRun
	err := rp.call(ctx, what, false, func() (resp *gh.Response, err error) {
		cr, resp, err = rp.client.Checks.CreateCheckRun(ctx, rp.opts.Owner, rp.opts.Repo, opts)
		return resp, err
	})
	if err != nil {
		if rp.forbidden(checksWrite, what, err) {
			return nil
		}
		return err
	}
	rp.checkID, rp.checkURL = cr.GetID(), cr.GetHTMLURL()
	rp.learnApp(cr)
	return nil
}

// update patches the check run; a PATCH is safe to repeat, except that a
// repeated batch of annotations would be appended twice, which a server
// error followed by a retry can cause: GitHub offers no way to avoid it,
// and duplicate annotations are better than missing ones.
func (rp *Reporter) update(ctx context.Context, what string, opts gh.UpdateCheckRunOptions) error {
	err := rp.call(ctx, what, true, func() (*gh.Response, error) {
		_, resp, err := rp.client.Checks.UpdateCheckRun(ctx, rp.opts.Owner, rp.opts.Repo, rp.checkID, opts)
		return resp, err
	})
	if err != nil && rp.forbidden(checksWrite, what, err) {
		return nil
	}
	return err
}

func output(c report.CheckOutput, annotations []*gh.CheckRunAnnotation) *gh.CheckRunOutput {
	return &gh.CheckRunOutput{Title: gh.String(c.Title), Summary: gh.String(c.Summary), Text: gh.String(c.Text), Annotations: annotations}
}

// annotationBatches turns configuration errors into annotations, at most
// 50 a batch; there is always at least one batch, maybe empty.
func annotationBatches(errs []report.ConfigError) [][]*gh.CheckRunAnnotation {
	batches := [][]*gh.CheckRunAnnotation{nil}
	for _, e := range errs {
		last := &batches[len(batches)-1]
		if len(*last) == maxAnnotations {
			batches = append(batches, nil)
			last = &batches[len(batches)-1]
		}
		*last = append(*last, annotation(e))
	}
	return batches
}

// annotation places a configuration error on its file and line. GitHub
// wants a line of at least 1, and columns only when the annotation spans
// one line ("Annotations only support start_column and end_column on the
// same line"), which a configuration error always does.
func annotation(e report.ConfigError) *gh.CheckRunAnnotation {
	line := max(e.Line, 1)
	a := &gh.CheckRunAnnotation{
		Path: gh.String(e.File), StartLine: gh.Int(line), EndLine: gh.Int(line),
		AnnotationLevel: gh.String("failure"), Title: gh.String("sear: configuration error"),
		Message: gh.String(clip(e.Message, 60_000)),
	}
	if e.Column > 0 && e.Line > 0 {
		a.StartColumn, a.EndColumn = gh.Int(e.Column), gh.Int(e.Column)
	}
	if e.Source != "" {
		a.RawDetails = gh.String(clip(e.Source, 60_000))
	}
	return a
}

// clip bounds an annotation's texts, which GitHub limits to 64 KB.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// timestamp is t as GitHub's check-run schema takes it: whole seconds.
// The API validates date-times with a pattern that has no fractional
// seconds, and go-github would send t's nanoseconds.
func timestamp(t time.Time) *gh.Timestamp {
	return &gh.Timestamp{Time: t.UTC().Truncate(time.Second)}
}
