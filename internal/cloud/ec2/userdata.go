package ec2

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// MaxUserData is EC2's limit on user data: 16 KB before base64 encoding
// (EC2 User Guide, "Run commands on your Linux instance at launch").
const MaxUserData = 16 * 1024

// UserData is what a node needs at first boot, and nothing secret: its
// bootstrap SSH host key (rotated over SSH once trust is established), the
// action's public key, and the instant it must shut itself down.
type UserData struct {
	Username       string
	HostPrivateKey []byte // OpenSSH PEM of the one-time bootstrap host key
	HostPublicKey  string // its authorized_keys form
	AuthorizedKey  string // the action's client public key
	ExpiresAt      time.Time
}

// cloudConfig is the subset of cloud-init's #cloud-config sear writes.
// Field names are cloud-init's (cloudinit/config/schemas).
type cloudConfig struct {
	SSHKeys            map[string]string `yaml:"ssh_keys"`
	SSHDeleteKeys      bool              `yaml:"ssh_deletekeys"`
	SSHGenKeyTypes     []string          `yaml:"ssh_genkeytypes"`
	DisableRoot        bool              `yaml:"disable_root"`
	SSHPasswordAuth    bool              `yaml:"ssh_pwauth"`
	Users              []any             `yaml:"users"`
	WriteFiles         []writeFile       `yaml:"write_files"`
	BootCmd            [][]string        `yaml:"bootcmd"`
	AllowPublicSSHKeys bool              `yaml:"allow_public_ssh_keys"`
}

type writeFile struct {
	Path        string `yaml:"path"`
	Permissions string `yaml:"permissions"`
	Owner       string `yaml:"owner"`
	Content     string `yaml:"content"`
}

type user struct {
	Name              string   `yaml:"name"`
	Sudo              string   `yaml:"sudo"`
	Shell             string   `yaml:"shell"`
	Groups            string   `yaml:"groups,omitempty"`
	SSHAuthorizedKeys []string `yaml:"ssh_authorized_keys"`
	LockPasswd        bool     `yaml:"lock_passwd"`
}

// deadlineScript arms the dead-man's switch; %d is the expiry in Unix
// seconds. It runs at every boot (bootcmd) so a rebooted node re-arms it;
// with InstanceInitiatedShutdownBehavior set to terminate, the shutdown
// terminates the instance even if the runner that launched it is gone.
//
// It is inline, not a file from write_files: cloud-init runs bootcmd
// before write_files (cloud_init_modules order), so on first boot a file
// would not exist yet, and the fallback "shutdown -h +5" would create
// /run/nologin at once (shutdown does so five minutes before the time),
// refusing every SSH login of the default user. The expiry is far enough
// out (ready_timeout + max_duration + a margin: config.Cluster.Lifetime) that nologin only comes
// after sear is done with the node.
const deadlineScript = `expires=%d
now=$(date +%%s)
minutes=$(( (expires - now + 59) / 60 ))
if [ "$minutes" -le 0 ]; then
	exec shutdown -h now "sear: cluster expired"
fi
exec shutdown -h "+$minutes" "sear: cluster expires"
`

// Render writes the #cloud-config document.
func (u UserData) Render() ([]byte, error) {
	if u.Username == "" || len(u.HostPrivateKey) == 0 || u.HostPublicKey == "" || u.AuthorizedKey == "" || u.ExpiresAt.IsZero() {
		return nil, fmt.Errorf("user data is incomplete: username, host key pair, authorized key and expiry are all required")
	}
	cc := cloudConfig{
		// The bootstrap host key replaces the image's, so the first
		// connection can pin it; no other key type is generated.
		SSHKeys: map[string]string{
			"ed25519_private": string(u.HostPrivateKey),
			"ed25519_public":  strings.TrimSpace(u.HostPublicKey),
		},
		SSHDeleteKeys:  true,
		SSHGenKeyTypes: []string{},
		DisableRoot:    true,
		Users: []any{"default", user{
			Name: u.Username, Sudo: "ALL=(ALL) NOPASSWD:ALL", Shell: "/bin/bash", LockPasswd: true,
			SSHAuthorizedKeys: []string{strings.TrimSpace(u.AuthorizedKey)},
		}},
		WriteFiles: []writeFile{
			{Path: "/etc/sear/expires-at", Permissions: "0644", Owner: "root:root", Content: fmt.Sprintf("%d\n", u.ExpiresAt.Unix())},
		},
		BootCmd: [][]string{{"/bin/sh", "-c", fmt.Sprintf(deadlineScript, u.ExpiresAt.Unix())}},
	}
	body, err := yaml.Marshal(cc)
	if err != nil {
		return nil, fmt.Errorf("render user data: %w", err)
	}
	return append([]byte("#cloud-config\n"), body...), nil
}

// Encode returns the user data base64-encoded for RunInstances, gzipped when
// that is needed to fit (cloud-init detects gzip by its magic bytes), and
// refuses what EC2 would refuse.
func Encode(doc []byte) (string, error) {
	data := doc
	if len(data) > MaxUserData {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(doc)
		zw.Close()
		data = b.Bytes()
	}
	if len(data) > MaxUserData {
		return "", fmt.Errorf("user data is %d bytes even gzipped; EC2 accepts at most %d", len(data), MaxUserData)
	}
	return base64.StdEncoding.EncodeToString(data), nil
}
