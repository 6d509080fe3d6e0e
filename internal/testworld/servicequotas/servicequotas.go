// Package servicequotas emulates the one Service Quotas call sear makes,
// GetServiceQuota on EC2's vCPU-based quotas, at the wire level: the JSON
// 1.1 protocol (POST /, X-Amz-Target: ServiceQuotasV20190624.GetServiceQuota,
// Content-Type application/x-amz-json-1.1), SigV4-authenticated for the
// service "servicequotas" (package awsjson's envelope), so that
// aws-sdk-go-v2's Service Quotas client and the AWS CLI run unchanged
// against it.
//
// Behaviour follows the Service Quotas API Reference, "GetServiceQuota"
// (https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_GetServiceQuota.html:
// ServiceCode of 1 to 63 and QuotaCode of 1 to 128 characters, each a
// letter then letters, digits and hyphens; the response's Quota, a
// ServiceQuota; the errors it lists) and "ServiceQuota" for the quota's
// fields. Which quotas EC2 has is in quotas.go.
package servicequotas

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sear-ci/sear/internal/testworld/awsjson"
	"github.com/sear-ci/sear/internal/testworld/sigv4"
)

// Options configures a Server.
type Options struct {
	// Region is the region served; requests signed for another are refused.
	// Default "us-east-1".
	Region string
	// Account is the account in the quotas' ARNs; default 123456789012.
	Account string
	// Credentials authenticates every request; nil refuses them all.
	Credentials sigv4.CredentialSource
	// Values are the applied values of EC2's quotas by code; nil is
	// DefaultValues. A known quota left out is 0.
	Values map[string]float64
	// Principal names the caller of an access key in AccessDeniedException's
	// message (an assumed role's ARN); nil names the key.
	Principal func(accessKeyID string) string
	// Now is the clock for signatures; default time.Now.
	Now func() time.Time
}

// Call is one request as the emulator saw it.
type Call struct {
	Operation   string `json:"operation"` // GetServiceQuota
	ServiceCode string `json:"service_code,omitempty"`
	QuotaCode   string `json:"quota_code,omitempty"`
	AccessKeyID string `json:"access_key_id,omitempty"`
	Status      int    `json:"status"`
	ErrorCode   string `json:"error_code,omitempty"`
}

// Server is the emulated Service Quotas endpoint, an http.Handler safe for
// concurrent use.
type Server struct {
	opts Options

	mu     sync.Mutex
	values map[string]float64
	denied bool
	calls  []Call
}

// New returns a Server with opts.Values applied.
func New(opts Options) *Server {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Account == "" {
		opts.Account = "123456789012"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Credentials == nil {
		opts.Credentials = sigv4.StaticSource{}
	}
	if opts.Values == nil {
		opts.Values = DefaultValues
	}
	s := &Server{opts: opts, values: map[string]float64{}}
	for _, q := range EC2Quotas {
		s.values[q.Code] = opts.Values[q.Code]
	}
	return s
}

// SetValues changes the applied values of the quotas given, as an
// approved increase (or a decrease AWS made) would, and leaves the others.
// An unknown code or a negative value changes nothing.
func (s *Server) SetValues(values map[string]float64) error {
	var bad []string
	for code, v := range values {
		if _, ok := quotaByCode(code); !ok {
			bad = append(bad, fmt.Sprintf("quota code %q: expected one of EC2's vCPU quotas (%s)", code, strings.Join(codes(), ", ")))
		} else if v < 0 {
			bad = append(bad, fmt.Sprintf("quota %s: value %v must not be negative", code, v))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("servicequotas: %s", strings.Join(bad, "; "))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for code, v := range values {
		s.values[code] = v
	}
	return nil
}

// Values are the applied values of every quota, by code.
func (s *Server) Values() map[string]float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]float64, len(s.values))
	for k, v := range s.values {
		out[k] = v
	}
	return out
}

// SetAccessDenied makes every GetServiceQuota answer AccessDeniedException,
// as for a role whose policy lacks servicequotas:GetServiceQuota, or (false)
// answer again.
func (s *Server) SetAccessDenied(denied bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied = denied
}

// AccessDenied reports whether calls are refused.
func (s *Server) AccessDenied() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.denied
}

// Calls returns every request so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

func codes() []string {
	var out []string
	for _, q := range EC2Quotas {
		out = append(out, q.Code)
	}
	return out
}

// Target is the X-Amz-Target prefix of Service Quotas' operations: the
// JSON 1.1 protocol names the operation as ServiceQuotasV20190624.<Operation>
// (the API's version, 2019-06-24). A mux that shares an endpoint with
// other services routes by it.
const Target = "ServiceQuotasV20190624."

