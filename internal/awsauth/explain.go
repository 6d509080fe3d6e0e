package awsauth

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
)

// STS error codes the fixes depend on. AccessDenied is a common error, not in STS's model.
var (
	codeAccessDenied       = "AccessDenied"
	codeInvalidToken       = (&types.InvalidIdentityTokenException{}).ErrorCode()
	codeIDPRejectedClaim   = (&types.IDPRejectedClaimException{}).ErrorCode()
	codeIDPCommunication   = (&types.IDPCommunicationErrorException{}).ErrorCode()
	codeExpiredToken       = (&types.ExpiredTokenException{}).ErrorCode()
	codeRegionDisabled     = (&types.RegionDisabledException{}).ErrorCode()
	codeValidation         = "ValidationError"
	maxSessionDurationText = "MaxSessionDuration"
)

// explain turns a failed AssumeRoleWithWebIdentity into an error that says what to change. c are
// the claims of the token sent, zero when none was fetched.
func (w *webIdentity) explain(err error, c claims) error {
	var ae *authError
	if errors.As(err, &ae) {
		return ae // from the token endpoint, already explained
	}
	what := fmt.Sprintf("assume role %s with the workflow's OIDC token", w.role.arn)
	var api smithy.APIError
	if errors.As(err, &api) {
		return &authError{what: what, err: err, fix: w.apiFix(api, c)}
	}
	return &authError{what: what, err: err, fix: w.endpointFix(err)}
}

func (w *webIdentity) apiFix(api smithy.APIError, c claims) string {
	switch api.ErrorCode() {
	case codeAccessDenied:
		return w.trustFix(c)
	case codeInvalidToken, codeIDPRejectedClaim:
		return providerFix(c)
	case codeIDPCommunication:
		return "STS could not reach the identity provider to check the token's signature; this is usually passing, so run the job again"
	case codeExpiredToken:
		return "STS found the OIDC token expired (GitHub's tokens live five minutes, and sear fetches one for each call): check the runner's clock, then run the job again"
	case codeRegionDisabled:
		return fmt.Sprintf("STS is not activated in region %q for this account: activate it (IAM console, Account settings, Security Token Service endpoints), or choose another aws-region", w.region)
	case codeValidation:
		if strings.Contains(api.ErrorMessage(), maxSessionDurationText) {
			return fmt.Sprintf("the session duration asked for (%v) is longer than the role's maximum session duration: ask for less, or raise it: aws iam update-role --role-name %s --max-session-duration SECONDS", w.duration, w.role.name)
		}
	}
	return ""
}

// trustFix explains AccessDenied. STS gives it both for a role that does not exist and for a
// trust policy that does not admit the token, and says nothing more, so the fix covers both
// and shows what the policy's conditions must match.
func (w *webIdentity) trustFix(c claims) string {
	key := c.provider()
	format := "this token uses the default format"
	if c.immutableSub() {
		format = "this token uses the format with IDs"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "AWS gives this answer both when the role does not exist and when its trust policy does not admit this workflow:\n")
	fmt.Fprintf(&b, "  - does the role exist in account %s? aws iam get-role --role-name %s\n", w.role.account, w.role.name)
	fmt.Fprintf(&b, "  - does its trust policy admit this token? It must allow sts:AssumeRoleWithWebIdentity to\n")
	fmt.Fprintf(&b, "      \"Principal\": {\"Federated\": \"arn:aws:iam::%s:oidc-provider/%s\"}\n", w.role.account, key)
	fmt.Fprintf(&b, "    and its conditions must match the token, which carries\n")
	fmt.Fprintf(&b, "      sub: %s\n      aud: %s\n", orElse(c.Sub, "(unknown)"), orElse(string(c.Aud), "(unknown)"))
	fmt.Fprintf(&b, "    for example, for every workflow of this repository:\n")
	fmt.Fprintf(&b, "      \"StringEquals\": {\"%s:aud\": \"%s\"},\n", key, Audience)
	fmt.Fprintf(&b, "      \"StringLike\": {\"%s:sub\": \"%s\"}\n", key, c.subByName())
	fmt.Fprintf(&b, "    or, for subjects in the format with owner and repository IDs (%s):\n", format)
	fmt.Fprintf(&b, "      \"StringLike\": {\"%s:sub\": \"%s\"}", key, c.subByID())
	return b.String()
}

// providerFix explains InvalidIdentityToken: STS could not validate the token against the
// account's IAM OIDC identity provider (none for this issuer, an audience it does not list, keys
// it could not verify with).
func providerFix(c claims) string {
	if c.Aud != "" && string(c.Aud) != Audience {
		return fmt.Sprintf("sear asked the Actions token endpoint for a token with audience %s, and got one for %s: "+
			"STS accepts only the audiences the IAM identity provider lists, so the token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL) must honour the audience parameter",
			Audience, c.Aud)
	}
	return fmt.Sprintf("the account needs an IAM OIDC identity provider for %s whose audiences include %s:\n"+
		"  aws iam create-open-id-connect-provider --url %s --client-id-list %s\n"+
		"this token's issuer is %s and its audience %s",
		c.provider(), Audience, c.issuerURL(), Audience, orElse(c.Iss, "(unknown)"), orElse(string(c.Aud), "(unknown)"))
}

// endpointFix explains a request that never got an answer. A region that does not exist shows
// up here: the SDK builds sts.REGION.amazonaws.com, which does not resolve.
func (w *webIdentity) endpointFix(err error) string {
	host := "STS"
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			host = u.Host
		}
	}
	var dns *net.DNSError
	var op *net.OpError
	switch {
	case errors.As(err, &dns) && w.endpoint == "":
		return fmt.Sprintf("cannot resolve %s: check aws-region, %q may not be a region (or this runner cannot resolve names)", dns.Name, w.region)
	case errors.As(err, &dns) || errors.As(err, &op):
		if w.endpoint != "" {
			return fmt.Sprintf("cannot reach STS at %s: check %s", host, w.endpoint)
		}
		return fmt.Sprintf("cannot reach STS at %s: check aws-region (%q) and this runner's network access to AWS", host, w.region)
	}
	return ""
}
