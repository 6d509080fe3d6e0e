package fakeec2

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// expiringSource is a CredentialSource like the STS emulator's store: one
// session that has expired and one that has not.
type expiringSource struct{ now time.Time }

func (s expiringSource) Lookup(id string) (string, string, time.Time, bool) {
	switch id {
	case "ASIAEXPIRED":
		return "s", "tok", s.now.Add(-time.Minute), true
	case "ASIAVALID":
		return "s", "tok", s.now.Add(time.Hour), true
	}
	return "", "", time.Time{}, false
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *Options) { o.Credentials = expiringSource{time.Now()} })
	ctx := context.Background()
	noRetry := func(o *ec2.Options) { o.RetryMaxAttempts = 1 }
	cases := []struct {
		name  string
		creds aws.CredentialsProvider
		mod   func(*ec2.Options)
		code  string
	}{
		{"valid session", credentials.NewStaticCredentialsProvider("ASIAVALID", "s", "tok"), noRetry, ""},
		{"expired session", credentials.NewStaticCredentialsProvider("ASIAEXPIRED", "s", "tok"), noRetry, "RequestExpired"},
		{"wrong secret", credentials.NewStaticCredentialsProvider("ASIAVALID", "nope", "tok"), noRetry, "SignatureDoesNotMatch"},
		{"missing session token", credentials.NewStaticCredentialsProvider("ASIAVALID", "s", ""), noRetry, "AuthFailure"},
		{"unknown key", credentials.NewStaticCredentialsProvider("AKIANOBODY", "s", ""), noRetry, "AuthFailure"},
		{"signed for another region", credentials.NewStaticCredentialsProvider("ASIAVALID", "s", "tok"),
			func(o *ec2.Options) { o.Region, o.RetryMaxAttempts = "eu-west-1", 1 }, "AuthFailure"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.newClient(c.creds, c.mod).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
			if got := apiCode(t, err); got != c.code {
				t.Errorf("got %q (%v), want %q", got, err, c.code)
			}
		})
	}
	for _, call := range f.srv.Calls() {
		if call.AccessKeyID == "" {
			t.Errorf("call %+v does not name its access key", call)
		}
	}
}

func TestProtocolErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cases := []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"unknown action", url.Values{"Action": {"LaunchRocket"}, "Version": {APIVersion}}, 400, "InvalidAction"},
		{"missing action", url.Values{"Version": {APIVersion}}, 400, "MissingAction"},
		{"missing version", url.Values{"Action": {"DescribeVpcs"}}, 400, "MissingParameter"},
		{"unknown version", url.Values{"Action": {"DescribeVpcs"}, "Version": {"2099-01-01"}}, 400, "NoSuchVersion"},
		{"dry run", url.Values{"Action": {"DescribeVpcs"}, "Version": {APIVersion}, "DryRun": {"true"}}, 412, "DryRunOperation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := f.rawCall(t, c.form)
			if status != c.status || !strings.Contains(body, "<Response><Errors><Error><Code>"+c.code+"</Code>") || !strings.Contains(body, "<RequestID>") {
				t.Errorf("got %d %s", status, body)
			}
		})
	}
}

func TestCallLogAndStateJSON(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.run(t, searLaunch)
	calls := f.srv.Calls()
	run := calls[len(calls)-1]
	if run.Action != "RunInstances" || run.AccessKeyID != testKey || run.Status != 200 {
		t.Fatalf("last call = %+v", run)
	}
	if ud := run.Params["UserData"]; !strings.HasPrefix(ud, "size=29 sha256=") {
		t.Errorf("UserData logged as %q, want its size and hash", ud)
	}
	raw, err := json.Marshal(calls)
	if err != nil || strings.Contains(string(raw), testSecret) || strings.Contains(string(raw), "Signature=") {
		t.Errorf("call log leaks credentials: %v %s", err, raw)
	}
	state, err := json.Marshal(f.srv.State())
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"security_groups"`, `"user_data_sha256"`, `"metadata_options"`, `"http_put_response_hop_limit":1`, `"launch_time"`} {
		if !strings.Contains(string(state), field) {
			t.Errorf("state JSON lacks %s: %s", field, state)
		}
	}
}
