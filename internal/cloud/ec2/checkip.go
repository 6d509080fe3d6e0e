package ec2

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/sear-ci/sear/internal/config"
	"github.com/sear-ci/sear/internal/pause"
)

// checkIPAttempts is how often the address service is asked before sear
// gives up; it is a plain HTTP service that fails now and then.
const checkIPAttempts = 3

// sshSource is the range the security group admits SSH from: the cluster
// file's ssh_ingress_cidr, or the runner's own address as a /32 (or /128).
func sshSource(ctx context.Context, c *config.Cluster, client *http.Client, url string) (netip.Prefix, error) {
	if c.SSHIngressCIDR != "" {
		p, err := netip.ParsePrefix(c.SSHIngressCIDR)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("ssh_ingress_cidr %q is not a CIDR block; write it like 203.0.113.7/32: %w", c.SSHIngressCIDR, err)
		}
		return p.Masked(), nil
	}
	addr, err := runnerAddress(ctx, client, url)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(addr, addr.BitLen()), nil
}

// runnerAddress asks url for the runner's public address. Failures to
// reach the service are retried; an answer that is not an address is not,
// since asking again would get the same.
func runnerAddress(ctx context.Context, client *http.Client, url string) (netip.Addr, error) {
	var err error
	for attempt := 1; ; attempt++ {
		var addr netip.Addr
		var final bool
		if addr, final, err = checkIP(ctx, client, url); err == nil {
			return addr, nil
		}
		if final || attempt == checkIPAttempts || pause.For(ctx, time.Duration(attempt)*500*time.Millisecond) != nil {
			break
		}
	}
	return netip.Addr{}, fmt.Errorf("find the runner's public address for the security group's SSH rule: %w; "+
		"set ssh_ingress_cidr in the cluster file to name the range yourself, or SEAR_CHECKIP_URL to use another address service", err)
}

// checkIP makes one request; final says a failure would happen again. The
// body must be an IP address, optionally followed by a newline, and
// nothing else: a captive portal's page or a proxy's error must not become
// a firewall rule.
func checkIP(ctx context.Context, client *http.Client, url string) (addr netip.Addr, final bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return netip.Addr{}, true, fmt.Errorf("address service URL %q: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return netip.Addr{}, false, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64))
	if err != nil {
		return netip.Addr{}, false, fmt.Errorf("read %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return netip.Addr{}, resp.StatusCode < 500, fmt.Errorf("%s answered %s", url, resp.Status)
	}
	text := strings.TrimSuffix(strings.TrimSuffix(string(body), "\n"), "\r")
	addr, err = netip.ParseAddr(text)
	if err != nil || addr.Zone() != "" || addr.IsUnspecified() || addr.IsMulticast() {
		return netip.Addr{}, true, fmt.Errorf("%s answered %q, which is not an IP address", url, abbreviate(string(body), 40))
	}
	return addr.Unmap(), false, nil
}

func abbreviate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
