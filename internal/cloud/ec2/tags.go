package ec2

import (
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/sear-ci/sear/internal/cloud"
)

// maxTags is EC2's limit per resource (EC2 User Guide, "Tag restrictions").
const maxTags = 50

// ownTags is how many tags sear sets on an instance: Flambé's five and
// sear's four.
const ownTags = 9

// commonTags are the tags of every resource of the cluster: Flambé's
// creator, Purpose and Cluster-Name, sear's four, and the user's tags.
// Role and Name are added per resource.
func commonTags(spec cloud.Spec, creator string) map[string]string {
	c := spec.Cluster
	if c.Creator != "" {
		creator = c.Creator
	}
	t := map[string]string{}
	for k, v := range c.Tags {
		t[k] = v
	}
	for k, v := range map[string]string{
		"creator": creator, "Purpose": "flambe", "Cluster-Name": c.Name,
		tagClusterID: spec.Keys.ID, tagRunID: spec.RunID, tagRepository: spec.Repository,
		tagExpiresAt: spec.ExpiresAt.UTC().Format(time.RFC3339),
	} {
		t[k] = v
	}
	return t
}

// withTags returns tags plus the given pairs.
func withTags(tags map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(tags)+len(kv)/2)
	for k, v := range tags {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// tagList is tags in key order, so that a request is the same every time
// it is built (RunInstances' ClientToken replay compares parameters).
func tagList(tags map[string]string) []types.Tag {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]types.Tag, len(keys))
	for i, k := range keys {
		out[i] = types.Tag{Key: aws.String(k), Value: aws.String(tags[k])}
	}
	return out
}

// tagSpecs tags each resource type the same way, at creation.
func tagSpecs(tags map[string]string, kinds ...types.ResourceType) []types.TagSpecification {
	list := tagList(tags)
	out := make([]types.TagSpecification, len(kinds))
	for i, k := range kinds {
		out[i] = types.TagSpecification{ResourceType: k, Tags: list}
	}
	return out
}

// tagMap turns EC2's tag list into a map.
func tagMap(tags []types.Tag) map[string]string {
	out := make(map[string]string, len(tags))
	for _, t := range tags {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}

// checkTagCount refuses a tags map that would push a resource over EC2's
// limit once sear's own tags are added.
func checkTagCount(spec cloud.Spec) error {
	if n := len(spec.Cluster.Tags); n > maxTags-ownTags {
		return fmt.Errorf("tags: the cluster file gives %d tags; EC2 allows %d per resource and sear sets %d, so give at most %d",
			n, maxTags, ownTags, maxTags-ownTags)
	}
	return nil
}

// flambeRole is the Role tag's value, as Flambé writes it.
func flambeRole(r cloud.Role) string {
	if r == cloud.Orchestrator {
		return "Orchestrator"
	}
	return "Factory"
}
