package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFrom(t *testing.T) {
	t.Parallel()
	checkout := &debug.BuildInfo{
		Main: debug.Module{Path: "github.com/sear-ci/sear", Version: "v0.0.0-20250102030405-0123456789ab+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2025-01-02T03:04:05Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	clean := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "fedcba"}, {Key: "vcs.modified", Value: "false"},
	}}
	tests := []struct {
		name                  string
		bi                    *debug.BuildInfo
		version, commit, date string
		want                  Info
	}{
		{"a release sets all three", checkout, "v1.2.3", "abc1234", "2025-02-03T04:05:06Z",
			Info{Version: "v1.2.3", Commit: "abc1234", Date: "2025-02-03T04:05:06Z"}},
		{"a checkout with changes", checkout, "", "", "",
			Info{Version: "v0.0.0-20250102030405-0123456789ab+dirty", Commit: "0123456789abcdef0123456789abcdef01234567+dirty", Date: "2025-01-02T03:04:05Z", DateIsCommitTime: true}},
		{"a clean checkout without a version", clean, "", "", "",
			Info{Version: "(devel)", Commit: "fedcba"}},
		{"only the version set", clean, "v1.2.3", "", "",
			Info{Version: "v1.2.3", Commit: "fedcba"}},
		{"no build info", nil, "", "", "", Info{Version: "(devel)"}},
		{"no version recorded", &debug.BuildInfo{}, "", "", "", Info{Version: "(devel)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := from(tt.bi, tt.version, tt.commit, tt.date)
			got.GoVersion, got.Platform = "", ""
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestString(t *testing.T) {
	t.Parallel()
	got := Info{Version: "v1.2.3", Commit: "abc1234", Date: "2025-02-03T04:05:06Z", GoVersion: "go1.26.0", Platform: "linux/amd64"}.String()
	want := "sear v1.2.3\n  commit  abc1234\n  date    2025-02-03T04:05:06Z\n  go      go1.26.0 linux/amd64\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	got = Info{Version: "(devel)", Date: "2025-01-02T03:04:05Z", DateIsCommitTime: true, GoVersion: "go1.26.0", Platform: "linux/amd64"}.String()
	for _, want := range []string{"sear (devel)\n", "commit  unknown\n", "2025-01-02T03:04:05Z (the commit's time"} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
}

func TestGetIsTheRunningBinarys(t *testing.T) {
	t.Parallel()
	// A test binary has build info but no VCS stamp; Get must still name a
	// version and the toolchain.
	i := Get()
	if i.Version == "" || !strings.Contains(i.GoVersion, "go") || !strings.Contains(i.Platform, "/") {
		t.Errorf("Get() = %+v", i)
	}
}
