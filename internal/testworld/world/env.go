package world

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Env returns the environment that points sear, the AWS SDKs and CLI, and GitHub clients at the
// world, as NAME=value strings in a fixed order, SEAR_TESTWORLD_URL last. The tokens in it are the world's own, worthless
// anywhere else.
func (w *World) Env() []string {
	s := w.seed
	env := []string{
		"AWS_REGION=" + w.opts.Region,
		// The AWS CLI v1 (botocore) takes the region for a client only from AWS_DEFAULT_REGION.
		"AWS_DEFAULT_REGION=" + w.opts.Region,
		// aws-sdk-go-v2 and botocore both read the service-specific endpoint variables (AWS SDKs
		// and Tools Reference Guide, "Service-specific endpoints"). Instance metadata is off so
		// that no SDK waits on a metadata service that is not there.
		"AWS_ENDPOINT_URL_EC2=" + w.urls.EC2,
		"AWS_ENDPOINT_URL_STS=" + w.urls.STS,
		// SSM (the SDK ID "SSM") is served on EC2's port.
		"AWS_ENDPOINT_URL_SSM=" + w.urls.SSM,
		// So is Service Quotas: its SDK ID "Service Quotas" makes the variable's suffix.
		"AWS_ENDPOINT_URL_SERVICE_QUOTAS=" + w.urls.ServiceQuotas,
		// And the Price List API (SDK ID "Pricing").
		"AWS_ENDPOINT_URL_PRICING=" + w.urls.Pricing,
		"AWS_EC2_METADATA_DISABLED=true",
	}
	if c := s.StaticCredentials; c != nil {
		env = append(env, "AWS_ACCESS_KEY_ID="+c.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+c.SecretAccessKey)
	}
	env = append(env,
		// The emulator serves the API at its root, like https://api.github.com, and builds its
		// html_url links on the same host, so both URLs are the same.
		"GITHUB_API_URL="+w.urls.GitHub,
		"GITHUB_SERVER_URL="+w.urls.GitHub,
		"GITHUB_REPOSITORY="+s.Repository,
		"GITHUB_TOKEN="+s.GitHubToken,
	)
	if s.RequestToken != "" {
		env = append(env,
			"ACTIONS_ID_TOKEN_REQUEST_URL="+w.issuer.RequestURL(),
			"ACTIONS_ID_TOKEN_REQUEST_TOKEN="+s.RequestToken,
		)
	}
	return append(env,
		"SEAR_CHECKIP_URL="+w.urls.CheckIP,
		"SEAR_TESTWORLD_ROLE_ARN="+s.RoleARN,
		fmt.Sprintf("SEAR_TESTWORLD_PULL_REQUEST=%d", s.PullRequest),
		"SEAR_TESTWORLD_HEAD_SHA="+s.HeadSHA,
		"SEAR_TESTWORLD_BASE_SHA="+s.BaseSHA,
		"SEAR_TESTWORLD_SHA="+s.SHA,
		// Last, so that a script reading testworld up's output knows the world is up when it
		// sees this one.
		"SEAR_TESTWORLD_URL="+w.urls.Control,
	)
}

// EnvAt is [World.Env] for a client that reaches the world at addr, one of Options.ListenAlso
// (a container on a Docker network whose gateway addr is): every URL in it names addr instead of
// 127.0.0.1, on the same port.
func (w *World) EnvAt(addr netip.Addr) []string {
	const loopback = "http://127.0.0.1:"
	at := "http://" + net.JoinHostPort(addr.String(), "")
	env := w.Env()
	for i, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		if rest, ok := strings.CutPrefix(value, loopback); ok {
			env[i] = name + "=" + at + rest
		}
	}
	return env
}
