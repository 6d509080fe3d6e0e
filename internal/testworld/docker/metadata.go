package docker

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/sear-ci/sear/internal/testworld/imds"
)

// The instance metadata service. On EC2 it is http://169.254.169.254, link-local on every
// instance; a container cannot have that address to itself, and a test must never reach a real
// one, so the backend serves it on its network's gateway, where only its containers (and this
// host) reach it, and tells each instance where it is with the variable the AWS SDKs and CLI
// read for exactly this, AWS_EC2_METADATA_SERVICE_ENDPOINT ("IMDS client" settings in the AWS
// SDKs and Tools Reference Guide,
// https://docs.aws.amazon.com/sdkref/latest/guide/feature-imds-client.html). Who asks is known by
// the request's source address, as EC2 knows it by the network interface: a request from
// anything but one of the backend's instances is refused.

// MetadataEndpointVariable is the variable that points an instance's IMDS clients at the
// emulated service.
const MetadataEndpointVariable = "AWS_EC2_METADATA_SERVICE_ENDPOINT"

// metadataServer is the backend's IMDS listener on its network's gateway.
type metadataServer struct {
	*gatewayServer

	mu      sync.Mutex
	service *imds.Server // nil until SetMetadata
}

// serveMetadata listens on gateway, a free port; lookup names the instance at a source address.
func serveMetadata(ctx context.Context, gateway string, lookup func(netip.Addr) (string, bool)) (*metadataServer, error) {
	ms := &metadataServer{}
	h := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		ap, err := netip.ParseAddrPort(r.RemoteAddr)
		id, ok := "", false
		if err == nil {
			id, ok = lookup(ap.Addr().Unmap())
		}
		ms.mu.Lock()
		svc := ms.service
		ms.mu.Unlock()
		if !ok || svc == nil {
			http.Error(rw, "403 - Forbidden", http.StatusForbidden)
			return
		}
		svc.ServeInstance(rw, r, id)
	})
	gs, err := serveOnGateway(ctx, gateway, "the instance metadata service", h, 10*time.Second)
	if err != nil {
		return nil, err
	}
	ms.gatewayServer = gs
	return ms, nil
}

func (ms *metadataServer) close(ctx context.Context) error {
	if ms == nil {
		return nil
	}
	return ms.gatewayServer.close(ctx)
}

// SetMetadata sets what the instances' metadata service answers with; until then it refuses
// every request. The test world gives it the EC2 emulator's IMDS.
func (b *Backend) SetMetadata(s *imds.Server) {
	b.imds.mu.Lock()
	defer b.imds.mu.Unlock()
	b.imds.service = s
}

// MetadataURL is where the instances reach their metadata service, the value of
// AWS_EC2_METADATA_SERVICE_ENDPOINT on them.
func (b *Backend) MetadataURL() string { return b.imds.url }

// instanceAt names the instance at a private address.
func (b *Backend) instanceAt(a netip.Addr) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, m := range b.machines {
		if m.ip == a {
			return id, true
		}
	}
	return "", false
}

// environmentTar is /etc/environment naming the metadata service, as docker cp takes it into
// /etc: sshd's pam_env reads it into every session, so the commands sear runs over SSH see the
// variable as well as what the container's own processes do.
//
// With a package repository, it holds the instances' apt sources too: one
// docker cp, made once for every boot.
func (b *Backend) environmentTar() ([]byte, error) {
	files := map[string][]byte{"environment": fmt.Appendf(nil, "%s=%s\n", MetadataEndpointVariable, b.imds.url)}
	var dirs []string
	if b.pkgs != nil {
		dirs, files = b.pkgs.etcFiles(files)
	}
	return etcTar(dirs, files)
}
