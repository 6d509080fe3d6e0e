package docker

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// imdsScript asks the instance's metadata service, at $AWS_EC2_METADATA_SERVICE_ENDPOINT as a
// login session sees it, what curl and Python's urllib get: the status without a token, the
// instance id and the instance action with one.
const imdsScript = `set -e
e=${AWS_EC2_METADATA_SERVICE_ENDPOINT%/}
echo "endpoint $e"
echo "no-token $(curl -s -o /dev/null -w '%{http_code}' "$e/latest/meta-data/instance-id")"
echo "no-ttl $(curl -s -o /dev/null -w '%{http_code}' -X PUT "$e/latest/api/token")"
tok=$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$e/latest/api/token")
echo "id $(curl -sf -H "X-aws-ec2-metadata-token: $tok" "$e/latest/meta-data/instance-id")"
python3 - "$e" <<'PY'
import sys, urllib.request, urllib.error
e = sys.argv[1]
tok = urllib.request.urlopen(urllib.request.Request(e + "/latest/api/token", method="PUT",
    headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"})).read().decode()
try:
    r = urllib.request.urlopen(urllib.request.Request(e + "/latest/meta-data/spot/instance-action",
        headers={"X-aws-ec2-metadata-token": tok}))
    print("action", r.status, r.read().decode())
except urllib.error.HTTPError as err:
    print("action", err.code)
PY`

// TestInstanceMetadata: a Spot Instance reaches its IMDSv2 at the address the backend gives it,
// tokens required; the interruption notice appears there, then the instance is terminated and
// its container removed. The host, not an instance, is refused.
func TestInstanceMetadata(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	host, client := newKeyPair(t), newKeyPair(t)
	out, err := w.client.RunInstances(context.Background(), &awsec2.RunInstancesInput{
		ImageId: aws.String("ami-0a1b2c3d4e5f60001"), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		UserData: aws.String(base64.StdEncoding.EncodeToString(cloudConfig(t, host, client, nil))),
		InstanceMarketOptions: &types.InstanceMarketOptionsRequest{MarketType: types.MarketTypeSpot,
			SpotOptions: &types.SpotMarketOptions{SpotInstanceType: types.SpotInstanceTypeOneTime, InstanceInterruptionBehavior: types.InstanceInterruptionBehaviorTerminate}},
		MetadataOptions: &types.InstanceMetadataOptionsRequest{HttpTokens: types.HttpTokensStateRequired, HttpEndpoint: types.InstanceMetadataEndpointStateEnabled},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	addr := aws.ToString(w.waitState(t, id, types.InstanceStateNameRunning, bootTimeout).PrivateIpAddress)
	c := newSSHClient(t, client, addr, host.authorized)
	c.waitSSH(t, addr, bootTimeout)

	got, err := c.run(addr, imdsScript)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{"endpoint " + strings.TrimSuffix(w.backend.MetadataURL(), "/"),
		"no-token 401", "no-ttl 400", "id " + id, "action 404"}, "\n")
	if got != want {
		t.Fatalf("before the notice:\n%s\nwant\n%s", got, want)
	}

	// The host is on the gateway, not an instance: refused.
	resp, err := http.Get(w.backend.MetadataURL() + "latest/meta-data/instance-id")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("from the host: %d, want 403", resp.StatusCode)
	}

	at, err := w.emu.InterruptSpot(id, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got, err = c.run(addr, imdsScript)
	if err != nil {
		t.Fatal(err)
	}
	line := got[strings.LastIndex(got, "\n")+1:]
	var action struct{ Action, Time string }
	if !strings.HasPrefix(line, "action 200 ") || json.Unmarshal([]byte(strings.TrimPrefix(line, "action 200 ")), &action) != nil ||
		action.Action != "terminate" || action.Time != at.UTC().Format("2006-01-02T15:04:05Z") {
		t.Fatalf("after the notice: %q, want the action at %v", line, at)
	}
	inst := w.waitState(t, id, types.InstanceStateNameTerminated, 30*time.Second)
	if aws.ToString(inst.StateReason.Code) != "Server.SpotInstanceTermination" {
		t.Errorf("state reason %q", aws.ToString(inst.StateReason.Code))
	}
	if s := containerState(t, "sear-tw-"+id); s != "" {
		t.Errorf("container sear-tw-%s is %q after the interruption, want gone", id, s)
	}
}
