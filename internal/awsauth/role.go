package awsauth

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// refreshTimeout bounds one credential retrieval (token requests with their retries, then STS).
// The SDK's cache runs a refresh on a context whose cancellation it suppresses, so nothing else
// would stop a hung endpoint from stalling every AWS call behind it.
const refreshTimeout = 2 * time.Minute

// STS's bounds on DurationSeconds (AssumeRoleWithWebIdentity API reference).
const (
	minDuration = 15 * time.Minute
	maxDuration = 12 * time.Hour
)

// role is a parsed IAM role ARN.
type role struct {
	arn, account, name string
}

func parseRole(s string) (role, error) {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") || strings.HasSuffix(a.Resource, "/") || !isAccountID(a.AccountID) {
		return role{}, fmt.Errorf("aws-role-arn %q is not an IAM role ARN: expected arn:aws:iam::123456789012:role/NAME", s)
	}
	path := strings.TrimPrefix(a.Resource, "role/")
	return role{arn: s, account: a.AccountID, name: path[strings.LastIndex(path, "/")+1:]}, nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// sessionNameChars is RoleSessionName's pattern, [\w+=,.@-]*, over the whole value.
var sessionNameChars = regexp.MustCompile(`^[\w+=,.@-]*$`)

// sessionName is the given name, checked against STS's constraints (2 to 64 characters of the
// pattern), or sear-<run id>, which lets CloudTrail tie every call to its workflow run.
func sessionName(given string, getenv func(string) string) (string, error) {
	if given != "" {
		if len(given) < 2 || len(given) > 64 || !sessionNameChars.MatchString(given) {
			return "", fmt.Errorf("role session name %q: STS accepts 2 to 64 characters among letters, digits and _+=,.@-", given)
		}
		return given, nil
	}
	id := getenv("GITHUB_RUN_ID")
	if id == "" {
		return "sear-local", nil
	}
	name := "sear-" + strings.Map(func(r rune) rune {
		if sessionNameChars.MatchString(string(r)) {
			return r
		}
		return '-'
	}, id)
	return name[:min(len(name), 64)], nil
}

func checkDuration(d time.Duration) error {
	if d != 0 && (d < minDuration || d > maxDuration || d%time.Second != 0) {
		return fmt.Errorf("role session duration %v: STS accepts whole seconds from %v to %v", d, minDuration, maxDuration)
	}
	return nil
}

// roleConfig is the mode with a role: the web identity provider behind a cache that masks what
// it retrieves.
func roleConfig(ctx context.Context, o Options) (aws.Config, error) {
	r, err := parseRole(o.RoleARN)
	if err != nil {
		return aws.Config{}, err
	}
	session, err := sessionName(o.SessionName, o.Getenv)
	if err != nil {
		return aws.Config{}, err
	}
	if err := checkDuration(o.Duration); err != nil {
		return aws.Config{}, err
	}
	tokens, err := newTokenSource(o)
	if err != nil {
		return aws.Config{}, err
	}
	if o.Region == "" {
		// Without a role the shared config may still name one; with a role, sear reads no
		// profile, so the region must be given.
		return aws.Config{}, fmt.Errorf("no AWS region: set the aws-region input, or AWS_REGION")
	}
	// Anonymous credentials keep the loader from resolving the default chain, which a role
	// makes irrelevant (and whose broken profile must not fail a run that does not use it).
	cfg, err := load(ctx, o, aws.AnonymousCredentials{})
	if err != nil {
		return aws.Config{}, err
	}
	// The loader sets an HTTP client only when it has a reason to (a CA
	// bundle, a client given); otherwise the token keeps the default.
	if cfg.HTTPClient != nil {
		tokens.client = cfg.HTTPClient
	}
	// The STS client is built while cfg still has anonymous credentials: AssumeRoleWithWebIdentity
	// is unsigned (the token is the credential), and a client signing with the very credentials
	// it fetches would call itself.
	w := &webIdentity{
		client: sts.NewFromConfig(cfg), role: r, session: session, duration: o.Duration,
		tokens: tokens, region: cfg.Region, endpoint: stsEndpoint(o.Getenv),
	}
	cfg.Credentials = newCache(newMasked(w, o.Mask))
	return cfg, nil
}

// stsEndpoint is the endpoint override STS calls go to, if any, for error messages.
func stsEndpoint(getenv func(string) string) string {
	if v := getenv("AWS_ENDPOINT_URL_STS"); v != "" {
		return "AWS_ENDPOINT_URL_STS=" + v
	}
	if v := getenv("AWS_ENDPOINT_URL"); v != "" {
		return "AWS_ENDPOINT_URL=" + v
	}
	return ""
}

// webIdentity assumes the role with a fresh OIDC token at every retrieval, through the SDK's
// stscreds.WebIdentityRoleProvider, and explains its failures.
type webIdentity struct {
	client   stscreds.AssumeRoleWithWebIdentityAPIClient
	role     role
	session  string
	duration time.Duration
	tokens   *tokenSource
	region   string
	endpoint string
}

// Retrieve builds a provider per retrieval around a retriever bound to ctx: the SDK's
// IdentityTokenRetriever takes no context, and a shared one would also share the claims that
// explain a refusal between concurrent retrievals.
func (w *webIdentity) Retrieve(ctx context.Context) (aws.Credentials, error) {
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	tokens := &boundRetriever{src: w.tokens, ctx: ctx}
	p := stscreds.NewWebIdentityRoleProvider(w.client, w.role.arn, tokens, func(o *stscreds.WebIdentityRoleOptions) {
		o.RoleSessionName = w.session
		o.Duration = w.duration
	})
	creds, err := p.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, w.explain(err, tokens.claims)
	}
	return creds, nil
}
