package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
)

// Network is the Docker network the action's container joins (docker run --network, as the
// runner passes its job network), and the host's address on it, where the test world must also
// listen (world.Options.ListenAlso) for the container to reach it.
type Network struct {
	Name    string
	Gateway netip.Addr
}

// labelKey labels what the harness creates (networks, containers) with the id of its maker, so
// that leftovers can be found: docker ps --all --filter label=sear.testworld.runner.
const labelKey = "sear.testworld.runner"

// InspectNetwork finds the gateway of an existing network: the test world's Docker backend's
// (docker.Backend.Network), so that the action's container reaches the instances over SSH as the
// runner reaches them in the VPC.
func InspectNetwork(ctx context.Context, name string) (Network, error) {
	out, err := dockerCLI(ctx, nil, "network", "inspect", "--format", "{{range .IPAM.Config}}{{.Gateway}} {{.Subnet}} {{end}}", name)
	if err != nil {
		return Network{}, fmt.Errorf("find the gateway of docker network %s: %w", name, err)
	}
	gw, err := gatewayOf(out)
	if err != nil {
		return Network{}, fmt.Errorf("docker network %s: %w", name, err)
	}
	return Network{Name: name, Gateway: gw}, nil
}

// gatewayOf picks the IPv4 gateway from "gateway subnet" pairs; a network whose gateway the
// engine leaves unsaid has its subnet's first address, as Docker assigns it.
func gatewayOf(pairs string) (netip.Addr, error) {
	f := strings.Fields(pairs)
	for i := 0; i < len(f); i++ {
		if gw, err := netip.ParseAddr(f[i]); err == nil && gw.Is4() {
			return gw, nil
		}
		if p, err := netip.ParsePrefix(f[i]); err == nil && p.Addr().Is4() {
			return p.Masked().Addr().Next(), nil
		}
	}
	return netip.Addr{}, fmt.Errorf("no IPv4 gateway in %q", pairs)
}

// CreateNetwork creates a bridge network of the harness's own, for a world whose instances run in
// memory: the stand-in for the runner's job network. Remove it after the world is closed.
func CreateNetwork(ctx context.Context) (Network, error) {
	id := randomHex(6)
	name := "sear-runner-" + id
	if _, err := dockerCLI(ctx, nil, "network", "create", "--driver", "bridge", "--label", labelKey+"="+id, name); err != nil {
		return Network{}, fmt.Errorf("create docker network %s: %w", name, err)
	}
	n, err := InspectNetwork(ctx, name)
	if err != nil {
		_ = Network{Name: name}.Remove(context.WithoutCancel(ctx))
		return Network{}, err
	}
	return n, nil
}

// Remove removes a network CreateNetwork made; one already gone is removed.
func (n Network) Remove(ctx context.Context) error {
	if _, err := dockerCLI(ctx, nil, "network", "rm", n.Name); err != nil && !isNotFound(err) {
		return fmt.Errorf("remove docker network %s: %w", n.Name, err)
	}
	return nil
}

// randomHex returns n random bytes in hex, for names that concurrent tests must not share.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand documents it)
	return hex.EncodeToString(b)
}
