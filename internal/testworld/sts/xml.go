package sts

import (
	"encoding/xml"
	"net/http"
	"time"
)

// xmlns is STS's namespace ("xmlNamespace" in the service model).
const xmlns = "https://sts.amazonaws.com/doc/2011-06-15/"

// webIdentityResponse is the success body, element order as in the API reference's example.
type webIdentityResponse struct {
	XMLName   xml.Name          `xml:"AssumeRoleWithWebIdentityResponse"`
	Xmlns     string            `xml:"xmlns,attr"`
	Result    webIdentityResult `xml:"AssumeRoleWithWebIdentityResult"`
	RequestID string            `xml:"ResponseMetadata>RequestId"`
}

// webIdentityResult holds the members of AssumeRoleWithWebIdentityResponse in the model.
type webIdentityResult struct {
	SubjectFromWebIdentityToken string
	Audience                    string
	AssumedRoleUser             assumedRoleUser
	Credentials                 credentialsXML
	Provider                    string
}

type assumedRoleUser struct {
	Arn           string
	AssumedRoleID string `xml:"AssumedRoleId"`
}

// credentialsXML is the Credentials shape; Expiration is an ISO 8601 timestamp in UTC.
type credentialsXML struct {
	SessionToken    string
	SecretAccessKey string
	Expiration      string
	AccessKeyID     string `xml:"AccessKeyId"`
}

// errorResponse is the query protocol's error body. AWS's own, as quoted in
// mozilla-iam/mozilla-aws-cli#146: ErrorResponse > Error{Type, Code, Message} and RequestId.
type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

func writeXML(w http.ResponseWriter, status int, requestID string, v any) {
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", requestID)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(v) // the client went away; nothing to do
}

func writeError(w http.ResponseWriter, requestID string, e *apiError) {
	writeXML(w, e.status, requestID, errorResponse{
		Xmlns: xmlns, Type: e.faultType(), Code: e.code, Message: e.message, RequestID: requestID,
	})
}

func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
