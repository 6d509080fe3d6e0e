package sigv4

import "net/http"

// The errors below are the ones EC2 returns when it refuses a request's
// authentication. Codes come from the EC2 API Reference, "Error codes for the
// Amazon EC2 API" (common client error codes); statuses and messages are the
// ones EC2 puts on the wire:
//   - AuthFailure is 401 "AWS was not able to validate the provided access
//     credentials" (observed wire responses, e.g. turbot/steampipe-plugin-aws#75
//     "status code: 401"). EC2 uses it for unknown keys, for a temporary key
//     sent without its session token, and for a scope naming another region.
//   - SignatureDoesNotMatch is 403 with the message below (observed in
//     mitchellh/vagrant-aws#138: "Expected(200) <=> Actual(403 Forbidden)").
//   - RequestExpired is 400 "Request has expired." (aws/aws-sdk-java#1443,
//     "Status Code: 400; Error Code: RequestExpired"). EC2 sends it both for
//     clock skew and for expired temporary credentials (aws/aws-sdk-go-v2#1674,
//     expired SSO credentials against EC2), and the SDKs treat it as an
//     expired-credentials signal (aws/aws-sdk-go#253).
//   - IncompleteSignature is 400 and MissingAuthenticationToken is 403, as the
//     EC2 API Reference's "Common Error Types" page lists them.

func errAuthFailure() *Error {
	return &Error{http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials"}
}

func errSignatureDoesNotMatch() *Error {
	return errSignatureDoesNotMatchMsg("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
}

func errSignatureDoesNotMatchMsg(msg string) *Error {
	return &Error{http.StatusForbidden, "SignatureDoesNotMatch", msg}
}

func errRequestExpired() *Error {
	return &Error{http.StatusBadRequest, "RequestExpired", "Request has expired."}
}

// errExpiredCredentials reports temporary credentials past their expiry the
// way EC2 does: RequestExpired, which aws-sdk-go and its callers recognise as
// expired credentials.
func errExpiredCredentials() *Error { return errRequestExpired() }

func errIncomplete(msg string) *Error {
	return &Error{http.StatusBadRequest, "IncompleteSignature", msg}
}

func errMissingAuthentication() *Error {
	return &Error{http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token"}
}
