package fakegithub

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
)

func annotations(n, from int) []*gh.CheckRunAnnotation {
	out := make([]*gh.CheckRunAnnotation, n)
	for i := range out {
		out[i] = &gh.CheckRunAnnotation{
			Path: gh.String("runnable.yaml"), StartLine: gh.Int(from + i), EndLine: gh.Int(from + i),
			AnnotationLevel: gh.String("warning"), Message: gh.String(fmt.Sprintf("note %d", from+i)),
		}
	}
	return out
}

func createRun(t *testing.T, c *gh.Client, opts gh.CreateCheckRunOptions) *gh.CheckRun {
	t.Helper()
	run, resp, err := c.Checks.CreateCheckRun(context.Background(), owner, name, opts)
	if err != nil {
		t.Fatalf("create check run: %v", err)
	}
	if resp.StatusCode != 201 {
		t.Fatalf("status = %d, want 201", resp.StatusCode)
	}
	return run
}

func TestCheckRunLifecycle(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	_, ts := world(t, Options{Now: clk.now})
	c, ctx := client(t, ts, writerToken), context.Background()

	run := createRun(t, c, gh.CreateCheckRunOptions{
		Name: "sear", HeadSHA: headSHA, Status: gh.String("in_progress"), ExternalID: gh.String("run-1"),
		Output: &gh.CheckRunOutput{Title: gh.String("Provisioning"), Summary: gh.String("1/4 phases")},
	})
	if got, want := run.GetHTMLURL(), fmt.Sprintf("%s/%s/%s/runs/%d", ts.URL, owner, name, run.GetID()); got != want {
		t.Errorf("html_url = %q, want %q", got, want)
	}
	if run.GetStatus() != "in_progress" || run.Conclusion != nil || run.CompletedAt != nil {
		t.Errorf("new run: status %q conclusion %v completed_at %v", run.GetStatus(), run.Conclusion, run.CompletedAt)
	}
	if run.GetStartedAt().Time != clk.now() || run.GetApp().GetSlug() != "github-actions" {
		t.Errorf("started_at %v app %q", run.GetStartedAt(), run.GetApp().GetSlug())
	}
	if prs := run.PullRequests; len(prs) != 1 || prs[0].GetNumber() != pullRequestNo {
		t.Errorf("pull_requests = %v, want #%d", prs, pullRequestNo)
	}

	clk.advance(90 * time.Second)
	_, _, err := c.Checks.UpdateCheckRun(ctx, owner, name, run.GetID(), gh.UpdateCheckRunOptions{
		Name: "sear", Status: gh.String("completed"), Conclusion: gh.String("success"),
		Output: &gh.CheckRunOutput{Title: gh.String("Passed"), Summary: gh.String("4/4 phases"), Text: gh.String("log")},
	})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	got, _, err := c.Checks.GetCheckRun(ctx, owner, name, run.GetID())
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.GetStatus() != "completed" || got.GetConclusion() != "success" || got.GetExternalID() != "run-1" {
		t.Errorf("got status %q conclusion %q external_id %q", got.GetStatus(), got.GetConclusion(), got.GetExternalID())
	}
	if got.GetCompletedAt().Time != clk.now() || got.GetOutput().GetTitle() != "Passed" || got.GetOutput().GetText() != "log" {
		t.Errorf("completed_at %v output %+v", got.GetCompletedAt(), got.GetOutput())
	}
}

func TestConclusionCompletesTheRun(t *testing.T) {
	t.Parallel()
	_, ts := world(t, Options{})
	c := client(t, ts, writerToken)
	// "Providing conclusion will automatically set the status parameter to
	// completed."
	run := createRun(t, c, gh.CreateCheckRunOptions{Name: "sear", HeadSHA: headSHA, Conclusion: gh.String("failure")})
	if run.GetStatus() != "completed" || run.CompletedAt == nil {
		t.Errorf("status %q completed_at %v, want completed with a time", run.GetStatus(), run.CompletedAt)
	}
}

