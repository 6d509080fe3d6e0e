// Package local is the embedded cluster: each node is an SSH server inside
// the sear process, on its own loopback address, with its own directory,
// running commands as local processes. It goes through the same keys,
// pinning and steps as EC2, so a runnable can be tried with no cloud
// account.
package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/cloud/local/sshd"
	"github.com/sear-ci/sear/internal/keys"
	"github.com/sear-ci/sear/internal/remote"
)

// Provider runs nodes in this process.
type Provider struct {
	// Root is where node directories go; empty means the system's
	// temporary directory.
	Root string
	// FirstAddr is the last octet of the first node's 127.0.0.x address.
	FirstAddr int

	mu      sync.Mutex
	servers map[string]*sshd.Server // by node id
	dirs    []string
}

// New returns a provider whose nodes listen on 127.0.0.2 and up.
func New() *Provider { return &Provider{FirstAddr: 2} }

// Launch starts one SSH server per node, all or nothing.
func (p *Provider) Launch(ctx context.Context, spec cloud.Spec) ([]cloud.Node, error) {
	u, err := user.Current()
	if err != nil {
		return nil, fmt.Errorf("local cluster: find the current user: %w", err)
	}
	base, err := os.MkdirTemp(p.Root, spec.Keys.ID+"-")
	if err != nil {
		return nil, fmt.Errorf("local cluster: make its directory: %w", err)
	}
	p.mu.Lock()
	p.dirs = append(p.dirs, base)
	if p.servers == nil {
		p.servers = map[string]*sshd.Server{}
	}
	p.mu.Unlock()
	var nodes []cloud.Node
	for rank, kn := range spec.Keys.Nodes {
		if err := ctx.Err(); err != nil {
			return nodes, err
		}
		n, err := p.start(spec, rank, kn, base, u.Username)
		if err != nil {
			return nodes, err
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

func (p *Provider) start(spec cloud.Spec, rank int, kn *keys.Node, base, username string) (cloud.Node, error) {
	cn := spec.Cluster.Node(rank)
	role, name := cn.Role, cn.Name
	dir := filepath.Join(base, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return cloud.Node{}, fmt.Errorf("local node %s: %w", name, err)
	}
	ip := fmt.Sprintf("127.0.0.%d", p.FirstAddr+rank)
	srv, err := sshd.Listen(sshd.Config{
		Addr:       net.JoinHostPort(ip, "0"),
		HostKey:    kn.HostKey.Signer,
		Authorized: []ssh.PublicKey{spec.Keys.Client.PublicKey(), spec.Keys.Internal.PublicKey()},
		Dir:        dir,
		Env:        nodeEnv(dir),
	})
	if err != nil {
		return cloud.Node{}, fmt.Errorf("local node %s on %s: %w", name, ip, err)
	}
	id := spec.Keys.ID + "-" + fmt.Sprint(rank)
	p.mu.Lock()
	p.servers[id] = srv
	p.mu.Unlock()
	return cloud.Node{Rank: rank, Role: role, Name: name, ID: id, SSHAddr: srv.Addr(), PrivateIP: ip, User: username, Home: dir}, nil
}

// nodeEnv is the base environment of a local node's commands: this
// process's PATH and locale, the node's own HOME, and nothing else, so no
// variable of the runner (a token, a credential) leaks into the job.
func nodeEnv(home string) []string {
	env := []string{"HOME=" + home, "LANG=C.UTF-8"}
	// USER is unset in containers and CI shells; the job sees the
	// account it really runs as.
	if u, err := user.Current(); err == nil {
		env = append(env, "USER="+u.Username, "LOGNAME="+u.Username)
	}
	if path := os.Getenv("PATH"); path != "" {
		env = append(env, "PATH="+path)
	} else {
		env = append(env, "PATH=/usr/local/bin:/usr/bin:/bin")
	}
	return env
}

// RotateHostKey swaps the server's host key; the local node needs no help.
func (p *Provider) RotateHostKey(_ context.Context, node cloud.Node, key *keys.SSHKey, _ *remote.Client) error {
	p.mu.Lock()
	srv := p.servers[node.ID]
	p.mu.Unlock()
	if srv == nil {
		return fmt.Errorf("local node %s is not running", node.Name)
	}
	srv.SetHostKey(key.Signer)
	return nil
}

// Teardown stops every server (ending the processes it started) and
// removes the nodes' directories. It can run again safely.
func (p *Provider) Teardown(context.Context) error {
	p.mu.Lock()
	servers, dirs := p.servers, p.dirs
	p.servers, p.dirs = map[string]*sshd.Server{}, nil
	p.mu.Unlock()
	var errs []error
	for id, srv := range servers {
		if err := srv.Close(); err != nil {
			errs = append(errs, fmt.Errorf("stop local node %s: %w", id, err))
		}
	}
	for _, d := range dirs {
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}
