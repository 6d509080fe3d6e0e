package run

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path"
	"sync"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/keys"
	"github.com/sear-ci/sear/internal/remote"
	"github.com/sear-ci/sear/internal/shell"
)

// eachNode runs fn for every node at once and joins the errors.
func (st *state) eachNode(ctx context.Context, fn func(ctx context.Context, n cloud.Node) error) error {
	var wg sync.WaitGroup
	errs := make([]error, len(st.nodes))
	for i, n := range st.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx, n); err != nil {
				errs[i] = fmt.Errorf("%s: %w", n.Name, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (st *state) dial(ctx context.Context, n cloud.Node, hostKey *keys.SSHKey) (*remote.Client, error) {
	return remote.Dial(ctx, remote.Target{Addr: n.SSHAddr, User: n.User, HostKey: hostKey.PublicKey(), Signer: st.keys.Client.Signer}, remote.DialOptions{})
}

// connect reaches every node with the host key it was given at launch,
// within what the launch left of ready_timeout (ctx's deadline: the dial
// retries until it), not a fresh window.
func connect(ctx context.Context, st *state) error {
	st.conns = make([]*remote.Client, len(st.nodes))
	return st.eachNode(ctx, func(ctx context.Context, n cloud.Node) error {
		c, err := st.dial(ctx, n, st.keys.Nodes[n.Rank].HostKey)
		if err != nil {
			return fmt.Errorf("not ready within ready_timeout %s: %w", st.budget.Ready, err)
		}
		st.conns[n.Rank] = c
		return nil
	})
}

func disconnect(_ context.Context, st *state) error {
	for _, c := range st.conns {
		if c != nil {
			c.Close()
		}
	}
	return nil
}

// establishTrust retires the bootstrap host key (it travelled in user data)
// for a fresh one, reconnects with only the new key pinned, then delivers
// the TLS material and the internal key over that channel.
func establishTrust(ctx context.Context, st *state) error {
	return st.eachNode(ctx, func(ctx context.Context, n cloud.Node) error {
		kn := st.keys.Nodes[n.Rank]
		key, err := kn.RotateHostKey()
		if err != nil {
			return err
		}
		if err := st.opts.Provider.RotateHostKey(ctx, n, key, st.conns[n.Rank]); err != nil {
			return fmt.Errorf("rotate host key: %w", err)
		}
		c, err := st.dial(ctx, n, key)
		if err != nil {
			return fmt.Errorf("reconnect with the rotated host key: %w", err)
		}
		st.conns[n.Rank].Close()
		st.conns[n.Rank] = c
		return st.deliver(ctx, n, kn)
	})
}

func (st *state) deliver(ctx context.Context, n cloud.Node, kn *keys.Node) error {
	if err := st.keys.IssueNodeCert(n.Rank, []net.IP{net.ParseIP(n.PrivateIP)}, []string{n.Name}); err != nil {
		return fmt.Errorf("issue TLS certificate: %w", err)
	}
	l, c := st.layout[n.Rank], st.conns[n.Rank]
	internal, err := st.keys.Internal.PrivatePEM()
	if err != nil {
		return err
	}
	// Nodes reach each other over SSH with the internal key (Flambé's
	// orchestrator does); its public half joins the authorized keys.
	prep := fmt.Sprintf("umask 077 && mkdir -p %s %s && touch %s && (grep -qxF %s %s || echo %s >> %s)",
		shell.Quote(l.TLS), shell.Quote(path.Join(n.Home, ".ssh")), shell.Quote(path.Join(n.Home, ".ssh", "authorized_keys")),
		shell.Quote(st.keys.Internal.AuthorizedKey()), shell.Quote(path.Join(n.Home, ".ssh", "authorized_keys")),
		shell.Quote(st.keys.Internal.AuthorizedKey()), shell.Quote(path.Join(n.Home, ".ssh", "authorized_keys")))
	if err := c.Run(ctx, prep, remote.RunOptions{}); err != nil {
		return fmt.Errorf("prepare key directories: %w", err)
	}
	files := []struct {
		path string
		data []byte
	}{
		{path.Join(l.TLS, "ca.pem"), st.keys.CAPEM()},
		{path.Join(l.TLS, "node.pem"), kn.CertPEM},
		{path.Join(l.TLS, "node-key.pem"), kn.KeyPEM},
		{path.Join(n.Home, ".ssh", "sear_internal"), internal},
	}
	for _, f := range files {
		if err := c.WriteFile(ctx, f.path, 0o600, f.data); err != nil {
			return fmt.Errorf("deliver %s: %w", path.Base(f.path), err)
		}
	}
	return nil
}
