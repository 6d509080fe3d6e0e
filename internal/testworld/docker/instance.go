package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path"
	"sync"
	"time"

	"github.com/sear-ci/sear/internal/testworld/fakeec2"
	"github.com/sear-ci/sear/internal/testworld/image"
)

// machine is an instance's container.
type machine struct {
	id   string // EC2 instance id
	name string // container name, sear-tw-<instance id>
	ip   netip.Addr

	// op serializes what changes the container (start, stop, cut, restore, reboot), so that a
	// Stop during a Start removes the container once it exists rather than racing its creation.
	op  sync.Mutex
	cut bool // guarded by op

	// stopping is set (under Backend.mu) before the container is removed on purpose, so that
	// its death is not taken for the instance powering itself off.
	stopping bool
}

var _ fakeec2.Backend = (*Backend)(nil)

// Start boots an instance: it creates its container on the network at the lowest free address,
// named sear-tw-<instance id> with EC2's hostname for that address, gives it the NoCloud seed
// and starts it. It returns the address without waiting for the boot, as RunInstances returns
// while the instance is pending.
func (b *Backend) Start(ctx context.Context, spec fakeec2.LaunchSpec) (string, error) {
	m, err := b.register(spec.InstanceID)
	if err != nil {
		return "", err
	}
	defer b.tasks.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(b.ctx, cancel)() // Close cuts boots short
	m.op.Lock()
	defer m.op.Unlock()
	if err := b.boot(ctx, m, spec.ImageID, spec.UserData); err != nil {
		err = fmt.Errorf("boot instance %s in docker: %w", spec.InstanceID, err)
		return "", errors.Join(err, b.discard(m))
	}
	return m.ip.String(), nil
}

// register records a new instance and gives it an address.
func (b *Backend) register(id string) (*machine, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, fmt.Errorf("boot instance %s: the docker backend is closed", id)
	}
	if b.machines[id] != nil {
		return nil, fmt.Errorf("boot instance %s: it is already running in docker", id)
	}
	ip, err := b.allocate()
	if err != nil {
		return nil, fmt.Errorf("boot instance %s: %w", id, err)
	}
	m := &machine{id: id, name: "sear-tw-" + id, ip: ip}
	b.machines[id] = m
	b.tasks.Add(1)
	return m, nil
}

// boot creates, seeds and starts the container. The hostname is set at creation because
// cloud-init cannot set it from meta-data inside a container (it lacks CAP_SYS_ADMIN).
func (b *Backend) boot(ctx context.Context, m *machine, ami string, userData []byte) error {
	host := hostname(m.ip)
	img := b.image
	if i, ok := b.images[ami]; ok {
		img = i
	}
	if _, err := run(ctx, nil, "create", "--name", m.name, "--hostname", host,
		"--network", b.network, "--ip", m.ip.String(), "--env", MetadataEndpointVariable+"="+b.imds.url,
		"--label", labelKey+"="+b.label, "--label", instanceKey+"="+m.id, img); err != nil {
		return err
	}
	if _, err := run(ctx, bytes.NewReader(b.etc), "cp", "-", m.name+":/etc"); err != nil {
		return fmt.Errorf("point it at its metadata service and package repository: %w", err)
	}
	seed, err := seedTar(m.id, host, userData)
	if err != nil {
		return err
	}
	if _, err := run(ctx, bytes.NewReader(seed), "cp", "-", m.name+":"+path.Dir(image.SeedDir)); err != nil {
		return fmt.Errorf("give it its user data: %w", err)
	}
	_, err = run(ctx, nil, "start", m.name)
	return err
}

// seedTar is the NoCloud seed as docker cp takes it: a tar of nocloud/meta-data and
// nocloud/user-data, the latter exactly the bytes given to RunInstances (cloud-init, like EC2's,
// recognizes and decompresses gzip).
func seedTar(instanceID, host string, userData []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	dir := path.Base(image.SeedDir)
	if err := tw.WriteHeader(&tar.Header{Name: dir + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: now}); err != nil {
		return nil, err
	}
	files := []struct {
		name string
		data []byte
	}{
		{"meta-data", fmt.Appendf(nil, "instance-id: %s\nlocal-hostname: %s\n", instanceID, host)},
		{"user-data", userData},
	}
	for _, f := range files {
		hdr := &tar.Header{Name: dir + "/" + f.name, Typeflag: tar.TypeReg, Mode: 0o600, Size: int64(len(f.data)), ModTime: now}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Stop destroys an instance's container, at once (docker rm --force: EC2 does not wait for the
// instance's shutdown either, after TerminateInstances' grace). An instance the backend does
// not run is already stopped.
func (b *Backend) Stop(ctx context.Context, instanceID string) error {
	b.mu.Lock()
	m := b.machines[instanceID]
	if m != nil {
		m.stopping = true
	}
	b.mu.Unlock()
	if m == nil {
		return nil
	}
	m.op.Lock()
	defer m.op.Unlock()
	if err := removeContainer(ctx, m.name); err != nil {
		return fmt.Errorf("destroy instance %s: %w", instanceID, err)
	}
	b.forget(m)
	return nil
}

// discard removes the container of a boot that failed; a cleanup, so Close and the boot's
// cancellation do not stop it.
func (b *Backend) discard(m *machine) error {
	b.mu.Lock()
	m.stopping = true
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), time.Minute)
	defer cancel()
	if err := removeContainer(ctx, m.name); err != nil {
		return fmt.Errorf("remove the container of the failed boot: %w", err)
	}
	b.forget(m)
	return nil
}

// forget drops a removed machine and frees its address.
func (b *Backend) forget(m *machine) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.machines[m.id] == m {
		delete(b.machines, m.id)
		delete(b.used, m.ip)
	}
}

// removeContainer removes a container and its anonymous volumes; one that is not there is
// already removed.
func removeContainer(ctx context.Context, name string) error {
	if _, err := run(ctx, nil, "rm", "--force", "--volumes", name); err != nil && !notFound(err) {
		return err
	}
	return nil
}
