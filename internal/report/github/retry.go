package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/sear-ci/sear/internal/pause"
)

// secondaryDefault is the wait for a secondary rate limit that names none:
// "wait for at least one minute before retrying" ("Rate limits for the
// REST API", exceeding the rate limit).
const secondaryDefault = time.Minute

// margin is added to every rate-limit wait: go-github refuses calls on its
// own until the instant GitHub named, computed from its own clock when the
// answer arrived, so waking exactly then can still meet that refusal.
const margin = 250 * time.Millisecond

// call runs one API call, waiting out rate limits and, for calls safe to
// repeat, server errors, within Options.MaxAttempts and MaxWait. What GitHub
// refuses for good is returned at once.
func (rp *Reporter) call(ctx context.Context, doing string, repeatable bool, f func() (*gh.Response, error)) error {
	var err error
	for attempt := 1; ; attempt++ {
		var resp *gh.Response
		resp, err = f()
		if err == nil {
			return nil
		}
		wait, why, ok := retryable(resp, err, repeatable, attempt)
		if !ok {
			return describe(doing, err)
		}
		if attempt >= rp.opts.MaxAttempts {
			return fmt.Errorf("%s: gave up after %d attempts (%s): %w", doing, attempt, why, err)
		}
		if wait > rp.opts.MaxWait {
			return fmt.Errorf("%s: %s for %s, longer than sear waits (%s): %w",
				doing, why, wait.Round(time.Second), rp.opts.MaxWait, err)
		}
		if serr := pause.For(ctx, wait); serr != nil {
			return fmt.Errorf("%s: stopped while waiting out %s: %w", doing, why, serr)
		}
	}
}

// retryable says whether and how long to wait before calling again.
func retryable(resp *gh.Response, err error, repeatable bool, attempt int) (time.Duration, string, bool) {
	var abuse *gh.AbuseRateLimitError
	var limit *gh.RateLimitError
	var er *gh.ErrorResponse
	switch {
	case errors.As(err, &abuse):
		// A refused call was not carried out, so even a create is safe to
		// send again.
		wait := secondaryDefault
		if abuse.RetryAfter != nil {
			wait = *abuse.RetryAfter
		}
		return wait + margin, "GitHub's secondary rate limit", true
	case errors.As(err, &limit):
		return time.Until(limit.Rate.Reset.Time) + margin, "GitHub's rate limit for this token is used up", true
	case errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusTooManyRequests:
		// go-github v60 types only 403s as rate-limit errors; GitHub also
		// answers 429 ("403 or 429"), with Retry-After when it knows.
		return retryAfter(er.Response.Header) + margin, "GitHub's rate limit (429)", true
	case errors.As(err, &er) && er.Response != nil && er.Response.StatusCode >= 500 && repeatable:
		return time.Duration(1<<(attempt-1)) * time.Second, fmt.Sprintf("GitHub answered %d", er.Response.StatusCode), true
	}
	return 0, "", false
}

func retryAfter(h http.Header) time.Duration {
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	return secondaryDefault
}

// describe phrases an API error for the person reading the log. A 422
// about size should never happen, since the renderers cut every text to
// GitHub's limits; if it does, the message says it is sear's bug, not the
// user's, and that the step summary holds the report.
func describe(doing string, err error) error {
	var er *gh.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil || er.Response.StatusCode != http.StatusUnprocessableEntity {
		return fmt.Errorf("%s: %w", doing, err)
	}
	var details []string
	for _, e := range er.Errors {
		d := strings.TrimSpace(e.Field + " " + e.Code)
		if e.Message != "" {
			d += ": " + e.Message
		}
		details = append(details, d)
	}
	what := er.Message
	if len(details) > 0 {
		what += " (" + strings.Join(details, "; ") + ")"
	}
	hint := ""
	if strings.Contains(what, "maximum") || strings.Contains(what, "too long") || strings.Contains(what, "exceeds") {
		hint = "; sear cuts its reports to GitHub's size limits, so this is a bug in sear: please report it. " +
			"The step summary has the full report"
	}
	return fmt.Errorf("%s: GitHub refused it with 422 %s%s: %w", doing, what, hint, err)
}