// maxBody bounds a request body; GetServiceQuota's is two codes and an ARN.
const maxBody = 64 << 10

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	svc := awsjson.Service{Target: Target, SigningName: "servicequotas", Region: s.opts.Region, Credentials: s.opts.Credentials,
		Now: s.opts.Now, MaxBody: maxBody}
	var service, quota string
	req, err := svc.Serve(w, r, func(req awsjson.Request) (any, *awsjson.Error) {
		if req.Operation != "GetServiceQuota" {
			return nil, awsjson.UnknownOperation()
		}
		var in struct{ ServiceCode, QuotaCode, ContextId *string }
		if err := req.Decode(&in); err != nil {
			return nil, err
		}
		service, quota = awsjson.String(in.ServiceCode), awsjson.String(in.QuotaCode)
		if s.AccessDenied() {
			return nil, awsjson.AccessDenied(s.principal(req.AccessKeyID), "servicequotas:GetServiceQuota")
		}
		return s.getServiceQuota(in.ServiceCode, in.QuotaCode)
	})
	call := Call{Operation: req.Operation, ServiceCode: service, QuotaCode: quota, AccessKeyID: req.AccessKeyID, Status: http.StatusOK}
	if err != nil {
		call.Status, call.ErrorCode = err.Status, err.Code
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, call)
}

func (s *Server) principal(key string) string {
	if s.opts.Principal != nil {
		if p := s.opts.Principal(key); p != "" {
			return p
		}
	}
	return "arn:aws:iam::" + s.opts.Account + ":user/" + key
}

// The codes' patterns (API Reference, "GetServiceQuota": ServiceCode
// [a-zA-Z][a-zA-Z0-9-]{1,63}, QuotaCode [a-zA-Z][a-zA-Z0-9-]{1,128}).
var (
	serviceCodePattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{1,63}$`)
	quotaCodePattern   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{1,128}$`)
)

// serviceQuota is the response's Quota ("ServiceQuota" data type).
type serviceQuota struct {
	Adjustable          bool
	Description         string
	GlobalQuota         bool
	QuotaAppliedAtLevel string
	QuotaArn            string
	QuotaCode           string
	QuotaName           string
	ServiceCode         string
	ServiceName         string
	Unit                string
	UsageMetric         usageMetric
	Value               float64
}

// usageMetric is the CloudWatch metric of a vCPU quota's usage: AWS/Usage
// ResourceCount with Service EC2, Type Resource, Resource vCPU and the
// quota's Class ("MetricInfo" data type; the dimensions are those the
// Service Quotas console shows for the EC2 vCPU quotas).
type usageMetric struct {
	MetricDimensions              map[string]string
	MetricName                    string
	MetricNamespace               string
	MetricStatisticRecommendation string
}

// ec2ServiceName is EC2's ServiceName in Service Quotas.
const ec2ServiceName = "Amazon Elastic Compute Cloud (Amazon EC2)"

// getServiceQuota answers GetServiceQuota. Codes are case-sensitive: the
// service is "ec2" and quota codes are upper case ("L-1216C47A").
func (s *Server) getServiceQuota(service, quota *string) (any, *awsjson.Error) {
	for _, f := range []struct {
		name    string
		v       *string
		pattern *regexp.Regexp
	}{{"serviceCode", service, serviceCodePattern}, {"quotaCode", quota, quotaCodePattern}} {
		switch {
		case f.v == nil:
			return nil, errIllegalArgument(fmt.Sprintf("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", f.name))
		case !f.pattern.MatchString(*f.v):
			return nil, errIllegalArgument(fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s",
				*f.v, f.name, strings.Trim(f.pattern.String(), "^$")))
		}
	}
	if *service != "ec2" {
		// The emulator knows EC2's quotas only; any other service is
		// answered as one Service Quotas does not have.
		return nil, errNoSuchResource("The request failed because the specified service does not exist.")
	}
	q, ok := quotaByCode(*quota)
	if !ok {
		return nil, errNoSuchResource("The request failed because the specified quota does not exist.")
	}
	s.mu.Lock()
	value := s.values[q.Code]
	s.mu.Unlock()
	return map[string]serviceQuota{"Quota": {
		Adjustable: true, Description: "Maximum number of vCPUs assigned to the " + q.Name + ".",
		QuotaAppliedAtLevel: "ACCOUNT",
		QuotaArn:            "arn:aws:servicequotas:" + s.opts.Region + ":" + s.opts.Account + ":ec2/" + q.Code,
		QuotaCode:           q.Code, QuotaName: q.Name, ServiceCode: "ec2", ServiceName: ec2ServiceName, Unit: "None",
		UsageMetric: usageMetric{
			MetricDimensions: map[string]string{"Class": q.Class, "Resource": "vCPU", "Service": "EC2", "Type": "Resource"},
			MetricName:       "ResourceCount", MetricNamespace: "AWS/Usage", MetricStatisticRecommendation: "Maximum",
		},
		Value: value,
	}}, nil
}

// Alongside serves Service Quotas' requests (those whose X-Amz-Target
// names a ServiceQuotasV20190624 operation) with s, and every other
// request with other. The test world serves it on EC2's endpoint, as it
// does SSM: EC2's query protocol never sends X-Amz-Target.
func (s *Server) Alongside(other http.Handler) http.Handler {
	return awsjson.Route(Target, s, other)
}
