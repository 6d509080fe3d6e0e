package world

import (
	"context"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestListenAlso: with ListenAlso, every service answers on the other address too, on its
// loopback port, and EnvAt names that address where Env names 127.0.0.1. 127.0.0.2 stands for a
// Docker network's gateway: Linux routes all of 127.0.0.0/8 to the loopback interface.
func TestListenAlso(t *testing.T) {
	t.Parallel()
	other := netip.MustParseAddr("127.0.0.2")
	w := start(t, Options{ListenAlso: []netip.Addr{other}})

	env, at := w.Env(), w.EnvAt(other)
	if len(env) != len(at) {
		t.Fatalf("EnvAt has %d entries, Env %d", len(at), len(env))
	}
	rewritten := 0
	for i := range env {
		want := strings.ReplaceAll(env[i], "=http://127.0.0.1:", "=http://127.0.0.2:")
		if at[i] != want {
			t.Errorf("EnvAt entry %q, want %q", at[i], want)
		}
		if want != env[i] {
			rewritten++
		}
	}
	// EC2, STS, SSM, Service Quotas, Pricing, GitHub (API and server), the ID token request,
	// checkip and control.
	if rewritten != 10 {
		t.Errorf("EnvAt rewrote %d URLs, want 10:\n%s", rewritten, strings.Join(at, "\n"))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, kv := range at {
		name, url, _ := strings.Cut(kv, "=")
		if name != "SEAR_CHECKIP_URL" && name != "SEAR_TESTWORLD_URL" {
			continue
		}
		if name == "SEAR_TESTWORLD_URL" {
			url += ControlPrefix + "/state"
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s at the other address: %v", name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("GET %s: %s %q", url, resp.Status, body)
		}
	}
}

// TestListenAlsoClosesEveryListener: Close frees the other address's ports too.
func TestListenAlsoClosesEveryListener(t *testing.T) {
	t.Parallel()
	other := netip.MustParseAddr("127.0.0.2")
	w, err := Start(context.Background(), Options{ListenAlso: []netip.Addr{other}})
	if err != nil {
		t.Fatal(err)
	}
	url := strings.Replace(w.URLs().Control, "127.0.0.1", "127.0.0.2", 1) + ControlPrefix + "/state"
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Errorf("GET %s after Close: %s, want connection refused", url, resp.Status)
	}
}
