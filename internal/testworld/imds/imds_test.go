package imds

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type source map[string]Instance

func (s source) MetadataInstance(id string) (Instance, bool) {
	i, ok := s[id]
	return i, ok
}

// serve answers every request as the instance named in the X-Test-Instance header.
func serve(s *Server) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		s.ServeInstance(rw, r, r.Header.Get("X-Test-Instance"))
	}))
}

func do(t *testing.T, hs *httptest.Server, method, path string, headers ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, hs.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestToken(t *testing.T) {
	t.Parallel()
	src := source{"i-a": {ID: "i-a", TokensRequired: true}, "i-b": {ID: "i-b", TokensRequired: true}}
	hs := serve(New(src))
	defer hs.Close()
	for _, tc := range []struct {
		name    string
		headers []string
		want    int
	}{
		{"no TTL", []string{"X-Test-Instance", "i-a"}, 400},
		{"TTL 0", []string{"X-Test-Instance", "i-a", TTLHeader, "0"}, 400},
		{"TTL over six hours", []string{"X-Test-Instance", "i-a", TTLHeader, "21601"}, 400},
		{"TTL not a number", []string{"X-Test-Instance", "i-a", TTLHeader, "ten"}, 400},
		{"relayed by a proxy", []string{"X-Test-Instance", "i-a", TTLHeader, "60", "X-Forwarded-For", "10.0.0.9"}, 403},
		{"unknown instance", []string{"X-Test-Instance", "i-x", TTLHeader, "60"}, 403},
		{"TTL 1", []string{"X-Test-Instance", "i-a", TTLHeader, "1"}, 200},
		{"TTL six hours", []string{"X-Test-Instance", "i-a", TTLHeader, "21600"}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, h := do(t, hs, "PUT", "/latest/api/token", tc.headers...)
			if status != tc.want {
				t.Fatalf("status %d (%q), want %d", status, body, tc.want)
			}
			if status == 200 && (body == "" || h.Get(TTLHeader) == "") {
				t.Errorf("token %q, TTL header %q", body, h.Get(TTLHeader))
			}
		})
	}

	_, tok, _ := do(t, hs, "PUT", "/latest/api/token", "X-Test-Instance", "i-a", TTLHeader, "60")
	for _, tc := range []struct {
		name    string
		headers []string
		want    int
		body    string
	}{
		{"no token", []string{"X-Test-Instance", "i-a"}, 401, ""},
		{"bad token", []string{"X-Test-Instance", "i-a", TokenHeader, "nope"}, 401, ""},
		{"another instance's token", []string{"X-Test-Instance", "i-b", TokenHeader, tok}, 401, ""},
		{"its token", []string{"X-Test-Instance", "i-a", TokenHeader, tok}, 200, "i-a"},
	} {
		t.Run("GET with "+tc.name, func(t *testing.T) {
			status, body, _ := do(t, hs, "GET", "/latest/meta-data/instance-id", tc.headers...)
			if status != tc.want || (tc.body != "" && body != tc.body) {
				t.Errorf("status %d, body %q; want %d %q", status, body, tc.want, tc.body)
			}
		})
	}
	if status, _, _ := do(t, hs, "POST", "/latest/api/token", "X-Test-Instance", "i-a"); status != 405 {
		t.Errorf("POST: %d, want 405", status)
	}
}

func TestTokenExpires(t *testing.T) {
	t.Parallel()
	s := New(source{"i-a": {ID: "i-a", TokensRequired: true}})
	now := time.Now()
	s.now = func() time.Time { return now }
	hs := serve(s)
	defer hs.Close()
	_, tok, _ := do(t, hs, "PUT", "/latest/api/token", "X-Test-Instance", "i-a", TTLHeader, "5")
	if status, _, _ := do(t, hs, "GET", "/latest/meta-data/instance-id", "X-Test-Instance", "i-a", TokenHeader, tok); status != 200 {
		t.Fatalf("fresh token: %d", status)
	}
	now = now.Add(5 * time.Second)
	if status, _, _ := do(t, hs, "GET", "/latest/meta-data/instance-id", "X-Test-Instance", "i-a", TokenHeader, tok); status != 401 {
		t.Fatalf("expired token: %d, want 401", status)
	}
}

func TestInstanceAction(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 7, 2, 30, 0, 0, time.UTC)
	src := source{
		"i-calm":   {ID: "i-calm", Spot: true},
		"i-notice": {ID: "i-notice", Spot: true, Action: &Action{Action: "terminate", Time: at}},
		"i-od":     {ID: "i-od"},
		"i-off":    {ID: "i-off", Disabled: true},
	}
	hs := serve(New(src))
	defer hs.Close()
	for _, tc := range []struct {
		id   string
		want int
		body string
	}{
		{"i-calm", 404, ""},
		{"i-od", 404, ""},
		{"i-off", 403, ""},
		{"i-notice", 200, `{"action":"terminate","time":"2026-12-07T02:30:00Z"}`},
	} {
		status, body, _ := do(t, hs, "GET", "/latest/meta-data/spot/instance-action", "X-Test-Instance", tc.id)
		if status != tc.want || (tc.body != "" && body != tc.body) {
			t.Errorf("%s: status %d, body %q; want %d %q", tc.id, status, body, tc.want, tc.body)
		}
	}
	if _, body, _ := do(t, hs, "GET", "/latest/meta-data/", "X-Test-Instance", "i-notice"); !strings.Contains(body, "spot/") {
		t.Errorf("meta-data/ listing %q lacks spot/", body)
	}
}
