package awsauth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// githubIssuer is the iss of GitHub.com's Actions tokens.
const githubIssuer = "https://token.actions.githubusercontent.com"

// claims are the ID token's claims that explain a refusal. They are read without verifying the
// signature, which is STS's job; they only ever go into an error message.
type claims struct {
	Iss               string   `json:"iss"`
	Sub               string   `json:"sub"`
	Aud               audience `json:"aud"`
	Repository        string   `json:"repository"`
	RepositoryOwner   string   `json:"repository_owner"`
	RepositoryID      string   `json:"repository_id"`
	RepositoryOwnerID string   `json:"repository_owner_id"`
}

// audience is the aud claim, a string or an array of strings (RFC 7519 section 4.1.3).
type audience string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience(one)
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("aud is neither a string nor an array of strings")
	}
	*a = audience(strings.Join(many, ", "))
	return nil
}

// decodeClaims reads a JWS compact serialization's payload (RFC 7515 section 7.1).
func decodeClaims(token string) (claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return claims{}, fmt.Errorf("%d dot-separated parts, want 3", len(parts))
	}
	// base64url without padding, as RFC 7515 requires; tolerate padding all the same.
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return claims{}, errors.New("payload is not base64url")
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return claims{}, errors.New("payload is not a JSON object of claims")
	}
	return c, nil
}

// provider is the IAM OIDC identity provider's URL for the token's issuer, without its scheme:
// the prefix of the trust policy's condition keys (token.actions.githubusercontent.com:sub) and
// the last part of the provider's ARN.
func (c claims) provider() string {
	iss := c.Iss
	if iss == "" {
		iss = githubIssuer
	}
	iss = strings.TrimPrefix(strings.TrimPrefix(iss, "https://"), "http://")
	return strings.TrimSuffix(iss, "/")
}

// issuerURL is the provider URL that `aws iam create-open-id-connect-provider --url` takes.
func (c claims) issuerURL() string {
	if c.Iss == "" {
		return githubIssuer
	}
	return c.Iss
}

// subRepo splits the repository part of the sub, repo:OWNER[@ID]/REPO[@ID]:..., into names
// and IDs (empty when the sub has the default format).
func (c claims) subRepo() (owner, ownerID, name, repoID string) {
	r, ok := strings.CutPrefix(c.Sub, "repo:")
	if !ok {
		return "", "", "", ""
	}
	r, _, _ = strings.Cut(r, ":")
	o, n, _ := strings.Cut(r, "/")
	owner, ownerID, _ = strings.Cut(o, "@")
	name, repoID, _ = strings.Cut(n, "@")
	return owner, ownerID, name, repoID
}

// names are the repository's owner and name, from the repository claim or else from the sub,
// with placeholders for what neither says.
func (c claims) names() (owner, name string) {
	if o, n, ok := strings.Cut(c.Repository, "/"); ok {
		return o, n
	}
	owner, _, name, _ = c.subRepo()
	return orElse(owner, "OWNER"), orElse(name, "REPO")
}

// ids are the owner's and the repository's numeric IDs, from their claims or else from the sub.
func (c claims) ids() (ownerID, repoID string) {
	_, subOwnerID, _, subRepoID := c.subRepo()
	return orElse(c.RepositoryOwnerID, subOwnerID, "OWNER_ID"), orElse(c.RepositoryID, subRepoID, "REPO_ID")
}

func orElse(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// subByName is a sub pattern for every workflow of the repository in GitHub's default format,
// repo:OWNER/REPO:... ("OpenID Connect reference", "Example subject claims").
func (c claims) subByName() string {
	owner, name := c.names()
	return "repo:" + owner + "/" + name + ":*"
}

// subByID is the same in the format with IDs, repo:OWNER@OWNER-ID/REPO@REPO-ID:..., which
// survives a rename and cannot be claimed by whoever takes an old name ("Immutable subject
// claims").
func (c claims) subByID() string {
	owner, name := c.names()
	ownerID, repoID := c.ids()
	return fmt.Sprintf("repo:%s@%s/%s@%s:*", owner, ownerID, name, repoID)
}

// immutableSub reports whether the token's sub uses the format with IDs.
func (c claims) immutableSub() bool {
	_, ownerID, _, repoID := c.subRepo()
	return ownerID != "" || repoID != ""
}
