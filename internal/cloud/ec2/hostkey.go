package ec2

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"strings"

	"github.com/sear-ci/sear/internal/cloud"
	"github.com/sear-ci/sear/internal/keys"
	"github.com/sear-ci/sear/internal/remote"
	"github.com/sear-ci/sear/internal/shell"
)

// sshdSetup is where a node's sshd keeps its ed25519 host key and its
// process id, and how long to wait for it to serve a new key.
type sshdSetup struct {
	keyFile string // the private key; the public one is keyFile + ".pub"
	pidFile string
	tries   int // checks of the served key, 0.1 s apart
}

// ubuntuSSHD is sshd on Ubuntu's AMIs and on the test world's image: the
// ed25519 host key where cloud-init's ssh_keys put it, and the pid file
// sshd writes by default (PidFile /run/sshd.pid), also when it runs in the
// foreground (sshd -D), as both systemd's ssh.service and the test world
// start it.
var ubuntuSSHD = sshdSetup{keyFile: "/etc/ssh/ssh_host_ed25519_key", pidFile: "/run/sshd.pid", tries: 100}

// nodeShell is what rotation needs of a connection; *remote.Client has it.
type nodeShell interface {
	WriteFile(ctx context.Context, p string, mode os.FileMode, data []byte) error
	Output(ctx context.Context, cmd string) ([]byte, error)
}

// RotateHostKey makes the node's sshd present key from now on, over conn,
// the connection that pinned the bootstrap key from user data: the new key
// is written to the user's home (never on a command line), installed as
// the ed25519 host key with sudo (mode 0600, root's, as install runs as
// root), and sshd is told to reload with SIGHUP. sshd answers SIGHUP by
// executing itself again with the same arguments (sshd(8)), which reloads
// its host keys; sessions already open, conn's included, are served by
// their own processes and carry on. It returns once sshd on the node serves
// the new key, so a connection made next pins it and never meets the old
// one.
//
// The bootstrap key stays readable in the user data, through IMDS and in
// cloud-init's copies; retiring it as the node's identity is what makes
// that harmless.
func (p *Provider) RotateHostKey(ctx context.Context, node cloud.Node, key *keys.SSHKey, conn *remote.Client) error {
	if conn == nil {
		return errors.New("rotate host key: no connection to the node")
	}
	return rotateHostKey(ctx, conn, node, key, ubuntuSSHD)
}

func rotateHostKey(ctx context.Context, sh nodeShell, node cloud.Node, key *keys.SSHKey, setup sshdSetup) error {
	private, err := key.PrivatePEM()
	if err != nil {
		return err
	}
	dir := path.Join(node.Home, ".sear", "host-key")
	if err := sh.WriteFile(ctx, path.Join(dir, "key"), 0o600, private); err != nil {
		return fmt.Errorf("rotate host key of %s: upload the new key: %w", node.Name, err)
	}
	if err := sh.WriteFile(ctx, path.Join(dir, "key.pub"), 0o644, []byte(key.AuthorizedKey()+"\n")); err != nil {
		return fmt.Errorf("rotate host key of %s: upload the new public key: %w", node.Name, err)
	}
	served := base64.StdEncoding.EncodeToString(key.PublicKey().Marshal())
	if _, err := sh.Output(ctx, rotateScript(dir, sshPort(node.SSHAddr), served, setup)); err != nil {
		return fmt.Errorf("rotate host key of %s: %w", node.Name, err)
	}
	return nil
}

// rotateScript installs the uploaded key, reloads sshd and waits until it
// serves the key whose base64 blob is served. sshd -t first: it loads the
// configuration and every host key, and a reload with a key sshd cannot
// load would leave the node without any SSH server. Ubuntu's ssh.service
// reloads the same way (ExecReload: kill -HUP $MAINPID); systemctl is the
// fallback where the pid file is elsewhere.
func rotateScript(dir, port, served string, s sshdSetup) string {
	q := shell.Quote
	return strings.Join([]string{
		"set -eu",
		// cloud-init may still be in its config and final stages, whose
		// set_passwords module restarts sshd; rotating in the middle of that
		// restart finds no sshd to reload. Wait for it to finish, as any
		// user of a fresh instance should (its exit status says whether a
		// module failed; the key rotation does not depend on that).
		"if command -v cloud-init >/dev/null 2>&1; then sudo -n cloud-init status --wait >/dev/null 2>&1 || true; fi",
		"sudo -n install -m 0600 " + q(dir+"/key") + " " + q(s.keyFile),
		"sudo -n install -m 0644 " + q(dir+"/key.pub") + " " + q(s.keyFile+".pub"),
		"rm -rf " + q(dir),
		"sudo -n sshd -t",
		// A restart under way (its supervisor pauses before starting sshd
		// again) leaves no pid file for a moment.
		"i=0; while [ ! -s " + q(s.pidFile) + " ] && [ \"$i\" -lt 50 ]; do i=$((i + 1)); sleep 0.1; done",
		"if [ -s " + q(s.pidFile) + " ]; then sudo -n kill -HUP \"$(cat " + q(s.pidFile) + ")\"",
		"elif command -v systemctl >/dev/null 2>&1; then sudo -n systemctl reload ssh",
		"else echo 'sear: found no sshd to reload: no " + s.pidFile + ", no systemctl' >&2; exit 1; fi",
		"i=0",
		"until ssh-keyscan -T 2 -t ed25519 -p " + q(port) + " 127.0.0.1 2>/dev/null | grep -qF " + q(served) + "; do",
		"  i=$((i + 1))",
		fmt.Sprintf("  if [ \"$i\" -ge %d ]; then echo 'sear: sshd does not serve the rotated host key after reloading' >&2; exit 1; fi", s.tries),
		"  sleep 0.1",
		"done",
	}, "\n")
}

// sshPort is the port sshd listens on, from the address sear dials.
func sshPort(addr string) string {
	if _, port, err := net.SplitHostPort(addr); err == nil && port != "" {
		return port
	}
	return "22"
}
