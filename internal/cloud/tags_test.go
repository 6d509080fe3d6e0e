package cloud_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/config"
)

// TestTags: a node's resources carry the file's tags and exactly OwnTags
// of sear's, which the file cannot override.
func TestTags(t *testing.T) {
	t.Parallel()
	c, err := config.ParseCluster("cluster.yaml", []byte("!AWSCluster\nname: exp\nfactories_num: 1\nfactories_type: t3.micro\norchestrator_type: t3.small\ntags:\n  team: ml\n"))
	if err != nil {
		t.Fatal(err)
	}
	expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	common := cloud.Tags(c, cloud.TagValues{ClusterID: "sear-abc", RunID: "7-1", Repository: "octo/repo",
		ExpiresAt: cloud.FormatExpiry(expires), Creator: "octocat"})
	got := cloud.NodeTags(common, c.Node(1))
	want := map[string]string{
		"team": "ml", "creator": "octocat", "Purpose": "flambe", "Cluster-Name": "exp",
		"Role": "Factory", "Name": "exp_factory_1",
		"sear:cluster-id": "sear-abc", "sear:run-id": "7-1", "sear:repository": "octo/repo",
		"sear:expires-at": "2030-01-02T02:04:05Z",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("NodeTags =\n%v\nwant\n%v", got, want)
	}
	if n := len(got) - len(c.Tags); n != cloud.OwnTags {
		t.Errorf("sear sets %d tags, OwnTags says %d", n, cloud.OwnTags)
	}
	if _, ok := common["Role"]; ok || len(common) != len(got)-2 {
		t.Errorf("Tags holds a node's own tags: %v", common)
	}
	if r := cloud.NodeTags(common, c.Node(0))["Role"]; r != "Orchestrator" {
		t.Errorf("the orchestrator's Role is %q", r)
	}
	c.Creator = "ml-team@example.com"
	if got := cloud.Tags(c, cloud.TagValues{Creator: "octocat"})["creator"]; got != c.Creator {
		t.Errorf("creator = %q: the cluster file's creator wins", got)
	}
	for _, k := range []string{cloud.TagClusterID, cloud.TagRunID, cloud.TagRepository, cloud.TagExpiresAt} {
		if !strings.HasPrefix(k, "sear:") {
			t.Errorf("%q is not in sear's namespace, which package config reserves", k)
		}
	}
}
