package fakegithub

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestGetAuthenticatedUser(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	s.AddToken("ghs_app", Token{Login: "github-actions[bot]", UserID: 41898282})
	s.AddToken("ghp_person", Token{Login: "octocat", UserID: 583231})
	ts := httptest.NewServer(s)
	defer ts.Close()
	for _, tc := range []struct {
		token  string
		status int
		field  string // login, or message
	}{
		{"ghp_person", 200, "octocat"},
		{"ghs_app", 403, "Resource not accessible by integration"},
		{"", 401, "Requires authentication"},
	} {
		req, _ := http.NewRequest("GET", ts.URL+"/user", nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Login, Message, Type string }
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if got := body.Login + body.Message; resp.StatusCode != tc.status || got != tc.field {
			t.Errorf("token %q: %d %q, want %d %q", tc.token, resp.StatusCode, got, tc.status, tc.field)
		}
		if tc.status == 200 && body.Type != "User" {
			t.Errorf("a person's /user has type %q", body.Type)
		}
	}
}
