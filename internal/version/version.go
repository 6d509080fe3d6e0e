// Package version says which build of sear is running. A release names
// itself with -ldflags:
//
//	go build -ldflags "-X github.com/sear-ci/sear/internal/version.Version=v1.2.3 \
//	  -X github.com/sear-ci/sear/internal/version.Commit=0123abc \
//	  -X github.com/sear-ci/sear/internal/version.Date=2025-01-02T03:04:05Z"
//
// Any of them left unset is read from what the Go toolchain recorded in
// the binary, so a build from a checkout still says honestly what it is:
// "(devel)" or a pseudo-version, and the commit with "+dirty" when the
// tree had uncommitted changes.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Set by a release with -ldflags "-X"; the release script relies on
// exactly these three names.
var (
	// Version is the release's version, such as v1.2.3.
	Version string
	// Commit is the commit the release was built from.
	Commit string
	// Date is when the release was built, in RFC 3339.
	Date string
)

// Info is what a build says about itself.
type Info struct {
	// Version is the release's version, the module's pseudo-version, or
	// "(devel)" when the toolchain knew neither.
	Version string
	// Commit is the commit built from, "+dirty" appended when the tree
	// had uncommitted changes; empty when nothing recorded it.
	Commit string
	// Date is the release's build date, or else the commit's time (a
	// build from a checkout records no build date); empty when unknown.
	Date string
	// DateIsCommitTime says Date is the commit's time, not a build date.
	DateIsCommitTime bool
	// GoVersion is the toolchain that built the binary, and Platform the
	// operating system and architecture it was built for.
	GoVersion, Platform string
}

// Get is the running binary's Info.
func Get() Info {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return from(bi, Version, Commit, Date)
	}
	return from(nil, Version, Commit, Date)
}

// from makes the Info of a build: the -ldflags values where set, the
// build info's otherwise.
func from(bi *debug.BuildInfo, version, commit, date string) Info {
	info := Info{Version: version, Commit: commit, Date: date, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi == nil {
		if info.Version == "" {
			info.Version = "(devel)"
		}
		return info
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if info.Version == "" {
		info.Version = bi.Main.Version
	}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	if info.Commit == "" {
		info.Commit = settings["vcs.revision"]
		if info.Commit != "" && settings["vcs.modified"] == "true" {
			info.Commit += "+dirty"
		}
	}
	if info.Date == "" && settings["vcs.time"] != "" {
		info.Date, info.DateIsCommitTime = settings["vcs.time"], true
	}
	return info
}

// String is what `sear version` prints: the version on the first line,
// then one line per fact, and "unknown" for what the build did not record.
func (i Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sear %s\n", i.Version)
	date := orUnknown(i.Date)
	if i.DateIsCommitTime {
		date += " (the commit's time; a build from a checkout records no build date)"
	}
	fmt.Fprintf(&b, "  commit  %s\n", orUnknown(i.Commit))
	fmt.Fprintf(&b, "  date    %s\n", date)
	fmt.Fprintf(&b, "  go      %s %s\n", i.GoVersion, i.Platform)
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
