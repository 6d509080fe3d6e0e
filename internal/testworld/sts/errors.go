package sts

import (
	"fmt"
	"net/http"
)

// apiError is an STS error answer: the HTTP status, the code the SDKs branch on, the message.
type apiError struct {
	status  int
	code    string
	message string
}

// Error codes, with the statuses the service model gives them.
const (
	codeInvalidIdentityToken = "InvalidIdentityToken"  // 400
	codeExpiredToken         = "ExpiredTokenException" // 400
	codeAccessDenied         = "AccessDenied"          // 403
	codeValidation           = "ValidationError"       // 400
	codeInvalidAction        = "InvalidAction"         // 400
	codeMissingAction        = "MissingAction"         // 400
	codeInternal             = "InternalFailure"       // 500
)

func (e *apiError) faultType() string {
	if e.status >= 500 {
		return "Receiver"
	}
	return "Sender"
}

// invalidToken is InvalidIdentityToken: "The web identity token that was passed could not be
// validated by Amazon Web Services" (service model, InvalidIdentityTokenException, 400).
func invalidToken(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, codeInvalidIdentityToken, fmt.Sprintf(format, args...)}
}

// expiredToken is ExpiredTokenException (service model, 400), with the message AWS sends, as
// quoted in aws/aws-sdk-java-v2#5709: "Token expired: current date/time 1731098245 must be before
// the expiration date/time 1731095240".
func expiredToken(now, exp int64) *apiError {
	return &apiError{http.StatusBadRequest, codeExpiredToken, fmt.Sprintf(
		"Token expired: current date/time %d must be before the expiration date/time %d", now, exp)}
}

// accessDenied is what STS answers when the trust policy does not allow the call, and equally
// when the role does not exist: STS does not tell the two apart (uswitch/kiam#33, AccessDenied
// "Not authorized to perform sts:AssumeRole" for a missing role; 403 as in the same thread).
func accessDenied() *apiError {
	return &apiError{http.StatusForbidden, codeAccessDenied,
		"Not authorized to perform sts:AssumeRoleWithWebIdentity"}
}

// validation is ValidationError (400), the code of every parameter constraint failure.
func validation(message string) *apiError {
	return &apiError{http.StatusBadRequest, codeValidation, message}
}
