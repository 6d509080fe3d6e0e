package fakegithub

import "fmt"

// checkRunJSON is GitHub's check run, shaped after a real answer for a run
// made with a GITHUB_TOKEN (ashley-taylor/junit-report-annotations-action#3):
// output fields are null until set, app is the creating token's (GitHub
// Actions for a GITHUB_TOKEN), html_url is {server}/{owner}/{repo}/runs/{id}.
type checkRunJSON struct {
	ID           int64         `json:"id"`
	HeadSHA      string        `json:"head_sha"`
	NodeID       string        `json:"node_id"`
	ExternalID   string        `json:"external_id"`
	URL          string        `json:"url"`
	HTMLURL      string        `json:"html_url"`
	DetailsURL   string        `json:"details_url"`
	Status       string        `json:"status"`
	Conclusion   *string       `json:"conclusion"`
	StartedAt    *string       `json:"started_at"`
	CompletedAt  *string       `json:"completed_at"`
	Output       outputJSON    `json:"output"`
	Name         string        `json:"name"`
	CheckSuite   idJSON        `json:"check_suite"`
	App          appJSON       `json:"app"`
	PullRequests []pullRefJSON `json:"pull_requests"`
}

type outputJSON struct {
	Title            *string `json:"title"`
	Summary          *string `json:"summary"`
	Text             *string `json:"text"`
	AnnotationsCount int     `json:"annotations_count"`
	AnnotationsURL   string  `json:"annotations_url"`
}

type idJSON struct {
	ID int64 `json:"id"`
}

type appJSON struct {
	ID      int64    `json:"id"`
	Slug    string   `json:"slug"`
	NodeID  string   `json:"node_id"`
	Name    string   `json:"name"`
	Owner   userJSON `json:"owner"`
	HTMLURL string   `json:"html_url"`
}

// appJSON renders the app that owns a check run; GitHub Actions' owner
// is the "github" organisation (id 9919).
func (s *Server) appJSON(c *call, a App) appJSON {
	owner := a.Owner
	if owner == "" {
		owner = c.repo.owner
	}
	o := s.userJSON(c, owner)
	if owner == githubActions.Owner {
		o = userJSON{
			Login: "github", ID: 9919, NodeID: "MDEyOk9yZ2FuaXphdGlvbjk5MTk=", Type: "Organization",
			AvatarURL: c.base + "/avatars/u/9919", URL: c.base + "/users/github", HTMLURL: c.base + "/github",
		}
	}
	return appJSON{
		ID: a.ID, Slug: a.Slug, NodeID: nodeID("App", a.ID), Name: a.Name, Owner: o,
		HTMLURL: c.base + "/apps/" + a.Slug,
	}
}

func (s *Server) checkRunJSON(c *call, cr *checkRun) checkRunJSON {
	api := fmt.Sprintf("%s/repos/%s/check-runs/%d", c.base, c.repo.fullName(), cr.id)
	html := fmt.Sprintf("%s/%s/runs/%d", c.base, c.repo.fullName(), cr.id)
	details := cr.detailsURL
	if details == "" {
		details = html // as for runs made by GitHub Actions itself
	}
	var conclusion *string
	if cr.conclusion != "" {
		conclusion = &cr.conclusion
	}
	return checkRunJSON{
		ID: cr.id, HeadSHA: cr.headSHA, NodeID: nodeID("CheckRun", cr.id), ExternalID: cr.externalID,
		URL: api, HTMLURL: html, DetailsURL: details, Status: cr.status, Conclusion: conclusion,
		StartedAt: optTimestamp(cr.startedAt), CompletedAt: optTimestamp(cr.completedAt),
		Output: outputJSON{
			Title: cr.title, Summary: cr.summary, Text: cr.text,
			AnnotationsCount: len(cr.annotations), AnnotationsURL: api + "/annotations",
		},
		Name: cr.name, CheckSuite: idJSON{ID: cr.suite}, App: s.appJSON(c, cr.app),
		PullRequests: pullsForSHA(c, c.repo, cr.headSHA),
	}
}
