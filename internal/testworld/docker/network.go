package docker

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// The network is the emulated VPC subnet: a user-defined bridge that only this backend's
// containers join. The host reaches them at their addresses, as the runner reaches instances in
// its VPC.

// createNetwork creates the bridge network name, labelled, with a subnet of its own.
//
// Docker only lets a container keep a chosen address (--ip, which Restore needs to bring an
// instance back where it was) on a network created with an explicit --subnet. Which subnets are
// free is the engine's business (its default-address-pools, its other networks, the host's
// routes), so the engine picks one first: the network is created without a subnet, its subnet
// read, and it is created again with that subnet given explicitly. If another network takes the
// subnet in between, the engine refuses ("Pool overlaps") and the dance starts over.
func createNetwork(ctx context.Context, name, label string) (netip.Prefix, error) {
	var errs []error
	for range 5 {
		subnet, err := networkOnce(ctx, name, label)
		if err == nil {
			return subnet, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return netip.Prefix{}, fmt.Errorf("create docker network %s: %w", name, errors.Join(errs...))
}

func networkOnce(ctx context.Context, name, label string) (netip.Prefix, error) {
	create := []string{"network", "create", "--driver", "bridge", "--label", labelKey + "=" + label}
	if _, err := run(ctx, nil, append(create, name)...); err != nil {
		return netip.Prefix{}, err
	}
	out, err := run(ctx, nil, "network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}} {{end}}", name)
	if err == nil {
		_, err = run(ctx, nil, "network", "rm", name)
	}
	if err != nil {
		return netip.Prefix{}, errors.Join(err, removeNetwork(context.WithoutCancel(ctx), name))
	}
	var subnet netip.Prefix
	for _, f := range strings.Fields(out) {
		if p, err := netip.ParsePrefix(f); err == nil && p.Addr().Is4() {
			subnet = p.Masked()
			break
		}
	}
	if !subnet.IsValid() || subnet.Bits() > 28 {
		return netip.Prefix{}, fmt.Errorf("network %s: engine chose subnets %q, want an IPv4 one with room for instances", name, out)
	}
	// The engine hands addresses of its own only from the subnet's upper half (--ip-range): the
	// lower half is the backend's to give instances, so a container that joins the network
	// without an address of its own (the action's, as the runner's job network) cannot take one
	// an instance is given later.
	if _, err := run(ctx, nil, append(create, "--subnet", subnet.String(), "--ip-range", upperHalf(subnet).String(),
		"--gateway", subnet.Addr().Next().String(), name)...); err != nil {
		return netip.Prefix{}, err
	}
	return subnet, nil
}

// removeNetwork removes a network; one that is not there is already removed.
func removeNetwork(ctx context.Context, name string) error {
	if _, err := run(ctx, nil, "network", "rm", name); err != nil && !notFound(err) {
		return err
	}
	return nil
}

// allocate picks the lowest free address of the subnet's lower half for an instance, as EC2
// hands out a subnet's addresses; the caller holds b.mu. The first address is the gateway (the
// bridge); the upper half is the engine's (createNetwork).
func (b *Backend) allocate() (netip.Addr, error) {
	last := upperHalf(b.subnet).Addr()
	for a := b.subnet.Addr().Next().Next(); a.Less(last); a = a.Next() {
		if !b.used[a] {
			b.used[a] = true
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("network %s: no free address left in %s", b.network, b.subnet)
}

// hostname is EC2's name for a private address: ip-10-0-0-5 for 10.0.0.5.
func hostname(ip netip.Addr) string {
	return "ip-" + strings.ReplaceAll(ip.String(), ".", "-")
}

// Cut takes an instance off the network, as a network partition would: its processes keep
// running, but nothing reaches it and it reaches nothing. Cutting a cut instance does nothing.
func (b *Backend) Cut(ctx context.Context, instanceID string) error {
	m, err := b.machine(instanceID)
	if err != nil {
		return err
	}
	m.op.Lock()
	defer m.op.Unlock()
	if m.cut {
		return nil
	}
	if _, err := run(ctx, nil, "network", "disconnect", b.network, m.name); err != nil {
		return fmt.Errorf("cut instance %s off the network: %w", instanceID, err)
	}
	m.cut = true
	return nil
}

// Restore puts a cut instance back on the network at its address. Restoring an instance that is
// not cut does nothing.
func (b *Backend) Restore(ctx context.Context, instanceID string) error {
	m, err := b.machine(instanceID)
	if err != nil {
		return err
	}
	m.op.Lock()
	defer m.op.Unlock()
	if !m.cut {
		return nil
	}
	if _, err := run(ctx, nil, "network", "connect", "--ip", m.ip.String(), b.network, m.name); err != nil {
		return fmt.Errorf("restore instance %s to the network at %s: %w", instanceID, m.ip, err)
	}
	m.cut = false
	return nil
}

// upperHalf is the second half of an IPv4 prefix.
func upperHalf(p netip.Prefix) netip.Prefix {
	a := p.Masked().Addr().As4()
	bit := uint32(1) << (32 - p.Bits() - 1)
	for i := range 4 {
		a[i] |= byte(bit >> (24 - 8*i))
	}
	return netip.PrefixFrom(netip.AddrFrom4(a), p.Bits()+1)
}
