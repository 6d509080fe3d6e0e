package fakeec2

import (
	"fmt"
	"net/http"
	"strings"
)

// apiError is an EC2 error response: its HTTP status and the Code and
// Message of <Response><Errors><Error>. Codes are those of the EC2 API
// Reference, "Error codes for the Amazon EC2 API"
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html):
// client errors carry a 4xx status, server errors a 5xx one. Messages follow
// the wording EC2 puts on the wire where it could be found.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func clientError(code, format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, code, format, args...)
}

func errInvalidValue(format string, args ...any) *apiError {
	return clientError("InvalidParameterValue", format, args...)
}

func errMissing(name string) *apiError {
	return clientError("MissingParameter", "The request must contain the parameter %s", name)
}

func errCombination(format string, args ...any) *apiError {
	return clientError("InvalidParameterCombination", format, args...)
}

// errDryRun is what a permitted DryRun request gets: 412 Precondition
// Failed, as EC2 answers on the wire (getmoto/moto#1980 quotes the raw AWS
// response: "HTTP/1.1 412 Precondition Failed ... DryRunOperation").
func errDryRun() *apiError {
	return newError(http.StatusPreconditionFailed, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
}

// errThrottled is EC2's RequestLimitExceeded ("Request throttling for the
// Amazon EC2 API"), sent with 503 so that SDK retryers treat it as the
// throttling error it is.
func errThrottled() *apiError {
	return newError(http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded.")
}

// errNoCapacity is InsufficientInstanceCapacity, a server error in the EC2
// error table; its wire status is 500 (nib-health-funds/hammertime#29 shows
// "statusCode: 500, retryable: true").
func errNoCapacity(instanceType, az string, spot bool) *apiError {
	if spot {
		return newError(http.StatusInternalServerError, "InsufficientInstanceCapacity", "There is no Spot capacity available that matches your request.")
	}
	return newError(http.StatusInternalServerError, "InsufficientInstanceCapacity",
		"We currently do not have sufficient %s capacity in the Availability Zone you requested (%s). Our system will be working on provisioning additional capacity.", instanceType, az)
}

// errNotFound builds the "does not exist" errors, singular or plural as EC2
// words them ("The instance ID 'i-1' does not exist", "The instance IDs
// 'i-1, i-2' do not exist").
func errNotFound(code, noun string, ids []string) *apiError {
	if len(ids) == 1 {
		return clientError(code, "The %s '%s' does not exist", noun, ids[0])
	}
	return clientError(code, "The %ss '%s' do not exist", noun, strings.Join(ids, ", "))
}

// errMalformed is the "<Kind>.Malformed" error for an id of the wrong shape.
func errMalformed(code, id, prefix string) *apiError {
	return clientError(code, "Invalid id: \"%s\" (expecting \"%s-...\")", id, prefix)
}

// errIdempotentMismatch is returned when a client token is reused with other
// parameters ("Ensuring idempotency in Amazon EC2 API requests"); the message
// is the one EC2 sends.
func errIdempotentMismatch() *apiError {
	return clientError("IdempotentParameterMismatch", "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).")
}
