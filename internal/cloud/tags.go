package cloud

import (
	"time"

	"github.com/sear-ci/sear/internal/config"
)

// The tag keys sear searches by (docs/design.md, "Tags"): every layer of
// teardown finds what a run created by them, and the IAM policy sear plan
// prints requires them on everything the role creates.
const (
	TagClusterID  = "sear:cluster-id"
	TagRunID      = "sear:run-id"
	TagRepository = "sear:repository"
	TagExpiresAt  = "sear:expires-at"
)

// Flambé's tag keys, kept so that tools written for Flambé clusters still
// find sear's. Role and Name are per resource (NodeTags; a security
// group's Name is its group name).
const (
	TagCreator     = "creator"
	TagPurpose     = "Purpose"
	TagClusterName = "Cluster-Name"
	TagRole        = "Role"
	TagName        = "Name"
)

// PurposeFlambe is the Purpose tag's value, as Flambé sets it.
const PurposeFlambe = "flambe"

// OwnTags are how many tags sear sets on a node's resources: Flambé's five
// and sear's four. A cluster file's tags share EC2's limit with them.
const OwnTags = 9

// TagValues are the values of sear's tags for one run. sear plan fills
// them with placeholders for what only the run knows.
type TagValues struct {
	ClusterID, RunID, Repository string
	// ExpiresAt is FormatExpiry's form of the instant.
	ExpiresAt string
	// Creator is the creator tag when the cluster file gives none.
	Creator string
}

// FormatExpiry is sear:expires-at's value: RFC 3339 in UTC, which sweep
// parses back.
func FormatExpiry(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Tags are the tags of every resource of cluster c: the file's own, then
// Flambé's creator, Purpose and Cluster-Name and sear's four, which the
// file may not override (package config refuses those keys).
func Tags(c *config.Cluster, v TagValues) map[string]string {
	t := make(map[string]string, len(c.Tags)+OwnTags)
	for k, val := range c.Tags {
		t[k] = val
	}
	creator := v.Creator
	if c.Creator != "" {
		creator = c.Creator
	}
	for k, val := range map[string]string{
		TagCreator: creator, TagPurpose: PurposeFlambe, TagClusterName: c.Name,
		TagClusterID: v.ClusterID, TagRunID: v.RunID, TagRepository: v.Repository, TagExpiresAt: v.ExpiresAt,
	} {
		t[k] = val
	}
	return t
}

// NodeTags are tags plus the node's Role and Name, as Flambé tags an
// instance and what it creates with it.
func NodeTags(tags map[string]string, n config.Node) map[string]string {
	return WithTags(tags, TagRole, FlambeRole(n.Role), TagName, n.Name)
}

// WithTags returns tags plus the given key, value pairs.
func WithTags(tags map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(tags)+len(kv)/2)
	for k, v := range tags {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// FlambeRole is the Role tag's value, as Flambé writes it.
func FlambeRole(r config.Role) string {
	if r == config.RoleOrchestrator {
		return "Orchestrator"
	}
	return "Factory"
}
