package fakegithub

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// checkRun is one check run. Runs belong to the app of the token that
// created them (GitHub Actions for a GITHUB_TOKEN) and to a check suite
// for the head SHA.
type checkRun struct {
	id, suite                         int64
	name, headSHA, status, conclusion string
	detailsURL, externalID            string
	startedAt, completedAt            time.Time
	title, summary, text              *string
	annotations                       []Annotation
	createdBy                         string
	app                               App
}

// mustBeApp is GitHub's answer to a check-run write with a person's token:
// 403 {"message":"You must authenticate via a GitHub App.",
// "documentation_url":"https://docs.github.com/rest/reference/checks#create-a-check-run"}
// (EnricoMi/publish-unit-test-result-action#53, actions/github-script#118).
func mustBeApp(c *call) (reply, bool) {
	if c.tok.app() != nil {
		return reply{}, false
	}
	return errorReply(http.StatusForbidden, "You must authenticate via a GitHub App.", c.route.doc), true
}

// Annotation is one check-run annotation as GitHub stores and lists it.
type Annotation struct {
	Path            string  `json:"path"`
	StartLine       int     `json:"start_line"`
	EndLine         int     `json:"end_line"`
	StartColumn     *int    `json:"start_column"`
	EndColumn       *int    `json:"end_column"`
	AnnotationLevel string  `json:"annotation_level"`
	Title           *string `json:"title"`
	Message         string  `json:"message"`
	RawDetails      *string `json:"raw_details"`
}

// createCheckRun answers POST /repos/{owner}/{repo}/check-runs with 201.
func (s *Server) createCheckRun(c *call) reply {
	if rep, refused := mustBeApp(c); refused {
		return rep
	}
	in, bad := readCheckRequest(c, true)
	if bad != nil {
		return *bad
	}
	// An unknown SHA is refused as GitHub refuses statuses on it:
	// 422 "No commit found for SHA: …" (rust-lang/homu#141).
	if !c.repo.commits[*in.headSHA] {
		return errorReply(http.StatusUnprocessableEntity, "No commit found for SHA: "+*in.headSHA, docCreateCheck)
	}
	s.seq.checkRun++
	cr := &checkRun{
		id: s.seq.checkRun, suite: s.suiteFor(c.repo, *in.headSHA), headSHA: *in.headSHA,
		status: "queued", startedAt: c.now, createdBy: c.login(), app: *c.tok.app(),
	}
	cr.apply(in, c.now)
	c.repo.checkRuns = append(c.repo.checkRuns, cr)
	body := s.checkRunJSON(c, cr)
	return reply{status: http.StatusCreated, body: body, header: http.Header{"Location": {body.URL}}}
}

// updateCheckRun answers PATCH /repos/{owner}/{repo}/check-runs/{id}.
// "Each time you update the check run, annotations are appended to the list
// of annotations that already exist"; the rest of output is replaced.
func (s *Server) updateCheckRun(c *call) reply {
	if rep, refused := mustBeApp(c); refused {
		return rep
	}
	cr := c.findCheckRun()
	if cr == nil {
		return notFound()
	}
	in, bad := readCheckRequest(c, false)
	if bad != nil {
		return *bad
	}
	cr.apply(in, c.now)
	return reply{status: http.StatusOK, body: s.checkRunJSON(c, cr)}
}

// readCheckRequest parses and validates a create or update body.
func readCheckRequest(c *call, create bool) (checkInput, *reply) {
	f, bad := parseBody(c.body, c.route.doc)
	if bad != nil {
		return checkInput{}, bad
	}
	in := readCheckInput(f, create)
	if len(f.p.list) > 0 {
		rep := invalidRequest(c.route.doc, f.p.list)
		return in, &rep
	}
	if errs := in.modelErrors(); len(errs) > 0 {
		rep := validationFailed(c.route.doc, errs...)
		return in, &rep
	}
	return in, nil
}

