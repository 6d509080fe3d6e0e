package oidc

import (
	"errors"
	"fmt"
	"time"
)

// Reasons a token is refused; a *VerifyError wraps exactly one of them.
var (
	ErrMalformed   = errors.New("malformed token")
	ErrSignature   = errors.New("signature does not verify")
	ErrIssuer      = errors.New("wrong issuer")
	ErrAudience    = errors.New("wrong audience")
	ErrExpired     = errors.New("token expired")
	ErrNotYetValid = errors.New("token not yet valid")
)

// VerifyError says why Verify refused a token.
type VerifyError struct {
	Reason error // one of the Err* values above
	Detail string
}

func verifyErr(reason error, format string, args ...any) *VerifyError {
	return &VerifyError{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// Error is the reason and its detail.
func (e *VerifyError) Error() string { return e.Reason.Error() + ": " + e.Detail }

// Unwrap lets errors.Is match the reason.
func (e *VerifyError) Unwrap() error { return e.Reason }

// Expired tells a relying party that does not import this package (the STS emulator) that the
// token was genuine but is past its exp, which STS answers with its own error code.
func (e *VerifyError) Expired() bool { return e.Reason == ErrExpired }

// Verify checks a token as a relying party must: the RS256 signature under this Issuer's key,
// iss, aud (skipped when audience is empty, for a party that matches aud itself, as STS does
// against its provider's client IDs), and the nbf/iat/exp window on the Issuer's clock. It
// returns the claims. For an expired token it returns the verified claims with the error, so the
// caller can say when the token expired.
func (i *Issuer) Verify(token, audience string) (map[string]any, error) {
	t, err := parseJWS(token)
	if err != nil {
		return nil, err
	}
	if err := i.checkSignature(t); err != nil {
		return nil, err
	}
	if iss := t.claims["iss"]; iss != i.IssuerURL() {
		return nil, verifyErr(ErrIssuer, "iss %v, want %s", iss, i.IssuerURL())
	}
	if aud := t.claims["aud"]; audience != "" && aud != audience {
		return nil, verifyErr(ErrAudience, "aud %v, want %s", aud, audience)
	}
	if err := checkWindow(t.claims, i.now()); err != nil {
		if errors.Is(err, ErrExpired) {
			return t.claims, err
		}
		return nil, err
	}
	return t.claims, nil
}

// checkWindow applies RFC 7519's exp and nbf (section 4.1.4, 4.1.5) and refuses a token issued in
// the future.
func checkWindow(claims map[string]any, now time.Time) error {
	exp, okExp := numericDate(claims["exp"])
	nbf, okNbf := numericDate(claims["nbf"])
	iat, okIat := numericDate(claims["iat"])
	if !okExp || !okNbf || !okIat {
		return verifyErr(ErrMalformed, "exp, nbf and iat must be numeric dates")
	}
	switch {
	case !now.Before(exp):
		return verifyErr(ErrExpired, "expired at %d, now %d", exp.Unix(), now.Unix())
	case now.Before(nbf):
		return verifyErr(ErrNotYetValid, "not before %d, now %d", nbf.Unix(), now.Unix())
	case now.Before(iat):
		return verifyErr(ErrNotYetValid, "issued at %d, now %d", iat.Unix(), now.Unix())
	}
	return nil
}

// numericDate reads a JSON number of seconds since the epoch, as encoding/json decodes it.
func numericDate(v any) (time.Time, bool) {
	f, ok := v.(float64)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}
