package fakegithub

import (
	"fmt"
	"maps"
	"slices"
)

// forkOwner owns the fork a fork pull request comes from.
const forkOwner = "contributor"

// pull is one pull request; every pull request is also an issue.
type pull struct {
	number           int
	headSHA, baseSHA string
	headRef, baseRef string
	fromFork         bool
}

// AddPullRequest opens a pull request. Its number becomes an issue number
// too ("Every pull request is an issue"), and both SHAs become known
// commits. With fromFork, head.repo is "contributor/<name>" with fork: true,
// which is what sear reads to refuse fork pull requests.
func (s *Server) AddPullRequest(owner, repo string, number int, headSHA, baseSHA, headRef, baseRef string, fromFork bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(owner, repo)
	r.pulls[number] = &pull{number: number, headSHA: headSHA, baseSHA: baseSHA, headRef: headRef, baseRef: baseRef, fromFork: fromFork}
	r.issues[number] = true
	r.commits[headSHA], r.commits[baseSHA] = true, true
}

// getPull answers GET /repos/{owner}/{repo}/pulls/{number}.
func (s *Server) getPull(c *call) reply {
	n, ok := c.intParam("number")
	p := c.repo.pulls[int(n)]
	if !ok || p == nil {
		return notFound()
	}
	return reply{status: 200, body: s.pullJSON(c, c.repo, p)}
}

type pullJSON struct {
	URL         string     `json:"url"`
	ID          int64      `json:"id"`
	NodeID      string     `json:"node_id"`
	HTMLURL     string     `json:"html_url"`
	IssueURL    string     `json:"issue_url"`
	CommentsURL string     `json:"comments_url"`
	Number      int        `json:"number"`
	State       string     `json:"state"`
	Title       string     `json:"title"`
	User        userJSON   `json:"user"`
	Head        branchJSON `json:"head"`
	Base        branchJSON `json:"base"`
}

type branchJSON struct {
	Label string   `json:"label"`
	Ref   string   `json:"ref"`
	SHA   string   `json:"sha"`
	User  userJSON `json:"user"`
	Repo  repoJSON `json:"repo"`
}

func (s *Server) pullJSON(c *call, r *repo, p *pull) pullJSON {
	api := fmt.Sprintf("%s/repos/%s", c.base, r.fullName())
	id := r.id*100_000 + int64(p.number)
	base := s.repoJSON(c, r)
	head := base
	if p.fromFork {
		head = s.forkJSON(c, r)
	}
	return pullJSON{
		URL: fmt.Sprintf("%s/pulls/%d", api, p.number), ID: id, NodeID: nodeID("PullRequest", id),
		HTMLURL:     fmt.Sprintf("%s/%s/pull/%d", c.base, r.fullName(), p.number),
		IssueURL:    fmt.Sprintf("%s/issues/%d", api, p.number),
		CommentsURL: fmt.Sprintf("%s/issues/%d/comments", api, p.number),
		Number:      p.number, State: "open", Title: fmt.Sprintf("Pull request #%d", p.number),
		User: head.Owner,
		Head: branchJSON{Label: head.Owner.Login + ":" + p.headRef, Ref: p.headRef, SHA: p.headSHA, User: head.Owner, Repo: head},
		Base: branchJSON{Label: r.owner + ":" + p.baseRef, Ref: p.baseRef, SHA: p.baseSHA, User: base.Owner, Repo: base},
	}
}

// forkJSON is the fork a fork pull request's head lives in.
func (s *Server) forkJSON(c *call, r *repo) repoJSON {
	fork := s.repoJSON(c, &repo{id: r.id + 1_000_000_000, owner: forkOwner, name: r.name, defaultBranch: r.defaultBranch})
	fork.Fork, fork.Private, fork.Visibility = true, false, "public"
	return fork
}

// pullRefJSON is the short pull request a check run lists.
type pullRefJSON struct {
	ID     int64     `json:"id"`
	Number int       `json:"number"`
	APIURL string    `json:"url"`
	Head   shortHead `json:"head"`
	Base   shortHead `json:"base"`
}

type shortHead struct {
	Ref  string        `json:"ref"`
	SHA  string        `json:"sha"`
	Repo shortRepoJSON `json:"repo"`
}

type shortRepoJSON struct {
	ID   int64  `json:"id"`
	URL  string `json:"url"`
	Name string `json:"name"`
}

// pullsForSHA are the pull requests a check run on sha belongs to. "Pushes to
// a branch in a forked repository are not detected and return an empty
// pull_requests array" ("REST API endpoints for check runs").
func pullsForSHA(c *call, r *repo, sha string) []pullRefJSON {
	short := shortRepoJSON{ID: r.id, URL: c.base + "/repos/" + r.fullName(), Name: r.name}
	numbers := slices.Sorted(maps.Keys(r.pulls))
	out := []pullRefJSON{}
	for _, n := range numbers {
		p := r.pulls[n]
		if p.fromFork || p.headSHA != sha {
			continue
		}
		out = append(out, pullRefJSON{
			ID: r.id*100_000 + int64(n), Number: n, APIURL: fmt.Sprintf("%s/pulls/%d", short.URL, n),
			Head: shortHead{Ref: p.headRef, SHA: p.headSHA, Repo: short},
			Base: shortHead{Ref: p.baseRef, SHA: p.baseSHA, Repo: short},
		})
	}
	return out
}
