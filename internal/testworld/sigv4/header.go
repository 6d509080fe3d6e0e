package sigv4

import (
	"net/http"
	"strings"
	"time"
)

// amzDateFormat is the ISO 8601 basic format of X-Amz-Date.
const amzDateFormat = "20060102T150405Z"

// authorization is the parsed Authorization header:
// AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/ec2/aws4_request,
// SignedHeaders=host;x-amz-date, Signature=hex.
type authorization struct {
	accessKeyID, date, region, service, terminator string
	signedHeaders                                  []string
	signature                                      string
}

// scope is the credential scope as it appears in the string to sign.
func (a authorization) scope() string {
	return a.date + "/" + a.region + "/" + a.service + "/" + a.terminator
}

// parseAuthorization reads the Authorization header. A request without one
// carries no credentials; a header that does not follow the SigV4 grammar is
// an incomplete signature (EC2 API Reference, common client error codes).
func parseAuthorization(r *http.Request) (authorization, *Error) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return authorization{}, errMissingAuthentication()
	}
	alg, rest, _ := strings.Cut(header, " ")
	if alg != algorithm {
		return authorization{}, errIncomplete("Unsupported AWS 'algorithm': '" + alg + "'")
	}
	fields := authFields(rest)
	var a authorization
	if err := a.setCredential(fields["Credential"]); err != nil {
		return a, err
	}
	if fields["SignedHeaders"] == "" || fields["Signature"] == "" {
		return a, errIncomplete("Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.")
	}
	a.signedHeaders = strings.Split(fields["SignedHeaders"], ";")
	a.signature = fields["Signature"]
	return a, checkSignedHeaders(a.signedHeaders)
}

// authFields splits "k=v, k=v" into a map.
func authFields(s string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		out[k] = v
	}
	return out
}

// setCredential parses access_key/YYYYMMDD/region/service/aws4_request.
func (a *authorization) setCredential(cred string) *Error {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" {
		return errIncomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" + cred + "'")
	}
	a.accessKeyID, a.date, a.region, a.service, a.terminator = parts[0], parts[1], parts[2], parts[3], parts[4]
	return nil
}

// checkSignedHeaders requires the host header to be signed, as SigV4 does
// ("For HTTP/1.1 requests, you must include the Host header", IAM User Guide,
// "Elements of an AWS API request signature"), and the list to be sorted
// lower-case names as the canonical request defines them.
func checkSignedHeaders(names []string) *Error {
	host := false
	for i, n := range names {
		if n != strings.ToLower(n) || (i > 0 && names[i-1] >= n) {
			return errIncomplete("SignedHeaders must be lower-case, sorted and unique.")
		}
		host = host || n == "host"
	}
	if !host {
		return errIncomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	return nil
}

// requestTime finds the request's timestamp: X-Amz-Date first, then Date,
// in that order ("Handling dates in Signature Version 4").
func requestTime(r *http.Request) (time.Time, *Error) {
	if v := r.Header.Get("X-Amz-Date"); v != "" {
		t, err := time.Parse(amzDateFormat, v)
		if err != nil {
			return time.Time{}, errIncomplete("X-Amz-Date '" + v + "' is not in the ISO 8601 basic format YYYYMMDD'T'HHMMSS'Z'.")
		}
		return t, nil
	}
	if v := r.Header.Get("Date"); v != "" {
		t, err := http.ParseTime(v)
		if err != nil {
			return time.Time{}, errIncomplete("Date header '" + v + "' is not a valid HTTP date.")
		}
		return t.UTC(), nil
	}
	return time.Time{}, errIncomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
}

// checkScope compares the credential scope with the request and the server.
// The scope's date must be the request's date ("Handling dates in Signature
// Version 4": AWS rejects the request even if it is only seconds away); the
// request must be within MaxSkew of the server's clock, which EC2 reports as
// RequestExpired; a scope for another region or service is a credential EC2
// cannot validate, which it reports as AuthFailure (observed on EC2 with a
// malformed region in the scope, aws/aws-sdk-java-v2#2981).
func checkScope(a authorization, stamp time.Time, service, region string, now time.Time) *Error {
	if a.terminator != "aws4_request" {
		return errIncomplete("Credential should be scoped with a valid terminator: 'aws4_request', not '" + a.terminator + "'.")
	}
	if a.date != stamp.UTC().Format("20060102") {
		return errSignatureDoesNotMatchMsg("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" + a.date + "' != '" + stamp.UTC().Format("20060102") + "', from '" + stamp.UTC().Format(amzDateFormat) + "'.")
	}
	if skew := now.Sub(stamp); skew > MaxSkew || skew < -MaxSkew {
		return errRequestExpired()
	}
	if a.region != region || a.service != service {
		return errAuthFailure()
	}
	return nil
}
