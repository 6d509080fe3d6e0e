package fakegithub

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// repo is one emulated repository. Repositories are private: a call without
// a token, or with a token scoped elsewhere, gets 404.
type repo struct {
	id            int64
	owner, name   string
	defaultBranch string
	commits       map[string]bool
	pulls         map[int]*pull
	issues        map[int]bool
	suites        map[string]int64 // head SHA → the GitHub Actions check suite
	checkRuns     []*checkRun      // in id order
	comments      []*comment       // in id order: GitHub's default order
}

func (r *repo) fullName() string { return r.owner + "/" + r.name }

// AddRepo creates a repository with the given id; its default branch is
// "main" until SetDefaultBranch says otherwise.
func (s *Server) AddRepo(owner, name string, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &repo{
		id: id, owner: owner, name: name, defaultBranch: "main",
		commits: map[string]bool{}, pulls: map[int]*pull{}, issues: map[int]bool{}, suites: map[string]int64{},
	}
	s.repos[strings.ToLower(r.fullName())] = r
	s.byID[id] = r
}

// SetDefaultBranch changes a repository's default branch.
func (s *Server) SetDefaultBranch(owner, name, branch string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustRepo(owner, name).defaultBranch = branch
}

// AddCommit makes a commit SHA known, so check runs may be created on it.
// AddPullRequest registers its head and base SHAs itself.
func (s *Server) AddCommit(owner, name, sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustRepo(owner, name).commits[sha] = true
}

// AddIssue makes an issue number exist, so it can be commented on.
func (s *Server) AddIssue(owner, name string, number int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustRepo(owner, name).issues[number] = true
}

// mustRepo is for the setup methods: naming a repository that was never
// added is a bug in the test.
func (s *Server) mustRepo(owner, name string) *repo {
	r := s.repos[strings.ToLower(owner+"/"+name)]
	if r == nil {
		panic(fmt.Sprintf("fakegithub: repository %s/%s was not added", owner, name))
	}
	return r
}

// visibleRepo is the repository of the call's path if its token may see it.
// Owner and name are not case sensitive on GitHub ("The name is not case
// sensitive").
func (s *Server) visibleRepo(c *call) *repo {
	r := s.repos[strings.ToLower(c.params["owner"]+"/"+c.params["repo"])]
	if r == nil || c.tok == nil {
		return nil
	}
	if c.tok.Repo != "" && !strings.EqualFold(c.tok.Repo, r.fullName()) {
		return nil
	}
	return r
}

// getRepo answers GET /repos/{owner}/{repo}; sear reads default_branch.
func (s *Server) getRepo(c *call) reply {
	return reply{status: 200, body: s.repoJSON(c, c.repo)}
}

type repoJSON struct {
	ID            int64    `json:"id"`
	NodeID        string   `json:"node_id"`
	Name          string   `json:"name"`
	FullName      string   `json:"full_name"`
	Private       bool     `json:"private"`
	Owner         userJSON `json:"owner"`
	HTMLURL       string   `json:"html_url"`
	Fork          bool     `json:"fork"`
	URL           string   `json:"url"`
	DefaultBranch string   `json:"default_branch"`
	Visibility    string   `json:"visibility"`
}

func (s *Server) repoJSON(c *call, r *repo) repoJSON {
	return repoJSON{
		ID: r.id, NodeID: nodeID("Repository", r.id), Name: r.name, FullName: r.fullName(),
		Private: true, Owner: s.userJSON(c, r.owner), HTMLURL: c.base + "/" + r.fullName(),
		URL: c.base + "/repos/" + r.fullName(), DefaultBranch: r.defaultBranch, Visibility: "private",
	}
}

// userJSON is GitHub's simple user; "[bot]" logins are of type "Bot".
type userJSON struct {
	Login     string `json:"login"`
	ID        int64  `json:"id"`
	NodeID    string `json:"node_id"`
	AvatarURL string `json:"avatar_url"`
	URL       string `json:"url"`
	HTMLURL   string `json:"html_url"`
	Type      string `json:"type"`
	SiteAdmin bool   `json:"site_admin"`
}

func (s *Server) userJSON(c *call, login string) userJSON {
	id := s.userID(login)
	typ := "User"
	if strings.HasSuffix(login, "[bot]") {
		typ = "Bot"
	}
	return userJSON{
		Login: login, ID: id, NodeID: nodeID("User", id), Type: typ,
		AvatarURL: fmt.Sprintf("%s/avatars/u/%d", c.base, id),
		URL:       c.base + "/users/" + login, HTMLURL: c.base + "/" + login,
	}
}

// userID is a login's id: the token's if registered, else a stable new one.
func (s *Server) userID(login string) int64 {
	if id, ok := s.users[login]; ok {
		return id
	}
	s.seq.user++
	s.users[login] = s.seq.user
	return s.seq.user
}

// nodeID imitates GitHub's legacy global ids: base64 of "<len>:<Type><id>".
func nodeID(typ string, id int64) string {
	raw := fmt.Sprintf("0%d:%s%d", len(typ), typ, id)
	return base64.StdEncoding.EncodeToString([]byte(raw))
}
