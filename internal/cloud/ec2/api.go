package ec2

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"

	"github.com/sear-ci/sear/internal/pause"
)

// maxAttempts is how many times the SDK sends one call. EC2 throttles per
// account and per action ("Request throttling for the Amazon EC2 API"); ten
// attempts with capped exponential backoff ride out a burst without giving
// up on a teardown.
const maxAttempts = 10

// api is an EC2 client bound to one region, with the pacing and log that
// launch, teardown and sweep share.
type api struct {
	ec2    *awsec2.Client
	region string
	timing Timing
	log    io.Writer
}

func newAPI(cfg aws.Config, region string, t Timing, log io.Writer) *api {
	t = t.withDefaults()
	c := awsec2.NewFromConfig(cfg, func(o *awsec2.Options) {
		o.Region = region
		o.Retryer = newRetryer(t.RetryMaxBackoff)
	})
	return &api{ec2: c, region: region, timing: t, log: log}
}

// newRetryer is the SDK's standard retryer (RequestLimitExceeded is one of
// its throttling codes; 500 and 503 are retried) with three changes:
//   - more attempts (maxAttempts);
//   - no client-side retry quota: the standard retryer refuses retries once
//     its token bucket is empty ("failed to get rate limit token"), and a
//     teardown must never give up because earlier calls were throttled;
//   - InsufficientInstanceCapacity is not retried: EC2 sends it with
//     status 500, but capacity does not come back within seconds, and the
//     caller falls back to on-demand (or reports) at once instead.
func newRetryer(maxBackoff time.Duration) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.MaxBackoff = maxBackoff
		o.RateLimiter = ratelimit.None
		o.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(noCapacityRetry)}, o.Retryables...)
	})
}

func noCapacityRetry(err error) aws.Ternary {
	if isCode(err, "InsufficientInstanceCapacity") {
		return aws.FalseTernary
	}
	return aws.UnknownTernary
}

// code is the EC2 error code of err ("" when err is not an API error).
func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func isCode(err error, codes ...string) bool {
	c := code(err)
	for _, want := range codes {
		if c == want {
			return true
		}
	}
	return false
}

// notFound reports the "does not exist" errors, which teardown counts as
// done (aws/karpenter-provider-aws treats them the same way).
func notFound(err error) bool {
	return strings.HasSuffix(code(err), ".NotFound")
}

// Denied reports a refused permission: EC2's UnauthorizedOperation, or the
// AccessDenied of the JSON services (Price List, Service Quotas).
func Denied(err error) bool {
	return isCode(err, "UnauthorizedOperation", "AccessDenied", "AccessDeniedException")
}

// credentialsRefused reports credentials AWS would not accept: expired
// session tokens (RequestExpired, ExpiredToken), unknown or mistyped keys.
func credentialsRefused(err error) bool {
	return isCode(err, "AuthFailure", "RequestExpired", "ExpiredToken", "SignatureDoesNotMatch", "InvalidClientTokenId", "UnrecognizedClientException")
}

// explain wraps an EC2 failure of action (an IAM action name such as
// "ec2:RunInstances") in words a user can act on.
func explain(what, action string, err error) error {
	switch {
	case err == nil:
		return nil
	case Denied(err):
		return fmt.Errorf("%s: the AWS role may not call %s: %w; give the role the policy that `sear plan --cluster <file>` prints "+
			"(`aws sts decode-authorization-message --encoded-message <message>` shows which statement refused it)", what, action, err)
	case credentialsRefused(err):
		return fmt.Errorf("%s: AWS refused the credentials (%s): %w; a GitHub OIDC session lasts an hour by default: "+
			"raise the role's maximum session duration, or run `sear sweep --cluster-id <the cluster id>` with fresh credentials", what, code(err), err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// poller paces a wait: each pause is half again as long as the one before,
// up to a maximum.
type poller struct{ next, max time.Duration }

func (t Timing) poller() *poller { return &poller{next: t.Poll, max: t.MaxPoll} }

// wait pauses, unless ctx ends first; it reports whether it waited.
func (p *poller) wait(ctx context.Context) bool {
	d := p.next
	p.next = min(p.next+p.next/2, p.max)
	return pause.For(ctx, d) == nil
}

// chunks splits ids into lists of at most n: EC2 takes at most 200 values
// per filter and 1000 ids per TerminateInstances.
func chunks(ids []string, n int) [][]string {
	var out [][]string
	for len(ids) > n {
		out = append(out, ids[:n])
		ids = ids[n:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}
