package sts

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
)

// assumeRoleWithWebIdentity runs the operation in AWS's order: parameter constraints, the
// token (provider, signature, time, audience), the role's trust, the role's maximum session
// duration, then the credentials. call is filled in as facts become known.
func (s *Server) assumeRoleWithWebIdentity(form url.Values, call *Call) (webIdentityResult, *apiError) {
	p, err := parseParams(form)
	call.RoleARN, call.SessionName = p.roleARN, p.sessionName
	if err != nil {
		return webIdentityResult{}, err
	}
	claims, err := s.checkToken(p.token)
	if err != nil {
		return webIdentityResult{}, err
	}
	sub, aud, iss := claimString(claims, "sub"), claimString(claims, "aud"), claimString(claims, "iss")
	call.Subject = sub
	role, ok := s.role(p.roleARN)
	if !ok || !role.Trust.allows(aud, sub) {
		return webIdentityResult{}, accessDenied()
	}
	if p.duration > role.MaxSessionDuration {
		// ValidationError with this message: kreuzwerker/awsu#27, prowler-cloud/prowler#923.
		return webIdentityResult{}, validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	id, c := s.issue(p.duration)
	call.AccessKeyID = id
	return webIdentityResult{
		SubjectFromWebIdentityToken: sub,
		Audience:                    aud,
		AssumedRoleUser:             assumedUser(p.roleARN, p.sessionName),
		Credentials:                 credentialsXML{c.sessionToken, c.secret, isoTime(c.expires), id},
		Provider:                    iss, // "For OpenID Connect ID tokens, this contains the value of the iss field"
	}, nil
}

// genericInvalid is the service model's description of InvalidIdentityTokenException, used where
// AWS's exact message for the failure is not on record.
const genericInvalid = "The web identity token that was passed could not be validated by AWS. " +
	"Get a new identity token from the identity provider and then retry the request."

// checkToken validates the token as STS does for an OIDC provider: find the account's provider
// by the token's iss, verify the signature with the provider's keys and the time window (on the
// verifier's clock; the test world gives both emulators one), and check that aud is one of the
// provider's client IDs.
func (s *Server) checkToken(token string) (map[string]any, *apiError) {
	iss, ok := peekIssuer(token)
	if !ok {
		return nil, invalidToken(genericInvalid)
	}
	if iss != s.verifier.IssuerURL() {
		// The message AWS sends: aws-actions/configure-aws-credentials#721, treeverse/dvc.org#5273.
		return nil, invalidToken("No OpenIDConnect provider found in your account for %s", iss)
	}
	claims, err := s.verifier.Verify(token, "")
	var expired interface{ Expired() bool }
	if errors.As(err, &expired) && expired.Expired() {
		exp, _ := claims["exp"].(float64)
		return nil, expiredToken(s.now().Unix(), int64(exp))
	}
	if err != nil {
		return nil, invalidToken(genericInvalid)
	}
	s.mu.Lock()
	known := s.clientIDs()[claimString(claims, "aud")]
	s.mu.Unlock()
	if !known {
		// InvalidIdentityToken "Incorrect token audience": awslabs/amazon-eks-irsa-cfn#18,
		// aws-actions/configure-aws-credentials#775 (a GitHub token whose aud is not a client ID).
		return nil, invalidToken("Incorrect token audience")
	}
	return claims, nil
}

// peekIssuer reads iss from an unverified JWT, to pick the provider that will verify it.
func peekIssuer(token string) (string, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", false
	}
	var claims struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Iss == "" {
		return "", false
	}
	return claims.Iss, true
}

func claimString(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return s
}

// assumedUser names the session: arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION, and the
// role's unique ID (AROA..., IAM User Guide, "Unique identifiers") joined to the session name.
func assumedUser(arn, session string) assumedRoleUser {
	r, _ := parseRoleARN(arn)
	return assumedRoleUser{
		Arn:           "arn:" + r.partition + ":sts::" + r.account + ":assumed-role/" + r.name + "/" + session,
		AssumedRoleID: roleID(arn) + ":" + session,
	}
}

// roleID is a stable 21-character role ID for an ARN, as IAM assigns one per role.
func roleID(arn string) string {
	sum := sha256.Sum256([]byte(arn))
	return "AROA" + base32.StdEncoding.EncodeToString(sum[:])[:17]
}
