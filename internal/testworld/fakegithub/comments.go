package fakegithub

import (
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"
)

// maxCommentChars is the limit GitHub states when it refuses a comment:
// "Body is too long (maximum is 65536 characters)", so 65,536 is accepted
// and 65,537 refused. The emulator enforces that statement, in characters
// (code points, as Ruby counts). Measurements of github.com show the real
// cut later, at 262,144 UTF-8 bytes (dead-claudia/github-limits#13,
// objectstack-ai/objectstack#18826): 65,536 characters never exceed it, so a
// body the emulator accepts is one GitHub accepts.
const maxCommentChars = 65536

// comment is one issue comment.
type comment struct {
	id               int64
	issue            int
	login            string
	body             string
	created, updated time.Time
}

// SeedComments adds n comments by author to an issue (creating the issue
// number if needed), bodies "seed comment 1" … "seed comment n", to test
// pagination past 100.
func (s *Server) SeedComments(owner, repo string, issue int, n int, author string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(owner, repo)
	r.issues[issue] = true
	now := s.opts.Now().UTC()
	for i := 1; i <= n; i++ {
		s.seq.comment++
		r.comments = append(r.comments, &comment{
			id: s.seq.comment, issue: issue, login: author,
			body: fmt.Sprintf("seed comment %d", i), created: now, updated: now,
		})
	}
}

// listComments answers GET …/issues/{number}/comments, "ordered by
// ascending ID", paginated, optionally only those updated at or after since.
func (s *Server) listComments(c *call) reply {
	n, ok := c.issueNumber()
	if !ok {
		return notFound()
	}
	since, _ := time.Parse(time.RFC3339, c.req.URL.Query().Get("since"))
	var all []commentJSON
	for _, cm := range c.repo.comments {
		if cm.issue == n && !cm.updated.Before(since) {
			all = append(all, s.commentJSON(c, cm))
		}
	}
	items, link := paginate(c, s.pageOf(c), all)
	return listReply(nonNil(items), link)
}

// createComment answers POST …/issues/{number}/comments with 201. The author
// is the token's login.
func (s *Server) createComment(c *call) reply {
	n, ok := c.issueNumber()
	if !ok {
		return notFound()
	}
	body, bad := readCommentBody(c)
	if bad != nil {
		return *bad
	}
	s.seq.comment++
	cm := &comment{id: s.seq.comment, issue: n, login: c.login(), body: body, created: c.now, updated: c.now}
	c.repo.comments = append(c.repo.comments, cm)
	out := s.commentJSON(c, cm)
	return reply{status: http.StatusCreated, body: out, header: http.Header{"Location": {out.URL}}}
}

// getComment answers GET …/issues/comments/{id}.
func (s *Server) getComment(c *call) reply {
	_, cm := c.findComment()
	if cm == nil {
		return notFound()
	}
	return reply{status: http.StatusOK, body: s.commentJSON(c, cm)}
}

// updateComment answers PATCH …/issues/comments/{id}: the body is replaced
// in place, updated_at moves, the id stays.
func (s *Server) updateComment(c *call) reply {
	_, cm := c.findComment()
	if cm == nil {
		return notFound()
	}
	body, bad := readCommentBody(c)
	if bad != nil {
		return *bad
	}
	cm.body, cm.updated = body, c.now
	return reply{status: http.StatusOK, body: s.commentJSON(c, cm)}
}

// deleteComment answers DELETE …/issues/comments/{id} with 204.
func (s *Server) deleteComment(c *call) reply {
	i, cm := c.findComment()
	if cm == nil {
		return notFound()
	}
	c.repo.comments = append(c.repo.comments[:i], c.repo.comments[i+1:]...)
	return reply{status: http.StatusNoContent}
}

// readCommentBody validates {"body": …}. Too long is a Validation Failed
// with GitHub's own entry: {"resource":"IssueComment","code":"unprocessable",
// "field":"data","message":"Body is too long (maximum is 65536 characters)"}
// (reg-viz/reg-actions#123, elastic/kibana#71307). A blank body is refused
// the same way (wording inferred).
func readCommentBody(c *call) (string, *reply) {
	f, bad := parseBody(c.body, c.route.doc)
	if bad != nil {
		return "", bad
	}
	f.require("body")
	body := f.str("body")
	if len(f.p.list) > 0 {
		rep := invalidRequest(c.route.doc, f.p.list)
		return "", &rep
	}
	msg := ""
	switch {
	case *body == "":
		msg = "Body cannot be blank"
	case utf8.RuneCountInString(*body) > maxCommentChars:
		msg = fmt.Sprintf("Body is too long (maximum is %d characters)", maxCommentChars)
	default:
		return *body, nil
	}
	rep := validationFailed(c.route.doc, fieldError{Resource: "IssueComment", Code: "unprocessable", Field: "data", Message: msg})
	return "", &rep
}

// issueNumber is the path's issue number if that issue exists; pull request
// numbers are issue numbers.
func (c *call) issueNumber() (int, bool) {
	n, ok := c.intParam("number")
	return int(n), ok && c.repo.issues[int(n)]
}

func (c *call) findComment() (int, *comment) {
	id, ok := c.intParam("id")
	if !ok {
		return -1, nil
	}
	for i, cm := range c.repo.comments {
		if cm.id == id {
			return i, cm
		}
	}
	return -1, nil
}

type commentJSON struct {
	ID                int64    `json:"id"`
	NodeID            string   `json:"node_id"`
	URL               string   `json:"url"`
	HTMLURL           string   `json:"html_url"`
	Body              string   `json:"body"`
	User              userJSON `json:"user"`
	CreatedAt         string   `json:"created_at"`
	UpdatedAt         string   `json:"updated_at"`
	IssueURL          string   `json:"issue_url"`
	AuthorAssociation string   `json:"author_association"`
}

// commentJSON renders a comment; its html_url points at the pull request
// when the issue is one.
func (s *Server) commentJSON(c *call, cm *comment) commentJSON {
	r := c.repo
	kind := "issues"
	if r.pulls[cm.issue] != nil {
		kind = "pull"
	}
	return commentJSON{
		ID: cm.id, NodeID: nodeID("IssueComment", cm.id),
		URL:     fmt.Sprintf("%s/repos/%s/issues/comments/%d", c.base, r.fullName(), cm.id),
		HTMLURL: fmt.Sprintf("%s/%s/%s/%d#issuecomment-%d", c.base, r.fullName(), kind, cm.issue, cm.id),
		Body:    cm.body, User: s.userJSON(c, cm.login),
		CreatedAt: timestamp(cm.created), UpdatedAt: timestamp(cm.updated),
		IssueURL:          fmt.Sprintf("%s/repos/%s/issues/%d", c.base, r.fullName(), cm.issue),
		AuthorAssociation: "NONE",
	}
}
