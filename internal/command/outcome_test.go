package command

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/report"
)

// leftovers is a provider's cloud.LeftoverError that is not EC2's: the
// report lists what any provider left.
type leftovers struct {
	left []cloud.Leftover
	err  error
}

func (l *leftovers) Error() string               { return "left behind" }
func (l *leftovers) Leftovers() []cloud.Leftover { return l.left }
func (l *leftovers) Unwrap() error               { return l.err }

func TestTeardownOutcomeLeftovers(t *testing.T) {
	t.Parallel()
	left := &leftovers{
		left: []cloud.Leftover{{Resource: "instance i-1", Command: "delete i-1"}, {Resource: "disk d-1", Command: "delete d-1"}},
		err:  errors.New("AccessDenied for key AKIASECRET\nsecond line"),
	}
	err := fmt.Errorf(`cleanup "launch": teardown of cluster c: %w`, left)
	clean := func(s string) string { return strings.ReplaceAll(s, "AKIASECRET", "***") }
	gone, got := teardownOutcome(&config.Cluster{Kind: config.AWS}, report.Run{}, err, clean)
	want := []report.Leftover{
		{Resource: "instance i-1", Err: "AccessDenied for key ***", Command: "delete i-1"},
		{Resource: "disk d-1", Err: "AccessDenied for key ***", Command: "delete d-1"},
	}
	if gone != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("teardownOutcome: gone %v, left\n%v\nwant\n%v", gone, got, want)
	}
}
