// Package awsauth turns what a run is given into an aws.Config whose credentials work from the
// first call to the last: with a role ARN, the role assumed with the workflow's GitHub OIDC token
// (no stored AWS keys); without one, the AWS SDK's default chain, as a local user expects.
//
// # The environment
//
// Everything sear reads from the environment goes through Options.Getenv, so the action, the
// command line and parallel tests each bring their own. aws-sdk-go-v2's config.LoadDefaultConfig
// also reads the process environment itself (os.Getenv), which Getenv cannot intercept. Getenv is
// made authoritative for the variables sear names as its seams by handing their values to the
// SDK as explicit load options, which the SDK ranks above its own environment reading:
//
//   - AWS_REGION, AWS_DEFAULT_REGION: config.WithRegion (Options.Region first);
//   - AWS_ENDPOINT_URL: config.WithBaseEndpoint;
//   - AWS_ENDPOINT_URL_<SERVICE> (EC2, STS, ...): the SDK's environment entry in
//     aws.Config.ConfigSources is replaced by one that answers per-service endpoints from Getenv,
//     so ec2.NewFromConfig and sts.NewFromConfig find them with no option of their own;
//   - AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN: an explicit static provider;
//   - AWS_PROFILE, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE: the shared-config load options;
//   - AWS_EC2_METADATA_DISABLED: config.WithEC2IMDSClientEnableState.
//
// What sear does not name (AWS_CA_BUNDLE, AWS_RETRY_MODE, container credentials, ...) is still
// read by the SDK from the process environment. In the action and on the command line Getenv
// reads that same environment, so the two agree; tests keep the default chain hermetic through
// the variables above.
package awsauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Audience is the aud the OIDC token is requested for: the client ID that GitHub's guide for AWS
// registers on the IAM identity provider, and that STS checks the token against.
const Audience = "sts.amazonaws.com"

// Options says how to get credentials. Only RoleARN decides the mode; the rest has defaults.
type Options struct {
	// Region is the AWS region (the aws-region input). Empty falls back to AWS_REGION, then
	// AWS_DEFAULT_REGION, then (without a role) the shared config profile's region.
	Region string
	// RoleARN is the IAM role to assume with the workflow's OIDC token. Empty selects the SDK's
	// default credential chain: environment, shared config and credentials files, SSO, instance
	// role.
	RoleARN string
	// SessionName names the role session (it shows in CloudTrail); empty means
	// "sear-<GITHUB_RUN_ID>", or "sear-local" outside Actions.
	SessionName string
	// Duration is how long each set of role credentials lives, 15m to 12h (and at most the
	// role's maximum session duration); zero leaves STS's default of one hour. Credentials are
	// refreshed before they expire whatever the duration, each time with a new OIDC token.
	Duration time.Duration
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// HTTPClient carries every request: the OIDC token endpoint, STS, and the clients built
	// from the returned config. Nil means the SDK's default client, which honours AWS_CA_BUNDLE;
	// a client given is used as it is.
	HTTPClient *http.Client
	// Mask receives every secret the moment it is known: the OIDC token, the request token that
	// fetches it, and each secret access key and session token, refreshes included. In action
	// mode it issues ::add-mask::. Nil masks nothing.
	Mask func(string)
	// Retryer makes the retryer of each AWS client built from the config; nil means the SDK's
	// standard retryer.
	Retryer func() aws.Retryer
}

// Config returns an aws.Config for opts. Its credentials have already been retrieved once, so a
// missing permission, a trust policy that refuses this workflow or an unreachable endpoint is
// reported here, before anything is launched; afterwards its cache refreshes them as they near
// expiry. Errors say what to change.
func Config(ctx context.Context, opts Options) (aws.Config, error) {
	o := opts.withDefaults()
	if err := checkRegionName(o.Region); err != nil {
		return aws.Config{}, err
	}
	var cfg aws.Config
	var err error
	if o.RoleARN != "" {
		cfg, err = roleConfig(ctx, o)
	} else {
		cfg, err = defaultChainConfig(ctx, o)
	}
	if err != nil {
		return aws.Config{}, err
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return aws.Config{}, unwrapCacheError(err)
	}
	return cfg, nil
}

func (o Options) withDefaults() Options {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	mask := o.Mask
	o.Mask = func(s string) {
		// An empty mask would hide nothing useful and, as ::add-mask::, confuses the runner.
		if s != "" && mask != nil {
			mask(s)
		}
	}
	for _, name := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if o.Region == "" {
			o.Region = o.Getenv(name)
		}
	}
	return o
}

// unwrapCacheError returns the explained error under the credentials cache's "failed to refresh
// cached credentials" prefix, which means nothing to a user at start-up.
func unwrapCacheError(err error) error {
	var ae *authError
	if errors.As(err, &ae) {
		return ae
	}
	return fmt.Errorf("retrieve AWS credentials: %w", err)
}

// authError is a failure to get credentials: what was attempted, the cause, and the fix.
type authError struct {
	what string
	err  error
	fix  string
}

func (e *authError) Error() string {
	msg := e.what
	if e.err != nil {
		msg += ": " + e.err.Error()
	}
	if e.fix != "" {
		msg += "\n" + e.fix
	}
	return msg
}

func (e *authError) Unwrap() error { return e.err }
