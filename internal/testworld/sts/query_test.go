package sts

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The SDKs and the CLI check required parameters before sending, so what STS answers for a
// missing one is seen only on the wire: ValidationError, "Value null at ... Member must not be
// null", every violation at once.
func TestQueryProtocolOnTheWire(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	tok := w.token(t, octo.Push("main"), "sts.amazonaws.com")
	base := url.Values{"Action": {"AssumeRoleWithWebIdentity"}, "Version": {"2011-06-15"}}
	tests := []struct {
		name    string
		method  string
		params  url.Values
		status  int
		code    string
		message string
	}{
		{"GET query", http.MethodGet, with(base, "RoleArn", legacyRole, "RoleSessionName", "s1", "WebIdentityToken", tok), 200, "", ""},
		{"missing token", http.MethodPost, with(base, "RoleArn", legacyRole, "RoleSessionName", "s1"), 400, "ValidationError",
			"1 validation error detected: Value null at 'webIdentityToken' failed to satisfy constraint: Member must not be null"},
		{"everything missing", http.MethodPost, base, 400, "ValidationError",
			"3 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'webIdentityToken' failed to satisfy constraint: Member must not be null"},
		{"empty role ARN", http.MethodPost, with(base, "RoleArn", "", "RoleSessionName", "s1", "WebIdentityToken", tok), 400, "ValidationError",
			"1 validation error detected: Value '' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20"},
		{"short token is not echoed", http.MethodPost, with(base, "RoleArn", legacyRole, "RoleSessionName", "s1", "WebIdentityToken", "xyz"), 400, "ValidationError",
			"at 'webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to 4"},
		{"no action", http.MethodPost, url.Values{}, 400, "MissingAction", "Missing Action"},
		{"unknown action", http.MethodPost, url.Values{"Action": {"GetCallerIdentity"}}, 400, "InvalidAction",
			"Could not find operation GetCallerIdentity for version 2011-06-15"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := send(t, tc.method, w.stsURL, tc.params)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if tc.status == 200 {
				checkSuccessXML(t, body)
				return
			}
			checkErrorXML(t, body, tc.code, tc.message)
			if strings.Contains(body, "xyz") {
				t.Error("the token is echoed in the error")
			}
		})
	}
}

func with(base url.Values, kv ...string) url.Values {
	v := url.Values{}
	for k, vs := range base {
		v[k] = vs
	}
	for i := 0; i < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func send(t *testing.T, method, endpoint string, params url.Values) (int, string) {
	t.Helper()
	var resp *http.Response
	var err error
	if method == http.MethodGet {
		resp, err = http.Get(endpoint + "/?" + params.Encode())
	} else {
		resp, err = http.PostForm(endpoint+"/", params)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func checkSuccessXML(t *testing.T, body string) {
	t.Helper()
	var r struct {
		XMLName     xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ AssumeRoleWithWebIdentityResponse"`
		AccessKeyID string   `xml:"AssumeRoleWithWebIdentityResult>Credentials>AccessKeyId"`
		RequestID   string   `xml:"ResponseMetadata>RequestId"`
	}
	if err := xml.Unmarshal([]byte(body), &r); err != nil || r.AccessKeyID == "" || r.RequestID == "" {
		t.Fatalf("success body %s: %v", body, err)
	}
}

func checkErrorXML(t *testing.T, body, code, message string) {
	t.Helper()
	var e struct {
		XMLName   xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ ErrorResponse"`
		Type      string   `xml:"Error>Type"`
		Code      string   `xml:"Error>Code"`
		Message   string   `xml:"Error>Message"`
		RequestID string   `xml:"RequestId"`
	}
	if err := xml.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	if e.Type != "Sender" || e.Code != code || !strings.Contains(e.Message, message) || e.RequestID == "" {
		t.Fatalf("error = %+v, want Sender %s %q", e, code, message)
	}
}
