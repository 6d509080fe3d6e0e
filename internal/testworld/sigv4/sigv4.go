// Package sigv4 verifies AWS Signature Version 4 on requests that reach the
// test world's emulated AWS services, so that the real SDKs and the AWS CLI
// are authenticated exactly as AWS would authenticate them.
//
// Only the Authorization-header form is supported; the query-string
// (presigned URL) form is refused as a missing signature.
//
// References:
//   - IAM User Guide, "Create a signed AWS API request"
//     (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html):
//     canonical request, string to sign, signing key.
//   - AWS General Reference, "Handling dates in Signature Version 4"
//     (https://docs.aws.amazon.com/general/latest/gr/sigv4-date-handling.html).
//   - IAM User Guide, "AWS Signature Version 4 for API requests"
//     (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_aws-signing.html):
//     "a request must reach AWS within five minutes of the time stamp".
//   - Amazon EC2 API Reference, "Error codes for the Amazon EC2 API"
//     (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"
)

// CredentialSource finds the secret for an access key id. The STS emulator's
// store implements it for temporary credentials; StaticSource implements it
// for long-term keys.
type CredentialSource interface {
	// Lookup returns the secret access key, the session token (empty for
	// long-term keys), the expiry (zero for keys that never expire) and
	// whether the key is known at all.
	Lookup(accessKeyID string) (secret, sessionToken string, expires time.Time, ok bool)
}

// StaticSource maps long-term access key ids to their secrets. It has no
// session tokens and nothing expires; tests and the AWS CLI use it.
type StaticSource map[string]string

// Lookup implements CredentialSource.
func (s StaticSource) Lookup(accessKeyID string) (string, string, time.Time, bool) {
	secret, ok := s[accessKeyID]
	return secret, "", time.Time{}, ok
}

// Error is an authentication failure in the form EC2 reports it: an HTTP
// status and the error code and message of its XML error body.
type Error struct {
	Status  int
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// MaxSkew is how far the request's timestamp may be from the server's clock.
// The IAM User Guide ("AWS Signature Version 4 for API requests") says a
// request must reach AWS within five minutes of its time stamp.
const MaxSkew = 5 * time.Minute

// algorithm is the only signing algorithm SigV4 defines for HMAC keys.
const algorithm = "AWS4-HMAC-SHA256"

// Verify checks the SigV4 Authorization header of r, whose body has already
// been read into body, for the given service and region at time now. It
// returns the access key id the request was signed with. When verification
// fails, err says why in EC2's terms; accessKeyID is still returned when the
// header could be parsed, so that callers can log who tried.
func Verify(r *http.Request, body []byte, creds CredentialSource, service, region string, now time.Time) (accessKeyID string, err *Error) {
	auth, err := parseAuthorization(r)
	if err != nil {
		return "", err
	}
	stamp, err := requestTime(r)
	if err != nil {
		return auth.accessKeyID, err
	}
	if err := checkScope(auth, stamp, service, region, now); err != nil {
		return auth.accessKeyID, err
	}
	secret, err := checkCredentials(r, auth.accessKeyID, creds, now)
	if err != nil {
		return auth.accessKeyID, err
	}
	if err := checkSignature(r, body, auth, stamp, secret); err != nil {
		return auth.accessKeyID, err
	}
	return auth.accessKeyID, nil
}

// checkCredentials finds the secret for the key and enforces the rules for
// temporary credentials: the session token must accompany the key, match
// it, and not be past its expiry.
func checkCredentials(r *http.Request, keyID string, creds CredentialSource, now time.Time) (string, *Error) {
	secret, token, expires, ok := creds.Lookup(keyID)
	if !ok {
		return "", errAuthFailure()
	}
	given := r.Header.Get("X-Amz-Security-Token")
	if !hmac.Equal([]byte(given), []byte(token)) {
		// A temporary key without its token (or with another key's token)
		// is not a valid credential at all.
		return "", errAuthFailure()
	}
	if !expires.IsZero() && !now.Before(expires) {
		return "", errExpiredCredentials()
	}
	return secret, nil
}

// checkSignature recomputes the signature and compares it in constant time.
func checkSignature(r *http.Request, body []byte, auth authorization, stamp time.Time, secret string) *Error {
	payload, err := payloadHash(r, body)
	if err != nil {
		return err
	}
	canonical := canonicalRequest(r, auth.signedHeaders, payload)
	toSign := stringToSign(stamp, auth.scope(), canonical)
	want := hmacSHA256(signingKey(secret, auth.date, auth.region, auth.service), toSign)
	got, decodeErr := hex.DecodeString(auth.signature)
	if decodeErr != nil || !hmac.Equal(want, got) {
		return errSignatureDoesNotMatch()
	}
	return nil
}

// stringToSign assembles the SigV4 string to sign.
func stringToSign(stamp time.Time, scope, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return algorithm + "\n" + stamp.UTC().Format(amzDateFormat) + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

// signingKey derives the key for one day, region and service.
func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
