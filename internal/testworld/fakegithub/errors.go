package fakegithub

import (
	"net/http"
	"strconv"
	"strings"
)

// docRoot is the documentation_url GitHub sends with "Not Found" and
// "Bad credentials": {"message":"Bad credentials","documentation_url":
// "https://docs.github.com/rest","status":"401"} (as seen in client logs,
// e.g. maxlath/backup-github-repo#10).
const docRoot = "https://docs.github.com/rest"

// apiError is GitHub's error body. Since 2024 GitHub also repeats the status
// as a string ("status":"422"); go-github ignores that field.
type apiError struct {
	Message          string       `json:"message"`
	Errors           []fieldError `json:"errors,omitempty"`
	DocumentationURL string       `json:"documentation_url"`
	Status           string       `json:"status"`
}

// fieldError is one entry of a "Validation Failed" body; its codes are the
// ones listed under "Validation Failed" in "Troubleshooting the REST API".
type fieldError struct {
	Resource string `json:"resource"`
	Code     string `json:"code"`
	Field    string `json:"field"`
	Message  string `json:"message,omitempty"`
}

func errorReply(status int, message, doc string) reply {
	return reply{status: status, body: apiError{
		Message:          message,
		DocumentationURL: doc,
		Status:           strconv.Itoa(status),
	}}
}

// notFound is GitHub's answer to an unknown route, a wrong method ("you will
// receive a 404 Not Found response instead of 405 Method Not Allowed") and a
// private resource the caller may not see ("404 Not Found instead of a 403
// Forbidden response to avoid confirming the existence of private
// repositories"), all from "Troubleshooting the REST API".
func notFound() reply {
	return errorReply(http.StatusNotFound, "Not Found", docRoot)
}

// notAccessible is what a GitHub App or GITHUB_TOKEN without the permission
// gets: "Resource not accessible by integration" (Troubleshooting, "Resource
// not accessible"); fork pull requests hit it on every write
// (marocchino/sticky-pull-request-comment#227, hasura/comment-progress#9:
// 403 {"message":"Resource not accessible by integration",...}).
func notAccessible(doc string) reply {
	return errorReply(http.StatusForbidden, "Resource not accessible by integration", doc)
}

// invalidRequest is the schema-validation failure: 422, "Invalid request."
// then a blank line and one line per problem, e.g. "Invalid request.\n\n\"head_sha\"
// wasn't supplied." (github-community-projects/safe-settings#1015) or
// "Invalid request.\n\nNo more than 50 items are allowed; 51 were supplied."
// (dorny/test-reporter#194).
func invalidRequest(doc string, problems []string) reply {
	msg := "Invalid request.\n\n" + strings.Join(problems, "\n")
	return errorReply(http.StatusUnprocessableEntity, msg, doc)
}

// validationFailed is the model-validation failure: 422 "Validation Failed"
// with an errors array.
func validationFailed(doc string, errs ...fieldError) reply {
	rep := errorReply(http.StatusUnprocessableEntity, "Validation Failed", doc)
	body := rep.body.(apiError)
	body.Errors = errs
	rep.body = body
	return rep
}

// badRequest covers the two body-shape errors of "Troubleshooting the REST
// API": "Problems parsing JSON" and "Body should be a JSON object".
func badRequest(message, doc string) reply {
	return errorReply(http.StatusBadRequest, message, doc)
}