func TestListCheckRunsForRef(t *testing.T) {
	t.Parallel()
	_, ts := world(t, Options{})
	c, ctx := client(t, ts, writerToken), context.Background()
	first := createRun(t, c, gh.CreateCheckRunOptions{Name: "sear", HeadSHA: headSHA})
	second := createRun(t, c, gh.CreateCheckRunOptions{Name: "sear", HeadSHA: headSHA, Status: gh.String("in_progress")})
	createRun(t, c, gh.CreateCheckRunOptions{Name: "lint", HeadSHA: headSHA})
	createRun(t, c, gh.CreateCheckRunOptions{Name: "sear", HeadSHA: baseSHA})

	tests := []struct {
		name, ref string
		opts      gh.ListCheckRunsOptions
		wantIDs   []int64
		wantTotal int
	}{
		{"latest of each name by SHA", headSHA, gh.ListCheckRunsOptions{CheckName: gh.String("sear")}, []int64{second.GetID()}, 1},
		{"all by branch name", "feature/x", gh.ListCheckRunsOptions{CheckName: gh.String("sear"), Filter: gh.String("all")}, []int64{second.GetID(), first.GetID()}, 2},
		{"status filter", headSHA, gh.ListCheckRunsOptions{Status: gh.String("in_progress"), Filter: gh.String("all")}, []int64{second.GetID()}, 1},
		{"paginated total", headSHA, gh.ListCheckRunsOptions{Filter: gh.String("all"), ListOptions: gh.ListOptions{PerPage: 1}}, nil, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, resp, err := c.Checks.ListCheckRunsForRef(ctx, owner, name, tt.ref, &tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.GetTotal() != tt.wantTotal {
				t.Errorf("total_count = %d, want %d", res.GetTotal(), tt.wantTotal)
			}
			if tt.wantIDs == nil {
				if len(res.CheckRuns) != 1 || resp.NextPage != 2 || resp.LastPage != 3 {
					t.Errorf("page: %d runs, next %d, last %d", len(res.CheckRuns), resp.NextPage, resp.LastPage)
				}
				return
			}
			var ids []int64
			for _, r := range res.CheckRuns {
				ids = append(ids, r.GetID())
			}
			if fmt.Sprint(ids) != fmt.Sprint(tt.wantIDs) {
				t.Errorf("ids = %v, want %v", ids, tt.wantIDs)
			}
		})
	}
}

func TestAnnotationsPerRequestLimit(t *testing.T) {
	t.Parallel()
	_, ts := world(t, Options{})
	c := client(t, ts, writerToken)
	out := func(n int) *gh.CheckRunOutput {
		return &gh.CheckRunOutput{Title: gh.String("t"), Summary: gh.String("s"), Annotations: annotations(n, 1)}
	}
	run := createRun(t, c, gh.CreateCheckRunOptions{Name: "sear", HeadSHA: headSHA, Output: out(50)})
	if run.GetOutput().GetAnnotationsCount() != 50 {
		t.Errorf("annotations_count = %d, want 50", run.GetOutput().GetAnnotationsCount())
	}
	_, _, err := c.Checks.CreateCheckRun(context.Background(), owner, name, gh.CreateCheckRunOptions{Name: "sear", HeadSHA: headSHA, Output: out(51)})
	er := apiErr(t, err, 422)
	if want := "Invalid request.\n\nNo more than 50 items are allowed; 51 were supplied."; er.Message != want {
		t.Errorf("message = %q, want %q", er.Message, want)
	}
	_, _, err = c.Checks.UpdateCheckRun(context.Background(), owner, name, run.GetID(), gh.UpdateCheckRunOptions{Name: "sear", Output: out(51)})
	apiErr(t, err, 422)
}

