package sts

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// apiVersion is STS's query API version; SDKs send it as Version.
const apiVersion = "2011-06-15"

// Call is one request as the emulator saw it. It never holds the web identity token, a secret
// key or a session token.
type Call struct {
	Time        time.Time
	RequestID   string
	Action      string
	RoleARN     string
	SessionName string
	Subject     string // the token's sub, once the token was verified
	Status      int
	Code        string // the error code; empty on success
	AccessKeyID string // the key issued, on success
}

// Calls returns every call so far, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// ServeHTTP answers the query protocol: Action and parameters as form fields of a POST body
// (what the SDKs and the CLI send) or of a GET query. AssumeRoleWithWebIdentity needs no
// signature (the service model marks it "authtype": "none"), so none is checked.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	call := Call{Time: s.now(), RequestID: newRequestID()}
	result, apiErr := s.dispatch(r, &call)
	if apiErr != nil {
		call.Status, call.Code = apiErr.status, apiErr.code
		writeError(w, call.RequestID, apiErr)
	} else {
		call.Status = http.StatusOK
		writeXML(w, http.StatusOK, call.RequestID, webIdentityResponse{
			Xmlns: xmlns, Result: result, RequestID: call.RequestID,
		})
	}
	s.mu.Lock()
	s.calls = append(s.calls, call)
	s.mu.Unlock()
}

func (s *Server) dispatch(r *http.Request, call *Call) (webIdentityResult, *apiError) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return webIdentityResult{}, &apiError{http.StatusMethodNotAllowed, codeInvalidAction, "Only GET and POST are supported"}
	}
	if err := r.ParseForm(); err != nil {
		return webIdentityResult{}, &apiError{http.StatusBadRequest, "MalformedQueryString", err.Error()}
	}
	call.Action = r.Form.Get("Action")
	return s.action(call.Action, r.Form, call)
}

// action routes to the operation. Missing and unknown actions get the common errors
// MissingAction and InvalidAction (AWS "Common Errors": both HTTP 400).
// AssumeRoleWithWebIdentity is the one operation emulated, hence the concrete result type.
func (s *Server) action(name string, form url.Values, call *Call) (webIdentityResult, *apiError) {
	switch name {
	case "":
		return webIdentityResult{}, &apiError{http.StatusBadRequest, codeMissingAction, "Missing Action"}
	case "AssumeRoleWithWebIdentity":
		return s.assumeRoleWithWebIdentity(form, call)
	}
	return webIdentityResult{}, &apiError{http.StatusBadRequest, codeInvalidAction,
		fmt.Sprintf("Could not find operation %s for version %s", name, apiVersion)}
}

// newRequestID is a random UUID, the form of AWS request IDs.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
