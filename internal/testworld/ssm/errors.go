package ssm

import (
	"net/http"

	"github.com/sear-ci/sear/internal/testworld/sigv4"
)

// apiError is a JSON 1.1 error: the status and the body's __type and
// message.
type apiError struct {
	status        int
	code, message string
}

func errValidation(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "ValidationException", msg}
}

func errSerialization() *apiError {
	return &apiError{http.StatusBadRequest, "SerializationException", ""}
}

// fromSigV4 words package sigv4's refusals (EC2's codes) as a JSON
// protocol service sends them, all with status 400: an unknown or
// incomplete credential is UnrecognizedClientException "The security
// token included in the request is invalid." (the message SSM clients
// report, e.g. coveooss/spring-boot-parameter-store-integration#3:
// "Service: AWSSimpleSystemsManagement; Status Code: 400; Error Code:
// UnrecognizedClientException"); a wrong signature InvalidSignatureException;
// expired credentials ExpiredTokenException; a missing or incomplete
// Authorization header MissingAuthenticationTokenException and
// IncompleteSignatureException (Systems Manager API Reference, "Common
// Errors", which lists them without the Exception suffix the JSON protocol
// adds).
func fromSigV4(e *sigv4.Error) *apiError {
	switch e.Code {
	case "SignatureDoesNotMatch":
		return &apiError{http.StatusBadRequest, "InvalidSignatureException", e.Message}
	case "RequestExpired":
		return &apiError{http.StatusBadRequest, "ExpiredTokenException", "The security token included in the request is expired"}
	case "MissingAuthenticationToken":
		return &apiError{http.StatusBadRequest, "MissingAuthenticationTokenException", "Missing Authentication Token"}
	case "IncompleteSignature":
		return &apiError{http.StatusBadRequest, "IncompleteSignatureException", e.Message}
	}
	return &apiError{http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid."}
}
