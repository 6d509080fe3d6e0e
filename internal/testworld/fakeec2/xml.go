package fakeec2

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"sort"
	"time"
)

// Namespace is the XML namespace of EC2 API version 2016-11-15, the version
// every current SDK and the AWS CLI send.
const Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

// APIVersion is the only value of the Version parameter the emulator serves.
const APIVersion = "2016-11-15"

// envelope is a successful response: <ActionResponse xmlns=...> with the
// request id first and the action's elements after it, as in the samples of
// the EC2 API Reference (for example "RunInstances", Sample Response).
type envelope struct {
	XMLName   xml.Name
	Xmlns     string `xml:"xmlns,attr"`
	RequestID string `xml:"requestId"`
	Inner     []byte `xml:",innerxml"`
}

// writeResult writes body's fields inside the action's response element.
func writeResult(w http.ResponseWriter, action, requestID string, body any) {
	inner, err := xml.Marshal(body)
	if err != nil {
		writeError(w, requestID, newError(http.StatusInternalServerError, "InternalError", "%v", err))
		return
	}
	// Marshal wraps the fields in an element named after body's type; keep
	// only what is inside it.
	inner = inner[bytes.IndexByte(inner, '>')+1 : bytes.LastIndexByte(inner, '<')]
	env := envelope{XMLName: xml.Name{Local: action + "Response"}, Xmlns: Namespace, RequestID: requestID, Inner: inner}
	writeXML(w, http.StatusOK, env)
}

// errorResponse is EC2's error document (EC2 API Reference, "Error codes",
// example error response): <Response><Errors><Error>…</Error></Errors>
// <RequestID>…</RequestID></Response>.
type errorResponse struct {
	XMLName   xml.Name `xml:"Response"`
	Code      string   `xml:"Errors>Error>Code"`
	Message   string   `xml:"Errors>Error>Message"`
	RequestID string   `xml:"RequestID"`
}

func writeError(w http.ResponseWriter, requestID string, e *apiError) {
	writeXML(w, e.status, errorResponse{Code: e.code, Message: e.message, RequestID: requestID})
}

func writeXML(w http.ResponseWriter, status int, v any) {
	out, _ := xml.Marshal(v)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("Server", "AmazonEC2")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(out)
}

// xmlTag is one item of a tagSet.
type xmlTag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

// tagList renders a tag map in key order, so responses are stable.
func tagList(tags map[string]string) []xmlTag {
	out := make([]xmlTag, 0, len(tags))
	for k, v := range tags {
		out = append(out, xmlTag{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// xmlTime formats a timestamp the way EC2 does: ISO 8601 with milliseconds.
func xmlTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
