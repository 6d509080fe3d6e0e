// Package awsjson is what the test world's emulators of AWS JSON 1.1
// services share: the protocol's envelope (POST /, the operation in
// X-Amz-Target as "Prefix.Operation", Content-Type
// application/x-amz-json-1.1, errors as {"__type", "message"}), SigV4
// authentication with package sigv4, and the routing that serves such a
// service on another service's listener by its X-Amz-Target. Each emulator
// owns only its operations.
//
// The envelope follows the AWS JSON 1.1 protocol as the Smithy
// specification describes it ("AWS JSON 1.1 protocol": the target header,
// the error's __type, the x-amzn-RequestId header); the authentication
// errors are those the services' "Common Errors" pages list.
package awsjson

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/sear-ci/sear/internal/testworld/sigv4"
)

// Error is a JSON 1.1 error: the HTTP status and the body's __type and
// message.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Serialization is the error for a body that is not the operation's JSON.
func Serialization() *Error {
	return &Error{http.StatusBadRequest, "SerializationException", ""}
}

// UnknownOperation is what a JSON 1.1 service answers for an X-Amz-Target
// it does not have, or none, and for a method other than POST.
func UnknownOperation() *Error {
	return &Error{http.StatusBadRequest, "UnknownOperationException", ""}
}

// AccessDenied is IAM's refusal of action to principal (an ARN), worded as
// AWS words it when no policy allows the call.
func AccessDenied(principal, action string) *Error {
	return &Error{http.StatusBadRequest, "AccessDeniedException",
		"User: " + principal + " is not authorized to perform: " + action + " because no identity-based policy allows the " + action + " action"}
}

// Service is one emulated JSON 1.1 service.
type Service struct {
	// Target is the X-Amz-Target prefix of its operations, dot included
	// ("AmazonSSM.").
	Target string
	// SigningName is the service name requests are signed for ("ssm").
	SigningName string
	// Region is the region requests must be signed for.
	Region string
	// Credentials authenticates every request.
	Credentials sigv4.CredentialSource
	// Now is the clock signatures are checked against.
	Now func() time.Time
	// MaxBody bounds a request body; a longer one is a
	// SerializationException.
	MaxBody int64
}

// Request is an authenticated request: its operation, the access key
// that signed it, and its body.
type Request struct {
	Operation   string
	AccessKeyID string
	Body        []byte
}

// Decode unmarshals the body into v; a body that does not fit is a
// SerializationException, as the services answer.
func (r Request) Decode(v any) *Error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return Serialization()
	}
	return nil
}

// String is an optional string member's value, "" when the request left
// it out.
func String(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Operation is an emulator's answer to one request: the response to
// marshal, or an error.
type Operation func(Request) (any, *Error)

// Serve authenticates r, hands it to op and writes the answer. It returns
// the request as served (operation and key, for the emulator's call log)
// and the error sent, nil on success.
func (s Service) Serve(w http.ResponseWriter, r *http.Request, op Operation) (Request, *Error) {
	req := Request{Operation: strings.TrimPrefix(r.Header.Get("X-Amz-Target"), s.Target)}
	out, err := s.serve(r, &req, op)
	id := RequestID()
	if err != nil {
		write(w, id, err.Status, map[string]string{"__type": err.Code, "message": err.Message})
		return req, err
	}
	write(w, id, http.StatusOK, out)
	return req, nil
}

func (s Service) serve(r *http.Request, req *Request, op Operation) (any, *Error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, s.MaxBody+1))
	if err != nil || int64(len(body)) > s.MaxBody {
		return nil, Serialization()
	}
	req.Body = body
	key, authErr := sigv4.Verify(r, body, s.Credentials, s.SigningName, s.Region, s.Now())
	req.AccessKeyID = key
	if authErr != nil {
		return nil, FromSigV4(authErr)
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("X-Amz-Target"), s.Target) {
		return nil, UnknownOperation()
	}
	return op(*req)
}

func write(w http.ResponseWriter, reqID string, status int, v any) {
	out, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-RequestId", reqID)
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// RequestID is a new x-amzn-RequestId: a random UUID, as AWS sends.
func RequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// FromSigV4 words package sigv4's refusals (EC2's codes) as a JSON
// protocol service sends them, all with status 400: an unknown or
// incomplete credential is UnrecognizedClientException "The security
// token included in the request is invalid." (the message SSM clients
// report, e.g. coveooss/spring-boot-parameter-store-integration#3:
// "Service: AWSSimpleSystemsManagement; Status Code: 400; Error Code:
// UnrecognizedClientException"); a wrong signature InvalidSignatureException;
// expired credentials ExpiredTokenException; a missing or incomplete
// Authorization header MissingAuthenticationTokenException and
// IncompleteSignatureException ("Common Errors" of the services' API
// References, which list them without the Exception suffix the JSON
// protocol adds).
func FromSigV4(e *sigv4.Error) *Error {
	switch e.Code {
	case "SignatureDoesNotMatch":
		return &Error{http.StatusBadRequest, "InvalidSignatureException", e.Message}
	case "RequestExpired":
		return &Error{http.StatusBadRequest, "ExpiredTokenException", "The security token included in the request is expired"}
	case "MissingAuthenticationToken":
		return &Error{http.StatusBadRequest, "MissingAuthenticationTokenException", "Missing Authentication Token"}
	case "IncompleteSignature":
		return &Error{http.StatusBadRequest, "IncompleteSignatureException", e.Message}
	}
	return &Error{http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid."}
}

// Route serves the requests whose X-Amz-Target starts with target with h,
// and every other request with other. The test world serves JSON 1.1
// services on EC2's endpoint with it: EC2's query protocol never sends
// X-Amz-Target, so the two cannot be confused, and a client configured
// with one endpoint for every service (AWS_ENDPOINT_URL, or a test's
// BaseEndpoint) reaches both.
func Route(target string, h, other http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("X-Amz-Target"), target) {
			h.ServeHTTP(w, r)
			return
		}
		other.ServeHTTP(w, r)
	})
}
