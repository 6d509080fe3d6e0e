package github_test

import (
	"context"
	"log"
	"os"

	gh "github.com/google/go-github/v60/github"

	"github.com/sear-ci/sear/internal/action"
	"github.com/sear-ci/sear/internal/report"
	reportgh "github.com/sear-ci/sear/internal/report/github"
)

// Example shows a run's reporting from start to finish, as the action
// wires it. Reporting errors are logged, never returned: they must not
// stop the run or its teardown.
func Example() {
	ctx := context.Background()
	client := gh.NewClient(nil).WithAuthToken(os.Getenv("GITHUB_TOKEN"))
	rp := reportgh.New(client, reportgh.Options{
		Owner: "acme", Repo: "nlp", PullRequest: 7,
		HeadSHA: "<pull_request.head.sha>", BaseSHA: "<pull_request.base.sha>",
	})

	r := report.Run{Runnable: "experiments/bert.yaml", Verdict: report.Running}
	if base, err := rp.BaseRun(ctx, r.Runnable); err != nil {
		log.Printf("sear: no comparison with the base branch: %v", err)
	} else {
		r.Base = base
	}
	if err := rp.Start(ctx, r); err != nil {
		log.Printf("sear: %v", err)
	}
	// … each phase: append it to r.Phases, then rp.Progress(ctx, r) …
	r.Verdict = report.Success
	r, err := rp.Finish(ctx, r)
	if err != nil {
		log.Printf("sear: %v", err)
	}
	for _, w := range r.Warnings {
		log.Printf("::warning::%s", w)
	}
	if err := report.AppendStepSummary(os.Getenv("GITHUB_STEP_SUMMARY"), r); err != nil {
		log.Printf("sear: %v", err)
	}
	if err := action.WriteOutputs(os.Getenv("GITHUB_OUTPUT"), report.Outputs(r)); err != nil {
		log.Printf("sear: %v", err)
	}
}
