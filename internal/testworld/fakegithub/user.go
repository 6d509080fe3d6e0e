package fakegithub

import (
	"net/http"
	"strings"
)

const docGetUser = "https://docs.github.com/rest/users/users#get-the-authenticated-user"

// getUser is GET /user, "Get the authenticated user". A person's token gets its user. A GitHub
// App installation token (a workflow's GITHUB_TOKEN, which acts as github-actions[bot]) is not a
// user: GitHub answers 403 "Resource not accessible by integration". Without a token, 401
// "Requires authentication".
func (s *Server) getUser(c *call) reply {
	switch {
	case c.tok == nil:
		return errorReply(http.StatusUnauthorized, "Requires authentication", docGetUser)
	case strings.HasSuffix(c.tok.Login, "[bot]"):
		return notAccessible(docGetUser)
	}
	return reply{status: http.StatusOK, body: s.userJSON(c, c.tok.Login)}
}