// apply writes a validated request onto the run. "Providing conclusion will
// automatically set the status parameter to completed."
func (cr *checkRun) apply(in checkInput, now time.Time) {
	setIf(&cr.name, in.name)
	setIf(&cr.detailsURL, in.detailsURL)
	setIf(&cr.externalID, in.externalID)
	if in.startedAt != nil {
		cr.startedAt = *in.startedAt
	}
	if in.status != nil {
		cr.status = *in.status
		if cr.status != "completed" {
			cr.conclusion, cr.completedAt = "", time.Time{}
		}
	}
	if in.conclusion != nil {
		cr.conclusion, cr.status = *in.conclusion, "completed"
	}
	if in.completedAt != nil && cr.status == "completed" {
		cr.completedAt = *in.completedAt
	} else if cr.status == "completed" && cr.completedAt.IsZero() {
		cr.completedAt = now
	}
	if o := in.output; o != nil {
		cr.title, cr.summary, cr.text = o.title, o.summary, o.text
		cr.annotations = append(cr.annotations, o.annotations...)
	}
}

func setIf(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

// getCheckRun answers GET /repos/{owner}/{repo}/check-runs/{id}.
func (s *Server) getCheckRun(c *call) reply {
	cr := c.findCheckRun()
	if cr == nil {
		return notFound()
	}
	return reply{status: http.StatusOK, body: s.checkRunJSON(c, cr)}
}

func (c *call) findCheckRun() *checkRun {
	id, ok := c.intParam("id")
	if !ok {
		return nil
	}
	for _, cr := range c.repo.checkRuns {
		if cr.id == id {
			return cr
		}
	}
	return nil
}

// listCheckRuns answers GET /repos/{owner}/{repo}/commits/{ref}/check-runs:
// filtered by check_name and status, and by filter, "latest" (the default,
// "returns the most recent check runs": the newest of each name) or "all";
// paginated, with total_count counting every match. Newest first.
func (s *Server) listCheckRuns(c *call) reply {
	sha, ok := c.repo.resolveRef(c.params["ref"])
	if !ok {
		return notFound()
	}
	q := c.req.URL.Query()
	seen := map[string]bool{}
	var runs []checkRunJSON
	for _, cr := range slices.Backward(c.repo.checkRuns) {
		if cr.headSHA != sha || !matches(q.Get("check_name"), cr.name) || !matches(q.Get("status"), cr.status) {
			continue
		}
		if q.Get("filter") != "all" && seen[cr.name] {
			continue
		}
		seen[cr.name] = true
		runs = append(runs, s.checkRunJSON(c, cr))
	}
	pageRuns, link := paginate(c, s.pageOf(c), runs)
	return listReply(checkRunList{TotalCount: len(runs), CheckRuns: nonNil(pageRuns)}, link)
}

type checkRunList struct {
	TotalCount int            `json:"total_count"`
	CheckRuns  []checkRunJSON `json:"check_runs"`
}

func matches(filter, v string) bool { return filter == "" || filter == v }

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// resolveRef turns a SHA or a branch name ("main", "heads/main",
// "refs/heads/main") into a commit SHA, using the pull requests' heads and
// bases as the branches the emulator knows.
func (r *repo) resolveRef(ref string) (string, bool) {
	if r.commits[ref] {
		return ref, true
	}
	branch := strings.TrimPrefix(strings.TrimPrefix(ref, "refs/"), "heads/")
	for _, n := range slices.Backward(slices.Sorted(maps.Keys(r.pulls))) {
		p := r.pulls[n]
		switch branch {
		case p.headRef:
			return p.headSHA, true
		case p.baseRef:
			return p.baseSHA, true
		}
	}
	return "", false
}

// listAnnotations answers GET …/check-runs/{id}/annotations, paginated.
func (s *Server) listAnnotations(c *call) reply {
	cr := c.findCheckRun()
	if cr == nil {
		return notFound()
	}
	all := make([]annotationJSON, len(cr.annotations))
	for i, a := range cr.annotations {
		all[i] = annotationJSON{Annotation: a,
			BlobHref: fmt.Sprintf("%s/%s/blob/%s/%s", c.base, c.repo.fullName(), cr.headSHA, a.Path)}
	}
	items, link := paginate(c, s.pageOf(c), all)
	return listReply(nonNil(items), link)
}

type annotationJSON struct {
	Annotation
	BlobHref string `json:"blob_href"`
}

// suiteFor is the GitHub Actions check suite of a head SHA.
func (s *Server) suiteFor(r *repo, sha string) int64 {
	if id, ok := r.suites[sha]; ok {
		return id
	}
	s.seq.checkSuite++
	r.suites[sha] = s.seq.checkSuite
	return s.seq.checkSuite
}
