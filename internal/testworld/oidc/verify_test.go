package oidc

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	clk := newClock()
	iss, _ := serve(t, clk.Now)
	other, err := NewIssuer(clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	other.SetBaseURL(iss.IssuerURL())
	run := octo.Push("main")
	mint := func(i *Issuer) string {
		tok, err := i.Mint(run, "sts.amazonaws.com")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := mint(iss)
	tests := []struct {
		name     string
		token    func() string
		audience string
		want     error
	}{
		{"not a JWT", func() string { return "hello" }, "", ErrMalformed},
		{"payload not base64", func() string { return "a.!!!.c" }, "", ErrMalformed},
		{"signed by another key", func() string { return mint(other) }, "", ErrSignature},
		{"payload tampered", func() string { return tamper(good) }, "", ErrSignature},
		{"alg none", func() string { return algNone(good) }, "", ErrSignature},
		{"wrong audience", func() string { return good }, "https://github.com/octo", ErrAudience},
		{"wrong issuer", func() string { return mintAs(t, iss, GitHubIssuer) }, "", ErrIssuer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := iss.Verify(tc.token(), tc.audience)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestVerifyTimeWindow(t *testing.T) {
	t.Parallel()
	clk := newClock()
	iss, _ := serve(t, clk.Now)
	tok, err := iss.Mint(octo.Push("main"), "sts.amazonaws.com")
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		advance time.Duration
		want    error
	}{
		{-11 * time.Minute, ErrNotYetValid},
		{11*time.Minute + 4*time.Minute, nil}, // iat + 4m: still valid
		{time.Minute, ErrExpired},             // iat + 5m: exp reached
	}
	for _, s := range steps {
		clk.Add(s.advance)
		claims, err := iss.Verify(tok, "sts.amazonaws.com")
		if !errors.Is(err, s.want) {
			t.Fatalf("at %v: err = %v, want %v", clk.Now(), err, s.want)
		}
		var ve *VerifyError
		if errors.As(err, &ve) && ve.Expired() && claims["sub"] == nil {
			t.Errorf("expired token's verified claims not returned")
		}
	}
}

func TestSetTokenLifetime(t *testing.T) {
	t.Parallel()
	clk := newClock()
	iss, _ := serve(t, clk.Now)
	iss.SetTokenLifetime(time.Hour)
	tok, _ := iss.Mint(octo.Push("main"), "")
	clk.Add(59 * time.Minute)
	if _, err := iss.Verify(tok, ""); err != nil {
		t.Fatalf("one-hour token refused after 59m: %v", err)
	}
}

// tamper changes the payload's sub without re-signing.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	p, _ := base64.RawURLEncoding.DecodeString(parts[1])
	p = []byte(strings.Replace(string(p), "refs/heads/main", "refs/heads/evil", 1))
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(p) + "." + parts[2]
}

// algNone is the classic downgrade: header alg none and an empty signature.
func algNone(tok string) string {
	parts := strings.Split(tok, ".")
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	return h + "." + parts[1] + "."
}

// mintAs signs a token with iss's key while iss claims to be issuer.
func mintAs(t *testing.T, iss *Issuer, issuer string) string {
	t.Helper()
	own := iss.IssuerURL()
	iss.SetBaseURL(issuer)
	defer iss.SetBaseURL(own)
	tok, err := iss.Mint(octo.Push("main"), "")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
