package ec2

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/sear-ci/sear/internal/cloud"
)

// SweepOptions says what Sweep deletes: the resources of one cluster, of
// one run, or of every run past its expiry. Exactly one of ClusterID,
// RunID and Expired is set.
type SweepOptions struct {
	Timing
	// ClusterID selects the resources tagged sear:cluster-id=ClusterID:
	// one step's cluster (layer 2 of teardown: the action's post step).
	ClusterID string
	// RunID selects the resources tagged sear:run-id=RunID: every cluster
	// of a workflow run's attempt, all its jobs' (`sear sweep --run-id`).
	RunID string
	// Expired selects the resources whose sear:expires-at is before Now
	// (layer 4: `sear sweep --expired`, safe on a schedule).
	Expired bool
	// Now is the time expiry is judged by; zero means time.Now().
	Now time.Time
	// Repository, if set, limits the sweep to resources tagged
	// sear:repository=Repository: in an account several repositories
	// share, a repository's sweep leaves the others' runs to them (and a
	// role whose policy is scoped to its own repository could not delete
	// theirs anyway).
	Repository string
	// DryRun finds and lists, and deletes nothing.
	DryRun bool
	// Log receives one line per resource found and deleted; nil discards.
	Log io.Writer
}

// SweepResult is what Sweep found (and, unless DryRun, deleted or left in
// the returned error).
type SweepResult struct {
	Region         string
	Instances      []string
	SecurityGroups []string
}

// Sweep finds the instances (not yet terminated) and security groups that
// sear runs left in cfg's region, by tag, and deletes them: it terminates
// the instances, waits until they are terminated, then deletes the groups.
// Only resources tagged sear:cluster-id are ever touched. Deletes are
// idempotent, so Sweep can run again, alongside a Teardown, or on a
// schedule. What it could not delete is returned as a *LeftoverError (a
// cloud.LeftoverError).
func Sweep(ctx context.Context, cfg aws.Config, opts SweepOptions) (SweepResult, error) {
	if n := count(opts.ClusterID != "", opts.RunID != "", opts.Expired); n != 1 {
		return SweepResult{}, errors.New("sweep: give one of a cluster id (--cluster-id), a run id (--run-id) or --expired")
	}
	if cfg.Region == "" {
		return SweepResult{}, errors.New("sweep: no AWS region: pass --region or set AWS_REGION")
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	a := newAPI(cfg, cfg.Region, opts.Timing, opts.Log)
	res := SweepResult{Region: cfg.Region}
	insts, groups, err := a.sweepable(ctx, opts)
	if err != nil {
		return res, err
	}
	res.Instances, res.SecurityGroups = insts, groups
	if opts.DryRun || (len(insts) == 0 && len(groups) == 0) {
		return res, nil
	}
	if _, err := a.reap(ctx, insts, groups, nil); err != nil {
		return res, fmt.Errorf("sweep: %w", err)
	}
	return res, nil
}

// sweepable lists what opts selects, logging each find.
func (a *api) sweepable(ctx context.Context, opts SweepOptions) (instances, groups []string, err error) {
	filters := []types.Filter{{Name: aws.String("tag-key"), Values: []string{cloud.TagClusterID}}}
	switch {
	case opts.ClusterID != "":
		filters = append(filters, tagFilter(cloud.TagClusterID, opts.ClusterID))
	case opts.RunID != "":
		filters = append(filters, tagFilter(cloud.TagRunID, opts.RunID))
	default:
		filters = append(filters, types.Filter{Name: aws.String("tag-key"), Values: []string{cloud.TagExpiresAt}})
	}
	if opts.Repository != "" {
		filters = append(filters, tagFilter(cloud.TagRepository, opts.Repository))
	}
	found, err := a.describe(ctx, append(filters, types.Filter{Name: aws.String("instance-state-name"), Values: stillLive}))
	if err != nil {
		return nil, nil, explain("sweep: find instances", "ec2:DescribeInstances", err)
	}
	for _, in := range found {
		if id := aws.ToString(in.InstanceId); a.selected(opts, "instance", id, tagMap(in.Tags)) {
			instances = append(instances, id)
		}
	}
	sgs, err := a.groupsByFilter(ctx, filters)
	if err != nil {
		return nil, nil, explain("sweep: find security groups", "ec2:DescribeSecurityGroups", err)
	}
	for _, g := range sgs {
		if id := aws.ToString(g.GroupId); a.selected(opts, "security group", id, tagMap(g.Tags)) {
			groups = append(groups, id)
		}
	}
	return instances, groups, nil
}

// selected applies the expiry test (EC2's filters cannot compare times)
// and logs what is swept.
func (a *api) selected(opts SweepOptions, kind, id string, tags map[string]string) bool {
	why := "run " + tags[cloud.TagRunID]
	if opts.Expired {
		exp, err := time.Parse(time.RFC3339, tags[cloud.TagExpiresAt])
		if err != nil {
			logf(a.log, "sear sweep: leaving %s %s alone: its %s tag %q is not an RFC 3339 time", kind, id, cloud.TagExpiresAt, tags[cloud.TagExpiresAt])
			return false
		}
		if !exp.Before(opts.Now) {
			return false
		}
		why = "expired " + exp.UTC().Format(time.RFC3339)
	}
	verb := "deleting"
	if opts.DryRun {
		verb = "would delete"
	}
	logf(a.log, "sear sweep: %s %s %s (cluster %s, %s, %s)", verb, kind, id, tags[cloud.TagClusterID], why, tags[cloud.TagRepository])
	return true
}

// count is how many of bs hold.
func count(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