func TestAnnotationsAppendAcrossUpdates(t *testing.T) {
	t.Parallel()
	_, ts := world(t, Options{})
	c, ctx := client(t, ts, writerToken), context.Background()
	run := createRun(t, c, gh.CreateCheckRunOptions{Name: "sear", HeadSHA: headSHA, Status: gh.String("in_progress")})
	for i, n := range []int{50, 50, 20} {
		opts := gh.UpdateCheckRunOptions{Name: "sear", Output: &gh.CheckRunOutput{
			Title: gh.String(fmt.Sprintf("batch %d", i)), Summary: gh.String("s"), Annotations: annotations(n, i*50+1),
		}}
		if _, _, err := c.Checks.UpdateCheckRun(ctx, owner, name, run.GetID(), opts); err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	got, _, err := c.Checks.GetCheckRun(ctx, owner, name, run.GetID())
	if err != nil {
		t.Fatal(err)
	}
	if got.GetOutput().GetAnnotationsCount() != 120 || got.GetOutput().GetTitle() != "batch 2" {
		t.Errorf("count %d title %q, want 120 and the last title", got.GetOutput().GetAnnotationsCount(), got.GetOutput().GetTitle())
	}
	var all []*gh.CheckRunAnnotation
	opts := &gh.ListOptions{PerPage: 100}
	for {
		page, resp, err := c.Checks.ListCheckRunAnnotations(ctx, owner, name, run.GetID(), opts)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if len(all) != 120 || all[0].GetMessage() != "note 1" || all[119].GetMessage() != "note 120" {
		t.Fatalf("listed %d annotations, want 120 in order", len(all))
	}
}

func TestOutputSizeLimits(t *testing.T) {
	t.Parallel()
	_, ts := world(t, Options{})
	c := client(t, ts, writerToken)
	tests := []struct {
		name          string
		summary, text string
		wantStatus    int
		wantMessage   string
		wantField     string
	}{
		{"summary of 65535 characters", strings.Repeat("a", 65535), "", 201, "", ""},
		{"summary of 65536 characters", strings.Repeat("a", 65536), "", 422, "Invalid request.\n\nOnly 65535 characters are allowed; 65536 were supplied.", ""},
		{"text of 65536 characters", "s", strings.Repeat("b", 65536), 422, "Invalid request.\n\nOnly 65535 characters are allowed; 65536 were supplied.", ""},
		{"summary over 65535 bytes", strings.Repeat("é", 40000), "", 422, "Validation Failed", "summary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := &gh.CheckRunOutput{Title: gh.String("t"), Summary: gh.String(tt.summary)}
			if tt.text != "" {
				out.Text = gh.String(tt.text)
			}
			_, resp, err := c.Checks.CreateCheckRun(context.Background(), owner, name, gh.CreateCheckRunOptions{Name: "sear", HeadSHA: headSHA, Output: out})
			if tt.wantStatus == 201 {
				if err != nil || resp.StatusCode != 201 {
					t.Fatalf("err %v", err)
				}
				return
			}
			er := apiErr(t, err, tt.wantStatus)
			if er.Message != tt.wantMessage {
				t.Errorf("message = %q, want %q", er.Message, tt.wantMessage)
			}
			if tt.wantField != "" && (len(er.Errors) != 1 || er.Errors[0].Field != tt.wantField ||
				er.Errors[0].Message != "summary exceeds a maximum bytesize of 65535") {
				t.Errorf("errors = %+v", er.Errors)
			}
		})
	}
}

func TestCheckRunRequestValidation(t *testing.T) {
	t.Parallel()
	_, ts := world(t, Options{})
	c := client(t, ts, writerToken)
	path := fmt.Sprintf("repos/%s/%s/check-runs", owner, name)
	badAnnotation := map[string]any{"path": "a.yaml", "message": "m"}
	tests := []struct {
		name string
		body map[string]any
		want string
	}{
		{"name and head_sha missing", map[string]any{}, "Invalid request.\n\n\"head_sha\", \"name\" weren't supplied."},
		{"completed without conclusion", map[string]any{"name": "sear", "head_sha": headSHA, "status": "completed"}, "Invalid request.\n\nNo subschema in \"oneOf\" matched."},
		{"unknown status", map[string]any{"name": "sear", "head_sha": headSHA, "status": "done"}, "Invalid request.\n\nFor 'properties/status', done is not a member of [\"queued\", \"in_progress\", \"completed\"]."},
		{"wrong type", map[string]any{"name": 5, "head_sha": headSHA}, "Invalid request.\n\nFor 'properties/name', 5 is not a string."},
		{"annotation fields missing", map[string]any{"name": "sear", "head_sha": headSHA, "output": map[string]any{
			"title": "t", "summary": "s", "annotations": []any{badAnnotation}}},
			"Invalid request.\n\n\"annotation_level\", \"end_line\", \"start_line\" weren't supplied."},
		{"unknown commit", map[string]any{"name": "sear", "head_sha": "abc"}, "No commit found for SHA: abc"},
		{"columns across lines", map[string]any{"name": "sear", "head_sha": headSHA, "output": map[string]any{
			"title": "t", "summary": "s", "annotations": []any{map[string]any{"path": "a", "start_line": 1, "end_line": 2,
				"start_column": 1, "annotation_level": "notice", "message": "m"}}}}, "Validation Failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rawCall(t, c, "POST", path, tt.body)
			if er := apiErr(t, err, 422); er.Message != tt.want {
				t.Errorf("message = %q, want %q", er.Message, tt.want)
			}
		})
	}
}

func TestUpdateNeedsAName(t *testing.T) {
	t.Parallel()
	_, ts := world(t, Options{})
	c := client(t, ts, writerToken)
	run := createRun(t, c, gh.CreateCheckRunOptions{Name: "sear", HeadSHA: headSHA})
	// go-github v60 always sends "name" on update; leaving it empty is refused.
	_, _, err := c.Checks.UpdateCheckRun(context.Background(), owner, name, run.GetID(), gh.UpdateCheckRunOptions{Status: gh.String("in_progress")})
	if er := apiErr(t, err, 422); len(er.Errors) != 1 || er.Errors[0].Field != "name" {
		t.Errorf("errors = %+v", er.Errors)
	}
}
