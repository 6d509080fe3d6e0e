package plan_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sear-ci/sear/internal/plan"
)

// TestCheckQuotasPolicyGolden: the permissions sear plan prints allow
// servicequotas:GetServiceQuota, and ec2:DescribeInstanceTypes with which
// the check counts vCPUs, exactly when the cluster file sets check_quotas:
// testdata/golden/check-quotas.json and check-quotas-off.json are the same
// CPU-only cluster file with and without it, and no example (none sets it)
// prints the permission.
//
//	go test ./internal/plan -run Golden -update
func TestCheckQuotasPolicyGolden(t *testing.T) {
	const file = "testdata/check-quotas.yaml"
	quota := request{"servicequotas:GetServiceQuota", "arn:aws:servicequotas:us-east-1:" + testAccount + ":ec2/L-1216C47A", nil}
	types := request{"ec2:DescribeInstanceTypes", "*", nil}
	for _, on := range []bool{true, false} {
		in := plan.Input{Runnable: loadRunnable(t, someRunnable), Cluster: loadCluster(t, file), Repository: repo}
		in.Cluster.CheckQuotas = on
		pol := plan.Make(in).Policy
		name := "check-quotas"
		if !on {
			name += "-off"
		}
		js, err := json.MarshalIndent(pol.Permissions, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "testdata/golden/"+name+".json", append(js, '\n'))
		if allows(t, pol.Permissions, quota) != on || allows(t, pol.Permissions, types) != on {
			t.Errorf("check_quotas %v: GetServiceQuota allowed %v, DescribeInstanceTypes allowed %v", on,
				allows(t, pol.Permissions, quota), allows(t, pol.Permissions, types))
		}
		scoped := strings.Contains(strings.Join(pol.Scope, "\n"), "servicequotas:GetServiceQuota")
		if scoped != on {
			t.Errorf("check_quotas %v: the scope names servicequotas:GetServiceQuota: %v", on, scoped)
		}
	}
	examples, _ := filepath.Glob("testdata/golden/*.json")
	for _, f := range examples {
		if strings.HasPrefix(filepath.Base(f), "check-quotas") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "servicequotas") {
			t.Errorf("%s prints a Service Quotas permission, yet its cluster file does not set check_quotas", f)
		}
	}
}
