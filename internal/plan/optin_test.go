package plan_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/plan"
)

// TestOptInPermissionsGolden: a permission that only a cluster field
// needs is in the policy sear plan prints exactly when the cluster file
// sets that field, and in no example (none sets them). Each is kept in
// testdata/golden/NAME.json and NAME-off.json: the same CPU-only cluster
// file with and without the field.
//
//	go test ./internal/plan -run Golden -update
func TestOptInPermissionsGolden(t *testing.T) {
	for _, tc := range []struct {
		name, file, field, action string
		set                       func(*config.Cluster, bool)
		// requests are what the field needs allowed.
		requests []request
	}{
		{
			// servicequotas:GetServiceQuota, and ec2:DescribeInstanceTypes,
			// with which the check counts vCPUs.
			name: "check-quotas", file: "testdata/check-quotas.yaml", field: "check_quotas", action: "servicequotas",
			set: func(c *config.Cluster, on bool) { c.CheckQuotas = on },
			requests: []request{
				{"servicequotas:GetServiceQuota", "arn:aws:servicequotas:us-east-1:" + testAccount + ":ec2/L-1216C47A", nil},
				{"ec2:DescribeInstanceTypes", "*", nil},
			},
		},
		{
			// pricing:GetProducts, and for a spot cluster (as this one is)
			// ec2:DescribeSpotPriceHistory.
			name: "live-prices", file: "testdata/live-prices.yaml", field: "live_prices", action: "pricing",
			set:      func(c *config.Cluster, on bool) { c.LivePrices, c.Spot = on, on },
			requests: []request{{"pricing:GetProducts", "*", nil}, {"ec2:DescribeSpotPriceHistory", "*", nil}},
		},
	} {
		for _, on := range []bool{true, false} {
			in := plan.Input{Runnable: loadRunnable(t, someRunnable), Cluster: loadCluster(t, tc.file), Repository: repo}
			tc.set(in.Cluster, on)
			pol := plan.Make(in).Policy
			name := tc.name
			if !on {
				name += "-off"
			}
			js, err := json.MarshalIndent(pol.Permissions, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "testdata/golden/"+name+".json", append(js, '\n'))
			for _, r := range tc.requests {
				if allows(t, pol.Permissions, r) != on {
					t.Errorf("%s %v: %s allowed %v", tc.field, on, r.action, !on)
				}
			}
			if scoped := strings.Contains(strings.Join(pol.Scope, "\n"), tc.requests[0].action); scoped != on {
				t.Errorf("%s %v: the scope names %s: %v", tc.field, on, tc.requests[0].action, scoped)
			}
		}
		examples, _ := filepath.Glob("testdata/golden/*.json")
		for _, f := range examples {
			if strings.HasPrefix(filepath.Base(f), tc.name) {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), `"`+tc.action+`:`) {
				t.Errorf("%s prints a %s permission, yet its cluster file does not set %s", f, tc.action, tc.field)
			}
		}
	}
}
