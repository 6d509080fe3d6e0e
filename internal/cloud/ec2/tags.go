package ec2

import (
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/sear-ci/sear/internal/cloud"
)

// maxTags is EC2's limit per resource (EC2 User Guide, "Tag restrictions").
const maxTags = 50

// commonTags are the tags of every resource of the cluster
// (cloud.Tags, which sear plan prints too); Role and Name are added per
// resource.
func commonTags(spec cloud.Spec, creator string) map[string]string {
	return cloud.Tags(spec.Cluster, cloud.TagValues{
		ClusterID: spec.Keys.ID, RunID: spec.RunID, Repository: spec.Repository,
		ExpiresAt: cloud.FormatExpiry(spec.ExpiresAt), Creator: creator,
	})
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
	c := spec.Cluster
	if n := len(c.Tags); n > maxTags-cloud.OwnTags {
		return c.FieldError("tags", fmt.Sprintf("tags lists %d tags; EC2 allows %d per resource and sear sets %d, so give at most %d",
			n, maxTags, cloud.OwnTags, maxTags-cloud.OwnTags))
	}
	return nil
}
