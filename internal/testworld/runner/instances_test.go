package runner

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sear-ci/sear/internal/testworld/fakeec2"
	"github.com/sear-ci/sear/internal/testworld/world"
)

// TestReachesInstances: on the Docker backend's network, the action's container reaches an
// instance's sshd at its private address, as sear does from the runner, and the world at the
// network's gateway.
func TestReachesInstances(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	w, b, n := dockerWorld(t, world.Options{})
	// An instance launched without user data, as an AMI boots: cloud-init's None datasource,
	// sshd with host keys of its own.
	addr, err := b.Start(ctx, fakeec2.LaunchSpec{InstanceID: "i-0123456789abcdef0"})
	if err != nil {
		t.Fatal(err)
	}
	j := jobFor(t, w, n)
	env := map[string]string{}
	for _, kv := range w.EnvAt(n.Gateway) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	r := run(t, j, probeStep(t, "dial", net.JoinHostPort(addr, "22"), "get", env["SEAR_TESTWORLD_URL"]+world.ControlPrefix+"/state"))
	if r.ExitCode != 0 || !strings.Contains(r.Stdout, "SSH-2.0-OpenSSH") || !strings.Contains(r.Stdout, "/state 200") {
		t.Errorf("probe exited %d:\n%s%s", r.ExitCode, r.Stdout, r.Stderr)
	}
}
