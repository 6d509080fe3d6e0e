package fakegithub

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Documentation anchors GitHub puts in documentation_url for each endpoint.
const (
	docChecks        = "https://docs.github.com/rest/checks/runs"
	docCreateCheck   = docChecks + "#create-a-check-run"
	docUpdateCheck   = docChecks + "#update-a-check-run"
	docGetCheck      = docChecks + "#get-a-check-run"
	docListChecks    = docChecks + "#list-check-runs-for-a-git-reference"
	docAnnotations   = docChecks + "#list-check-run-annotations"
	docComments      = "https://docs.github.com/rest/issues/comments"
	docListComments  = docComments + "#list-issue-comments"
	docCreateComment = docComments + "#create-an-issue-comment"
	docGetComment    = docComments + "#get-an-issue-comment"
	docUpdateComment = docComments + "#update-an-issue-comment"
	docDeleteComment = docComments + "#delete-an-issue-comment"
	docGetPull       = "https://docs.github.com/rest/pulls/pulls#get-a-pull-request"
	docGetRepo       = "https://docs.github.com/rest/repos/repos#get-a-repository"
)

// route is one endpoint: a method, a path pattern whose "{name}" segments
// capture one segment and whose "{name+}" segment captures one or more (a git
// ref may contain slashes), the permission it needs, and its handler.
type route struct {
	method  string
	pattern []string
	access  access
	doc     string
	handle  func(*call) reply
}

func (s *Server) routeTable() []route {
	checksR, checksW := access{scopes: []string{"checks"}}, access{scopes: []string{"checks"}, write: true}
	// Comments take either permission set: "Issues" or "Pull requests"
	// ("REST API endpoints for issue comments", fine-grained access).
	commentsR := access{scopes: []string{"issues", "pull-requests"}}
	commentsW := access{scopes: []string{"issues", "pull-requests"}, write: true}
	rt := func(method, pattern string, a access, doc string, h func(*call) reply) route {
		return route{method: method, pattern: strings.Split(strings.Trim(pattern, "/"), "/"), access: a, doc: doc, handle: h}
	}
	const r = "/repos/{owner}/{repo}"
	return []route{
		rt("GET", r, access{scopes: []string{"metadata"}}, docGetRepo, s.getRepo),
		rt("GET", r+"/pulls/{number}", access{scopes: []string{"pull-requests"}}, docGetPull, s.getPull),
		rt("POST", r+"/check-runs", checksW, docCreateCheck, s.createCheckRun),
		rt("GET", r+"/check-runs/{id}", checksR, docGetCheck, s.getCheckRun),
		rt("PATCH", r+"/check-runs/{id}", checksW, docUpdateCheck, s.updateCheckRun),
		rt("GET", r+"/check-runs/{id}/annotations", checksR, docAnnotations, s.listAnnotations),
		rt("GET", r+"/commits/{ref+}/check-runs", checksR, docListChecks, s.listCheckRuns),
		rt("GET", r+"/issues/{number}/comments", commentsR, docListComments, s.listComments),
		rt("POST", r+"/issues/{number}/comments", commentsW, docCreateComment, s.createComment),
		rt("GET", r+"/issues/comments/{id}", commentsR, docGetComment, s.getComment),
		rt("PATCH", r+"/issues/comments/{id}", commentsW, docUpdateComment, s.updateComment),
		rt("DELETE", r+"/issues/comments/{id}", commentsW, docDeleteComment, s.deleteComment),
	}
}

// dispatch finds the route, the repository and the permission, then runs the
// handler. A method the path does not support is a 404, as on GitHub.
func (s *Server) dispatch(c *call) reply {
	segs, ok := s.segments(c)
	if !ok {
		return notFound()
	}
	// The one route outside a repository: who the token is.
	if len(segs) == 1 && segs[0] == "user" && c.req.Method == http.MethodGet {
		return s.getUser(c)
	}
	for i := range s.routes {
		rt := &s.routes[i]
		if params, ok := matchPattern(rt.pattern, segs); ok && rt.method == c.req.Method {
			c.params, c.route = params, rt
			return s.authorize(c)
		}
	}
	return notFound()
}

// authorize resolves the repository the token may see and checks the
// route's permission; X-Accepted-GitHub-Permissions names what the endpoint
// needs ("Troubleshooting the REST API", "Resource not accessible").
func (s *Server) authorize(c *call) reply {
	c.repo = s.visibleRepo(c)
	if c.repo == nil {
		return notFound()
	}
	c.header.Set("X-Accepted-GitHub-Permissions", c.route.access.header())
	if !c.tok.may(c.route.access) {
		return notAccessible(c.route.doc)
	}
	return c.route.handle(c)
}

// segments splits the escaped path and unescapes each segment, so a ref
// escaped as "feature%2Fx" stays one segment. GitHub's Link headers point at
// /repositories/{id}/…; those are rewritten to /repos/{owner}/{repo}/….
func (s *Server) segments(c *call) ([]string, bool) {
	raw := strings.Split(strings.TrimPrefix(c.req.URL.EscapedPath(), "/"), "/")
	segs := make([]string, len(raw))
	for i, r := range raw {
		seg, err := url.PathUnescape(r)
		if err != nil {
			return nil, false
		}
		segs[i] = seg
	}
	if len(segs) >= 2 && segs[0] == "repositories" {
		id, err := strconv.ParseInt(segs[1], 10, 64)
		rp := s.byID[id]
		if err != nil || rp == nil {
			return nil, false
		}
		segs = append([]string{"repos", rp.owner, rp.name}, segs[2:]...)
	}
	return segs, true
}

// matchPattern matches path segments against a pattern.
func matchPattern(pat, segs []string) (map[string]string, bool) {
	params := map[string]string{}
	for i, p := range pat {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}") {
			tail := len(pat) - i - 1
			n := len(segs) - i - tail
			if n < 1 {
				return nil, false
			}
			params[p[1:len(p)-2]] = strings.Join(segs[i:i+n], "/")
			rest, ok := matchPattern(pat[i+1:], segs[i+n:])
			for k, v := range rest {
				params[k] = v
			}
			return params, ok
		}
		if i >= len(segs) {
			return nil, false
		}
		switch {
		case strings.HasPrefix(p, "{"):
			if segs[i] == "" {
				return nil, false
			}
			params[p[1:len(p)-1]] = segs[i]
		case p != segs[i]:
			return nil, false
		}
	}
	return params, len(pat) == len(segs)
}

// intParam reads a numeric path parameter; a non-number is a 404 on GitHub.
func (c *call) intParam(name string) (int64, bool) {
	n, err := strconv.ParseInt(c.params[name], 10, 64)
	return n, err == nil && n > 0
}
