package fakegithub

import (
	"maps"
	"net/url"
	"slices"
	"time"
	"unicode/utf8"
)

// State is everything the emulated GitHub holds, JSON-serialisable.
type State struct {
	Repos []RepoState `json:"repos"`
}

// RepoState is one repository and what was posted to it.
type RepoState struct {
	ID            int64              `json:"id"`
	FullName      string             `json:"full_name"`
	DefaultBranch string             `json:"default_branch"`
	PullRequests  []PullRequestState `json:"pull_requests"`
	CheckRuns     []CheckRunState    `json:"check_runs"`
	Comments      []CommentState     `json:"comments"`
}

// PullRequestState is one pull request.
type PullRequestState struct {
	Number   int    `json:"number"`
	HeadSHA  string `json:"head_sha"`
	BaseSHA  string `json:"base_sha"`
	HeadRef  string `json:"head_ref"`
	BaseRef  string `json:"base_ref"`
	FromFork bool   `json:"from_fork"`
}

// CheckRunState is one check run with every field GitHub keeps.
type CheckRunState struct {
	ID               int64        `json:"id"`
	Name             string       `json:"name"`
	HeadSHA          string       `json:"head_sha"`
	Status           string       `json:"status"`
	Conclusion       string       `json:"conclusion,omitempty"`
	DetailsURL       string       `json:"details_url,omitempty"`
	ExternalID       string       `json:"external_id,omitempty"`
	StartedAt        *time.Time   `json:"started_at"`
	CompletedAt      *time.Time   `json:"completed_at"`
	Title            *string      `json:"title"`
	Summary          *string      `json:"summary"`
	Text             *string      `json:"text"`
	AnnotationsCount int          `json:"annotations_count"`
	Annotations      []Annotation `json:"annotations"`
	CreatedBy        string       `json:"created_by"`
	// AppID and AppSlug name the app that owns the run, as its "app" does.
	AppID   int64  `json:"app_id"`
	AppSlug string `json:"app_slug"`
}

// CommentState is one issue comment; BodyLength counts characters.
type CommentState struct {
	ID         int64     `json:"id"`
	Issue      int       `json:"issue"`
	Author     string    `json:"author"`
	BodyLength int       `json:"body_length"`
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Call is one API call as the emulator saw it. The token itself is never
// kept, only the login it acts as.
type Call struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Query     string `json:"query,omitempty"`
	Status    int    `json:"status"`
	Login     string `json:"login,omitempty"`
	RequestID string `json:"request_id"`
}

// State returns a snapshot of every repository, sorted by full name.
func (s *Server) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := State{Repos: []RepoState{}}
	for _, key := range slices.Sorted(maps.Keys(s.repos)) {
		st.Repos = append(st.Repos, s.repos[key].state())
	}
	return st
}

// Calls returns the calls made so far, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

func (s *Server) record(c *call, rep reply) {
	s.calls = append(s.calls, Call{
		Method: c.req.Method, Path: c.req.URL.Path, Query: redactQuery(c.req.URL.Query()),
		Status: rep.status, Login: c.login(), RequestID: c.id,
	})
}

// redactQuery drops an access_token query parameter, the one place besides
// the Authorization header a token could travel.
func redactQuery(q url.Values) string {
	q.Del("access_token")
	return q.Encode()
}

func (r *repo) state() RepoState {
	st := RepoState{ID: r.id, FullName: r.fullName(), DefaultBranch: r.defaultBranch,
		PullRequests: []PullRequestState{}, CheckRuns: []CheckRunState{}, Comments: []CommentState{}}
	for _, n := range slices.Sorted(maps.Keys(r.pulls)) {
		p := r.pulls[n]
		st.PullRequests = append(st.PullRequests, PullRequestState{Number: n, HeadSHA: p.headSHA,
			BaseSHA: p.baseSHA, HeadRef: p.headRef, BaseRef: p.baseRef, FromFork: p.fromFork})
	}
	for _, cr := range r.checkRuns {
		st.CheckRuns = append(st.CheckRuns, cr.state())
	}
	for _, cm := range r.comments {
		st.Comments = append(st.Comments, CommentState{ID: cm.id, Issue: cm.issue, Author: cm.login,
			BodyLength: utf8.RuneCountInString(cm.body), Body: cm.body, CreatedAt: cm.created, UpdatedAt: cm.updated})
	}
	return st
}

func (cr *checkRun) state() CheckRunState {
	return CheckRunState{
		ID: cr.id, Name: cr.name, HeadSHA: cr.headSHA, Status: cr.status, Conclusion: cr.conclusion,
		DetailsURL: cr.detailsURL, ExternalID: cr.externalID,
		StartedAt: optTime(cr.startedAt), CompletedAt: optTime(cr.completedAt),
		Title: cr.title, Summary: cr.summary, Text: cr.text,
		AnnotationsCount: len(cr.annotations), Annotations: append([]Annotation{}, cr.annotations...),
		CreatedBy: cr.createdBy, AppID: cr.app.ID, AppSlug: cr.app.Slug,
	}
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
