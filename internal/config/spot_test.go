package config

import (
	"strings"
	"testing"
)

func TestSpotSignal(t *testing.T) {
	t.Parallel()
	const base = "!AWSCluster\nname: c\nfactories_num: 0\nfactories_type: t3.large\norchestrator_type: t3.large\nspot: true\n"
	for _, tc := range []struct{ line, want, err string }{
		{"", "SIGTERM", ""},
		{"spot_signal: SIGUSR1\n", "SIGUSR1", ""},
		{"spot_signal: usr2\n", "SIGUSR2", ""},
		{"spot_signal: SIGINT\n", "", `spot_signal "SIGINT" never reaches the job`},
		{"spot_signal: SIGKILL\n", "", `7:14: spot_signal "SIGKILL" cannot be caught`},
		{"spot_signal: SIGWINCH\n", "", `spot_signal "SIGWINCH" is not a signal sear sends; expected one of SIGTERM, SIGHUP, SIGUSR1, SIGUSR2`},
		{"spot_signal: 15\n", "", `"spot_signal" must be a string`},
	} {
		c, err := ParseCluster("c.yaml", []byte(base+tc.line))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.line, err)
		case tc.err == "" && c.SpotSignal != tc.want:
			t.Errorf("%q: SpotSignal %q, want %q", tc.line, c.SpotSignal, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: %v, want an error with %q", tc.line, err, tc.err)
		}
	}
	if _, err := ParseCluster("l.yaml", []byte("!LocalCluster\nname: l\nspot_signal: SIGTERM\n")); err == nil {
		t.Error("a local cluster took spot_signal; its nodes are never spot")
	}
}

func TestSpotRetry(t *testing.T) {
	t.Parallel()
	const base = "!AWSCluster\nname: c\nfactories_num: 0\nfactories_type: t3.large\norchestrator_type: t3.large\n"
	for _, tc := range []struct{ yaml, want, err string }{
		{"spot: true\n", "", ""},
		{"spot: true\nspot_retry: on-demand\n", SpotRetryOnDemand, ""},
		{"spot: true\nspot_retry: spot\n", "", `spot_retry "spot" is not a retry sear makes: write spot_retry: on-demand`},
		{"spot_retry: on-demand\n", "", "6:1: spot_retry needs spot: true"},
	} {
		c, err := ParseCluster("c.yaml", []byte(base+tc.yaml))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.yaml, err)
		case tc.err == "" && c.SpotRetry != tc.want:
			t.Errorf("%q: SpotRetry %q, want %q", tc.yaml, c.SpotRetry, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: %v, want an error with %q", tc.yaml, err, tc.err)
		}
	}
}
