package awsauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sear-ci/sear/internal/pause"
)

// Limits of one token request. A GitHub ID token is about 1.5 KB and its JSON envelope adds a
// few bytes; anything much larger is not a token response.
const (
	maxTokenResponse = 64 << 10
	excerptLen       = 200
	tokenTimeout     = 20 * time.Second
	tokenAttempts    = 3
	tokenBackoff     = time.Second
)

// tokenSource fetches ID tokens from the Actions token endpoint: GET
// ACTIONS_ID_TOKEN_REQUEST_URL with &audience=... and the request token as a bearer credential,
// answered with {"value": "<JWT>"} (GitHub's "OpenID Connect reference", "Requesting the JWT
// using environment variables", and the toolkit's OidcClient).
type tokenSource struct {
	url     string // with the audience
	bearer  string
	client  aws.HTTPClient // the config's, so AWS_CA_BUNDLE and proxies apply here too
	mask    func(string)
	backoff time.Duration // before the second attempt, doubling after
}

// newTokenSource reads the token endpoint from the environment. The runner sets both variables
// only for a job granted `permissions: id-token: write`, which is also why they are missing in a
// pull request from a fork and outside Actions.
func newTokenSource(o Options) (*tokenSource, error) {
	rawURL, bearer := o.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL"), o.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	var missing []string
	if rawURL == "" {
		missing = append(missing, "ACTIONS_ID_TOKEN_REQUEST_URL")
	}
	if bearer == "" {
		missing = append(missing, "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	}
	if len(missing) > 0 {
		return nil, &authError{
			what: fmt.Sprintf("aws-role-arn is set but this job cannot request an OIDC token (%s not set)", strings.Join(missing, " and ")),
			fix: "give the workflow or the job `permissions: id-token: write` (pull requests from forks do not get it by default);\n" +
				"outside GitHub Actions, leave out the role and use your own AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, `aws sso login`)",
		}
	}
	u, err := tokenURL(rawURL, Audience)
	if err != nil {
		return nil, err
	}
	o.Mask(bearer)
	return &tokenSource{url: u, bearer: bearer, client: http.DefaultClient, mask: o.Mask, backoff: tokenBackoff}, nil
}

// tokenURL adds the audience to the request URL. The runner's URL already has a query
// (api-version), to which the toolkit appends "&audience=..."; a URL without one gets "?".
func tokenURL(raw, audience string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("ACTIONS_ID_TOKEN_REQUEST_URL is not an http(s) URL: %q", redactQuery(raw))
	}
	param := "audience=" + url.QueryEscape(audience)
	if u.RawQuery == "" {
		u.RawQuery = param
	} else {
		u.RawQuery += "&" + param
	}
	u.ForceQuery = false
	return u.String(), nil
}

// redactQuery drops a URL's query, the part that could carry something secret.
func redactQuery(raw string) string {
	s, _, _ := strings.Cut(raw, "?")
	return s
}

// fetch returns a new ID token and its claims. It tries again after a failure to connect, a
// 429 or a 5xx, as the toolkit's OidcClient does (allowRetries), fewer times and quicker: a
// credential refresh waits on it.
func (s *tokenSource) fetch(ctx context.Context) (string, claims, error) {
	var err error
	for attempt := 0; attempt < tokenAttempts; attempt++ {
		if attempt > 0 {
			if err := pause.For(ctx, s.backoff<<(attempt-1)); err != nil {
				return "", claims{}, fmt.Errorf("request an OIDC token: %w", err)
			}
		}
		var tok string
		var c claims
		var retry bool
		tok, c, retry, err = s.fetchOnce(ctx)
		if err == nil || !retry || ctx.Err() != nil {
			return tok, c, err
		}
	}
	return "", claims{}, err
}

// fetchOnce makes one request; retry says whether another might succeed.
func (s *tokenSource) fetchOnce(ctx context.Context) (tok string, c claims, retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, tokenTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return "", claims{}, false, fmt.Errorf("request an OIDC token: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+s.bearer)
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		// The *url.Error names the URL (no secret in it) and the cause; the bearer token is in
		// a header and never part of it.
		return "", claims{}, true, fmt.Errorf("request an OIDC token from the Actions token endpoint: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse+1))
	if err != nil {
		return "", claims{}, true, fmt.Errorf("read the Actions token endpoint's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", claims{}, retryable(resp.StatusCode), s.statusError(resp.Status, resp.StatusCode, body)
	}
	tok, c, err = s.parse(body)
	return tok, c, false, err
}

func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

func (s *tokenSource) statusError(status string, code int, body []byte) error {
	err := fmt.Errorf("the Actions token endpoint answered %s: %s", status, s.excerpt(body))
	if code == http.StatusUnauthorized || code == http.StatusForbidden {
		return &authError{what: "request an OIDC token", err: err,
			fix: "the runner's request token (ACTIONS_ID_TOKEN_REQUEST_TOKEN) was refused: it is valid only while its job runs, and only for a job with `permissions: id-token: write`"}
	}
	return &authError{what: "request an OIDC token", err: err}
}

// excerpt is the start of an error body, on one line, for the message. A server that echoed the
// request token must not put it in a log.
func (s *tokenSource) excerpt(body []byte) string {
	text := strings.ReplaceAll(string(body), s.bearer, "***")
	text = strings.Join(strings.FieldsFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || !unicode.IsPrint(r)
	}), " ")
	if r := []rune(text); len(r) > excerptLen {
		text = string(r[:excerptLen]) + "..."
	}
	if text == "" {
		return "(empty body)"
	}
	return fmt.Sprintf("%q", text)
}

// parse reads {"value": "<JWT>"}. The token is masked the moment it is read, before anything
// can fail and carry it somewhere; no error below quotes the body, which holds the token.
func (s *tokenSource) parse(body []byte) (string, claims, error) {
	if len(body) > maxTokenResponse {
		return "", claims{}, &authError{what: "request an OIDC token",
			err: fmt.Errorf("the Actions token endpoint's answer is larger than %d KiB", maxTokenResponse>>10)}
	}
	var resp struct {
		Value string `json:"value"`
	}
	err := json.Unmarshal(body, &resp)
	s.mask(resp.Value)
	if err != nil || resp.Value == "" {
		return "", claims{}, &authError{what: "request an OIDC token",
			err: errors.New(`the Actions token endpoint's answer is not {"value": "<token>"}`)}
	}
	c, err := decodeClaims(resp.Value)
	if err != nil {
		return "", claims{}, &authError{what: "request an OIDC token",
			err: fmt.Errorf("the Actions token endpoint returned something that is not a JWT: %w", err)}
	}
	return resp.Value, c, nil
}

// boundRetriever is the stscreds.IdentityTokenRetriever for one credential retrieval. Its
// interface takes no context; binding one per retrieval gives the token request the retrieval's
// context and keeps the claims of the token it fetched for that retrieval's error message.
type boundRetriever struct {
	src    *tokenSource
	ctx    context.Context
	claims claims
}

// GetIdentityToken fetches a new token on every call: GitHub's tokens live five minutes, role
// credentials up to hours, so a refresh always needs a fresh one.
func (b *boundRetriever) GetIdentityToken() ([]byte, error) {
	tok, c, err := b.src.fetch(b.ctx)
	if err != nil {
		return nil, err
	}
	b.claims = c
	return []byte(tok), nil
}
