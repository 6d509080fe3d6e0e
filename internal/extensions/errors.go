package extensions

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"golang.org/x/crypto/ssh/knownhosts"
)

// describe turns a go-git failure into a message that says which extension
// failed and what the user can do about it.
func (o *Options) describe(name string, loc Location, creds credentials, err error) error {
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("extension %q: clone %s: %w", name, loc.Repo, err)
	case errors.Is(err, transport.ErrRepositoryNotFound),
		errors.Is(err, transport.ErrAuthenticationRequired),
		errors.Is(err, transport.ErrAuthorizationFailed):
		return fmt.Errorf("extension %q: repository %s was not found, or it is private and %s: %w", name, loc.Repo, o.accessFix(loc, creds), err)
	case errors.Is(err, transport.ErrEmptyRemoteRepository):
		return fmt.Errorf("extension %q: repository %s is empty; push the extension to it first: %w", name, loc.Repo, err)
	case errors.Is(err, plumbing.ErrReferenceNotFound):
		// The ref was listed a moment ago: it was deleted or moved since.
		return fmt.Errorf("extension %q: %s changed while it was being cloned (a branch was deleted?); run again: %w", name, loc.Repo, err)
	}
	if msg, ok := sshProblem(loc, err); ok {
		return fmt.Errorf("extension %q: %s: %w", name, msg, err)
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return fmt.Errorf("extension %q: cannot reach %s: %w; check the host name and that the runner can reach it", name, loc.Host, err)
	}
	return fmt.Errorf("extension %q: clone %s: %w", name, loc.Repo, err)
}

// accessFix says why sear could not read the repository and what to
// change, without naming any secret.
func (o *Options) accessFix(loc Location, creds credentials) string {
	switch {
	case creds.tokenSent:
		return fmt.Sprintf("the workflow's token for %s cannot read it (GITHUB_TOKEN reads only the workflow's own repository); give sear a token that can read %s, or make the repository public", loc.Host, loc.Repo)
	case creds.inURL:
		return "the credentials written into the location were refused; correct them (better: remove them, and give sear a token for this host), or make the repository public"
	case loc.Scheme == "ssh":
		return "the SSH agent's keys were refused; add one of them as a deploy key of the repository, or use its https:// address"
	case o.Token != "" && tokenHostKey(o.TokenHost) != "":
		return fmt.Sprintf("sear sends the workflow's token only to %s, never to %s; make the repository public, or clone it in an earlier workflow step and give its directory as the location", tokenHostKey(o.TokenHost), loc.Host)
	}
	return "sear had no token to send (GITHUB_TOKEN is not set); give sear a token that can read it, or make the repository public"
}

// sshProblem explains the SSH failures a user can fix: an unknown or
// changed host key, missing known_hosts, keys the server refuses.
func sshProblem(loc Location, err error) (string, bool) {
	if loc.Scheme != "ssh" {
		return "", false
	}
	var keyErr *knownhosts.KeyError
	msg := err.Error()
	switch {
	case errors.As(err, &keyErr) && len(keyErr.Want) > 0:
		return fmt.Sprintf("the host key of %s differs from the one in known_hosts; if the host really changed its key, update known_hosts, otherwise someone is in the way", loc.Host), true
	case errors.As(err, &keyErr), strings.Contains(msg, "key is unknown"):
		return fmt.Sprintf("the host key of %s is not in known_hosts; add the host's published key to ~/.ssh/known_hosts (or SSH_KNOWN_HOSTS)", loc.Host), true
	case strings.Contains(msg, "known_hosts"):
		return fmt.Sprintf("no known_hosts file to check the host key of %s against; add the host's published key to ~/.ssh/known_hosts (or SSH_KNOWN_HOSTS)", loc.Host), true
	case strings.Contains(msg, "unable to authenticate"):
		return fmt.Sprintf("%s refused the SSH agent's keys; add one of them as a deploy key of %s, or use its https:// address", loc.Host, loc.Repo), true
	}
	return "", false
}

// redact masks every credential Fetch may have handled in err's message:
// the token, credentials written into the location, and their basic-auth
// forms, in case a server echoes a request header back.
func (o *Options) redact(err error, location string) error {
	var secrets []string
	if o.Token != "" {
		secrets = append(secrets, o.Token, basic(tokenUser, o.Token))
	}
	if u, perr := url.Parse(location); perr == nil && u.User != nil {
		pass, _ := u.User.Password()
		secrets = append(secrets, basic(u.User.Username(), pass), pass)
		// A token is often written as the user name alone; a short name
		// is not a secret, and masking it would garble the message.
		if len(u.User.Username()) >= 8 {
			secrets = append(secrets, u.User.Username())
		}
	}
	return &redactedError{err: err, secrets: secrets}
}

func basic(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

// redactedError shows err's message on one line with secrets masked; errors.Is and
// errors.As still see the original chain.
type redactedError struct {
	err     error
	secrets []string
}

func (e *redactedError) Error() string {
	// A server's reason may end in a newline or span lines; one error
	// is one line in the log.
	// go-git appends the server's reason after ": ", empty or not.
	s := strings.TrimSuffix(strings.Join(strings.Fields(e.err.Error()), " "), ":")
	for _, secret := range e.secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "***")
		}
	}
	return s
}

func (e *redactedError) Unwrap() error { return e.err }
