package fakegithub

import (
	"net/http"
	"strings"
)

// Token says what a bearer token may do, like the GITHUB_TOKEN of one
// workflow job.
type Token struct {
	// Login is the identity the token acts as, e.g. "github-actions[bot]";
	// it authors the comments the token writes.
	Login string
	// UserID is that identity's numeric id (github-actions[bot] is 41898282).
	UserID int64
	// Repo is the "owner/name" the token is scoped to; empty means every
	// repository. A GITHUB_TOKEN only reaches the repository of its workflow
	// ("Troubleshooting the REST API"); other repositories answer 404.
	Repo string
	// ReadOnly makes the token a fork pull request's: "Pull requests from
	// public forks ... will receive a read token regardless of these
	// settings" (GitHub changelog 2021-04-20; "Maximum access for pull
	// requests from public forked repositories" is read in the GITHUB_TOKEN
	// reference). Every write answers 403 "Resource not accessible by
	// integration"; reads succeed.
	ReadOnly bool
	// App is the GitHub App whose installation token this is, the app
	// that owns the check runs the token creates, as the check run's "app"
	// shows it. Nil for a bot login ("…[bot]") is GitHub Actions, a
	// workflow's GITHUB_TOKEN. A person's token (no "[bot]") has no app,
	// and creating or updating a check run with it answers 403 "You must
	// authenticate via a GitHub App." ("The Checks API is only available to
	// GitHub Apps", actions/github-script#118).
	App *App
	// Permissions maps a scope ("checks", "issues", "pull-requests",
	// "metadata") to "read", "write" or "none", like a workflow's
	// `permissions:` key: "write includes read", and once any scope is given
	// "all of those that are not specified are set to none"; metadata is
	// always readable. Nil means the permissive default: write everywhere.
	Permissions map[string]string
}

// App is a GitHub App as the API shows it in a check run's "app".
type App struct {
	ID   int64
	Slug string // its bot account is "<slug>[bot]"
	Name string
	// Owner is the login of the account that owns the app; the
	// repository's owner when empty.
	Owner string
}

// app is the app that owns the token's check runs, nil for a person's.
func (t *Token) app() *App {
	switch {
	case t == nil:
		return nil
	case t.App != nil:
		return t.App
	case strings.HasSuffix(t.Login, "[bot]"):
		return &githubActions
	}
	return nil
}

// githubActions is the app every GITHUB_TOKEN check run belongs to: id
// 15368, slug github-actions, owned by the "github" organisation.
var githubActions = App{ID: 15368, Slug: "github-actions", Name: "GitHub Actions", Owner: "github"}

// AddToken registers a bearer token and what it may do.
func (s *Server) AddToken(token string, t Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = t
	if t.Login != "" && t.UserID != 0 {
		s.users[t.Login] = t.UserID
	}
}

// identify reads "Authorization: Bearer <t>" or "token <t>". No header is an
// anonymous call; an unknown token is 401 "Bad credentials". The reply is
// returned, not sent, so the call still counts against the anonymous limit.
func (s *Server) identify(c *call) *reply {
	h := c.req.Header.Get("Authorization")
	if h == "" {
		return nil
	}
	scheme, tok, _ := strings.Cut(h, " ")
	t, known := s.tokens[strings.TrimSpace(tok)]
	if !known || !(strings.EqualFold(scheme, "bearer") || strings.EqualFold(scheme, "token")) {
		rep := errorReply(http.StatusUnauthorized, "Bad credentials", docRoot)
		return &rep
	}
	c.token, c.tok = strings.TrimSpace(tok), &t
	return nil
}

// access is what a route needs: read or write on any one of its scopes.
type access struct {
	scopes []string
	write  bool
}

// header renders access as X-Accepted-GitHub-Permissions does: scopes with
// underscores, alternatives separated by "; ".
func (a access) header() string {
	level := "read"
	if a.write {
		level = "write"
	}
	alts := make([]string, len(a.scopes))
	for i, sc := range a.scopes {
		alts[i] = strings.ReplaceAll(sc, "-", "_") + "=" + level
	}
	return strings.Join(alts, "; ")
}

// Permission levels, ordered.
const (
	levelNone = iota
	levelRead
	levelWrite
)

// level is the token's access to one scope.
func (t *Token) level(scope string) int {
	lvl := levelWrite
	if t.Permissions != nil {
		lvl = map[string]int{"read": levelRead, "write": levelWrite}[t.Permissions[scope]]
	}
	if scope == "metadata" && lvl < levelRead {
		lvl = levelRead
	}
	if t.ReadOnly && lvl > levelRead {
		lvl = levelRead
	}
	return lvl
}

// may reports whether the token grants the access; nil (anonymous) never
// does, but anonymous calls never get this far (repositories are private).
func (t *Token) may(a access) bool {
	if t == nil {
		return false
	}
	need := levelRead
	if a.write {
		need = levelWrite
	}
	for _, sc := range a.scopes {
		if t.level(sc) >= need {
			return true
		}
	}
	return false
}

// login is the token's login for the call log; "" when anonymous.
func (c *call) login() string {
	if c.tok == nil {
		return ""
	}
	return c.tok.Login
}

// supportedVersions are the REST API versions the emulator answers; go-github
// v60 sends X-GitHub-Api-Version: 2022-11-28.
var supportedVersions = []string{"2022-11-28"}

// checkVersion echoes a supported X-GitHub-Api-Version as
// X-GitHub-Api-Version-Selected and refuses an unknown one with 400, in the
// words GitHub used for "v3" (expipiplus1/update-nix-fetchgit#79).
func checkVersion(c *call) (reply, bool) {
	v := c.req.Header.Get("X-GitHub-Api-Version")
	if v == "" {
		return reply{}, false
	}
	for _, ok := range supportedVersions {
		if v == ok {
			c.header.Set("X-GitHub-Api-Version-Selected", v)
			return reply{}, false
		}
	}
	msg := `The version you specified in the "X-GitHub-API-Version" request header, "` + v +
		`", is not a supported version. The following versions are currently supported: "` +
		supportedVersions[0] + `" (most recent).`
	return badRequest(msg, "https://docs.github.com/rest/overview/api-versions"), true
}
