package extensions

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// tokenUser is the user name GitHub expects with an installation or
// Actions token in basic auth (actions/checkout sends the same).
const tokenUser = "x-access-token"

// credentials is how one location is authenticated, and a description of
// it for error messages that never holds the secret itself.
type credentials struct {
	auth      transport.AuthMethod
	tokenSent bool // the workflow's token goes with the requests
	inURL     bool // credentials were written into the location
	closer    io.Closer
}

func (c credentials) Close() {
	if c.closer != nil {
		c.closer.Close()
	}
}

// credentialsFor picks the authentication for loc. The workflow's token is
// scoped to the workflow's own host: sending it anywhere else would hand a
// credential for the user's repositories to a third party, so other hosts
// get no credentials unless the location itself carries them.
func (o *Options) credentialsFor(ctx context.Context, loc Location) (credentials, error) {
	switch loc.Scheme {
	case "https", "http":
		if loc.userinfo != nil {
			pass, _ := loc.userinfo.Password()
			return credentials{auth: &githttp.BasicAuth{Username: loc.userinfo.Username(), Password: pass}, inURL: true}, nil
		}
		if o.Token != "" && loc.Host == tokenHostKey(o.TokenHost) {
			return credentials{auth: &githttp.BasicAuth{Username: tokenUser, Password: o.Token}, tokenSent: true}, nil
		}
		return credentials{}, nil
	case "ssh":
		return o.sshCredentials(ctx, loc)
	}
	return credentials{}, fmt.Errorf("cannot clone %s: unsupported scheme %q", loc, loc.Scheme)
}

// sshCredentials signs with the keys of the user's SSH agent; sear never
// reads private key files. The host key is checked against known_hosts
// (SSH_KNOWN_HOSTS, ~/.ssh/known_hosts, /etc/ssh/ssh_known_hosts), as git
// does.
func (o *Options) sshCredentials(ctx context.Context, loc Location) (credentials, error) {
	if o.SSHAgentSocket == "" {
		return credentials{}, fmt.Errorf("%s is an SSH address, and SSH needs a key: no SSH agent is running (SSH_AUTH_SOCK is not set); start one with a key that can read the repository (webfactory/ssh-agent in a workflow), or use its https:// address", loc)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", o.SSHAgentSocket)
	if err != nil {
		return credentials{}, fmt.Errorf("%s is an SSH address, but the SSH agent at SSH_AUTH_SOCK cannot be reached: %w; start the agent again or use the https:// address", loc, err)
	}
	user := "git"
	if u, err := url.Parse(loc.Repo); err == nil && u.User != nil {
		user = u.User.Username()
	} else if at := strings.Index(loc.Repo, "@"); at > 0 && !strings.Contains(loc.Repo, "://") {
		user = loc.Repo[:at]
	}
	auth := &gitssh.PublicKeysCallback{User: user, Callback: agent.NewClient(conn).Signers}
	return credentials{auth: auth, closer: conn}, nil
}

// tokenHostKey accepts the token host as GITHUB_SERVER_URL gives it
// (https://github.com) or as a bare host[:port].
func tokenHostKey(h string) string {
	h = strings.TrimSpace(h)
	if h == "" {
		return ""
	}
	if strings.Contains(h, "://") {
		if u, err := url.Parse(h); err == nil {
			return hostKey(u.Scheme, u.Host)
		}
		return ""
	}
	return hostKey("https", strings.TrimSuffix(h, "/"))
}
