package awsauth

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// expiryWindow is how long before their expiry credentials are refreshed. Without it the SDK's
// cache hands out credentials up to their last second, and a request signed with them can reach
// AWS after they expired (a RunInstances retried with backoff, a slow upload).
const expiryWindow = 5 * time.Minute

// load runs the SDK's config loader with every seam value read through Getenv (see the package
// documentation). creds, when not nil, replaces the default chain.
func load(ctx context.Context, o Options, creds aws.CredentialsProvider) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx, loadOptions(o, creds)...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	cfg.ConfigSources = withGetenvEndpoints(cfg.ConfigSources, o.Getenv)
	if o.HTTPClient != nil {
		// Set after loading, not with config.WithHTTPClient: with AWS_CA_BUNDLE set (a
		// self-hosted runner behind a TLS-inspecting proxy) the loader refuses any client but
		// its own buildable one. A client given is used as it is, its TLS roots included.
		cfg.HTTPClient = o.HTTPClient
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("no AWS region: set the aws-region input, or AWS_REGION")
	}
	return cfg, nil
}

func loadOptions(o Options, creds aws.CredentialsProvider) []func(*config.LoadOptions) error {
	var opts []func(*config.LoadOptions) error
	add := func(env string, opt func(string) config.LoadOptionsFunc) {
		if v := o.Getenv(env); v != "" {
			opts = append(opts, opt(v))
		}
	}
	add("AWS_ENDPOINT_URL", config.WithBaseEndpoint)
	add("AWS_PROFILE", config.WithSharedConfigProfile)
	add("AWS_CONFIG_FILE", func(v string) config.LoadOptionsFunc {
		return config.WithSharedConfigFiles([]string{v})
	})
	add("AWS_SHARED_CREDENTIALS_FILE", func(v string) config.LoadOptionsFunc {
		return config.WithSharedCredentialsFiles([]string{v})
	})
	// The SDK reads this variable as a case-insensitive "true".
	if strings.EqualFold(o.Getenv("AWS_EC2_METADATA_DISABLED"), "true") {
		opts = append(opts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.Retryer != nil {
		opts = append(opts, config.WithRetryer(o.Retryer))
	}
	if creds != nil {
		opts = append(opts, config.WithCredentialsProvider(creds))
	}
	return opts
}

// regionName is what a region can be: the SDK puts it in a host name (sts.REGION.amazonaws.com),
// so it is one lower-case DNS label.
var regionName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func checkRegionName(region string) error {
	if region != "" && !regionName.MatchString(region) {
		return fmt.Errorf("aws-region %q is not a region name: expected something like us-east-1", region)
	}
	return nil
}

// getenvEnvConfig stands in for the SDK's environment among aws.Config.ConfigSources. Service
// clients look up AWS_ENDPOINT_URL_<SERVICE> there when they are built (ec2.NewFromConfig asks
// GetServiceBaseEndpoint for "EC2"); this answers from Getenv. Everything else is the SDK's own.
type getenvEnvConfig struct {
	config.EnvConfig
	getenv func(string) string
}

// GetServiceBaseEndpoint reads AWS_ENDPOINT_URL_<SDK ID>, the SDK ID upper-cased with spaces
// made underscores, as the SDK names these variables. One check stays with the process
// environment: a service client skips this lookup when the process has AWS_ENDPOINT_URL but not
// the service's own variable (ec2's resolveBaseEndpoint calls os.LookupEnv), and then uses
// AWS_ENDPOINT_URL.
func (c getenvEnvConfig) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v := c.getenv("AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_"))
	return v, v != "", nil
}

func withGetenvEndpoints(sources []any, getenv func(string) string) []any {
	out := make([]any, 0, len(sources)+1)
	replaced := false
	for _, s := range sources {
		if env, ok := s.(config.EnvConfig); ok {
			s, replaced = getenvEnvConfig{EnvConfig: env, getenv: getenv}, true
		}
		out = append(out, s)
	}
	if !replaced {
		out = append([]any{getenvEnvConfig{getenv: getenv}}, out...)
	}
	return out
}

// defaultChainConfig is the mode without a role: the SDK's default chain, or the keys Getenv
// holds, behind a cache that masks what it retrieves.
func defaultChainConfig(ctx context.Context, o Options) (aws.Config, error) {
	creds, err := envKeys(o.Getenv)
	if err != nil {
		return aws.Config{}, err
	}
	cfg, err := load(ctx, o, creds)
	if err != nil {
		return aws.Config{}, err
	}
	cfg.Credentials = newCache(newMasked(chain{cfg.Credentials}, o.Mask))
	return cfg, nil
}

// envKeys is a static provider for the keys in the environment, nil when there are none. A lone
// key ID is an error: the SDK would silently move on to the next source and the user would be
// told about a profile or an instance role instead of the missing secret.
func envKeys(getenv func(string) string) (aws.CredentialsProvider, error) {
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	switch {
	case id == "" && secret == "":
		return nil, nil
	case secret == "":
		return nil, fmt.Errorf("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or neither")
	case id == "":
		return nil, fmt.Errorf("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both, or neither")
	}
	return credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN")), nil
}

// chain explains the default chain's failures.
type chain struct{ aws.CredentialsProvider }

func (c chain) Retrieve(ctx context.Context) (aws.Credentials, error) {
	creds, err := c.CredentialsProvider.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, &authError{
			what: "no AWS role given and no usable credentials from the default chain (environment, shared config and credentials files, SSO, instance role)",
			err:  err,
			fix: "either set the aws-role-arn input to assume a role with the workflow's OIDC token (the job needs `permissions: id-token: write`),\n" +
				"or give credentials the AWS SDK finds: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE naming a profile in ~/.aws/config (`aws configure`, `aws sso login --profile NAME`)",
		}
	}
	return creds, nil
}

// masked hands every secret it retrieves to mask before anyone else sees it, once per new
// secret: under the default chain the SDK's own cache sits inside ours and returns the same
// credentials again while ours deems them near expiry, and each ::add-mask:: is a log line.
type masked struct {
	p    aws.CredentialsProvider
	mask func(string)

	mu   sync.Mutex
	last string // the secret access key masked last
}

func newMasked(p aws.CredentialsProvider, mask func(string)) *masked {
	return &masked{p: p, mask: mask}
}

func (m *masked) Retrieve(ctx context.Context) (aws.Credentials, error) {
	creds, err := m.p.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if creds.SecretAccessKey != m.last {
		m.mask(creds.SecretAccessKey)
		m.mask(creds.SessionToken)
		m.last = creds.SecretAccessKey
	}
	return creds, nil
}

// newCache is the one cache every client built from the config shares: aws-sdk-go-v2's EC2
// client does not wrap providers in a cache of its own, and an uncached provider would assume
// the role again for every request.
func newCache(p aws.CredentialsProvider) *aws.CredentialsCache {
	return aws.NewCredentialsCache(p, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = expiryWindow })
}
