// Package ssm emulates the one AWS Systems Manager call sear makes,
// GetParameter on AWS's public parameters, at the wire level: the JSON 1.1
// protocol (POST /, X-Amz-Target: AmazonSSM.GetParameter, Content-Type
// application/x-amz-json-1.1), SigV4-authenticated for the service "ssm"
// with package sigv4, so that aws-sdk-go-v2's SSM client and the AWS CLI
// run unchanged against it.
//
// Behaviour follows the AWS Systems Manager API Reference, "GetParameter"
// (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html:
// Name of 1 to 2048 characters, the response's Parameter with ARN,
// DataType, LastModifiedDate, Name, Type, Value, Version; ParameterNotFound
// with status 400) and "Common Errors" for the authentication failures.
// The public parameters it is seeded with are the AWS Deep Learning AMI
// ones ("Finding the ID of a DLAMI", DLAMI Developer Guide).
package ssm

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sear-ci/sear/internal/testworld/awsjson"
	"github.com/sear-ci/sear/internal/testworld/sigv4"
)

// The DLAMI parameters: /aws/service/deeplearning/ami/ARCH/AMI_TYPE/latest/ami-id,
// where AMI_TYPE is the AMI's name without "Deep", "Learning" and "AMI"
// ("Finding the ID of a DLAMI"): the Deep Learning Base OSS Nvidia Driver
// GPU AMI (Ubuntu 22.04) for x86_64, and its ARM64 sibling.
const (
	DLAMIParameter    = "/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id"
	DLAMIArmParameter = "/aws/service/deeplearning/ami/arm64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id"
)

// Options configures a Server.
type Options struct {
	// Region is the region served; requests signed for another are refused.
	// Default "us-east-1".
	Region string
	// Credentials authenticates every request; nil refuses them all.
	Credentials sigv4.CredentialSource
	// Parameters are the public parameters, by name, with their values
	// (AMI ids for the DLAMI ones).
	Parameters map[string]string
	// Now is the clock for signatures; default time.Now.
	Now func() time.Time
}

// Call is one request as the emulator saw it.
type Call struct {
	Operation   string // GetParameter
	Name        string // the parameter asked for
	AccessKeyID string
	Status      int
	ErrorCode   string
}

// Server is the emulated SSM endpoint, an http.Handler safe for concurrent
// use.
type Server struct {
	opts     Options
	modified time.Time // LastModifiedDate of every parameter

	mu     sync.Mutex
	params map[string]string
	calls  []Call
}

// New returns a Server holding opts.Parameters.
func New(opts Options) *Server {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Credentials == nil {
		opts.Credentials = sigv4.StaticSource{}
	}
	s := &Server{opts: opts, modified: opts.Now().UTC().Truncate(time.Second), params: map[string]string{}}
	for k, v := range opts.Parameters {
		s.params[k] = v
	}
	return s
}

// SetParameter adds or replaces a public parameter; "" removes it.
func (s *Server) SetParameter(name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if value == "" {
		delete(s.params, name)
		return
	}
	s.params[name] = value
}

// Calls returns every request so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Target is the X-Amz-Target prefix of SSM's operations: the JSON 1.1
// protocol names the operation as AmazonSSM.<Operation>. A mux that shares
// an endpoint with other services routes by it.
const Target = "AmazonSSM."

// maxBody bounds a request body; GetParameter's is a name of at most 2048
// characters.
const maxBody = 64 << 10

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	svc := awsjson.Service{Target: Target, SigningName: "ssm", Region: s.opts.Region, Credentials: s.opts.Credentials,
		Now: s.opts.Now, MaxBody: maxBody}
	var name string
	req, err := svc.Serve(w, r, func(req awsjson.Request) (any, *awsjson.Error) {
		if req.Operation != "GetParameter" {
			return nil, awsjson.UnknownOperation()
		}
		var in struct {
			Name           *string
			WithDecryption *bool
		}
		if err := req.Decode(&in); err != nil {
			return nil, err
		}
		name = awsjson.String(in.Name)
		return s.getParameter(in.Name)
	})
	call := Call{Operation: req.Operation, Name: name, AccessKeyID: req.AccessKeyID, Status: http.StatusOK}
	if err != nil {
		call.Status, call.ErrorCode = err.Status, err.Code
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, call)
}

// parameter is the response's Parameter ("Parameter" data type, API
// Reference). LastModifiedDate is epoch seconds, as JSON 1.1 sends
// timestamps.
type parameter struct {
	ARN              string
	DataType         string
	LastModifiedDate float64
	Name             string
	Type             string
	Value            string
	Version          int
}

// getParameter answers GetParameter. The name may be the parameter's ARN;
// public parameters have no account in it (arn:aws:ssm:REGION::parameter/aws/service/…).
// Names are trimmed of spaces, and one with a space inside is a
// ValidationException, as the API Reference says.
func (s *Server) getParameter(name *string) (any, *awsjson.Error) {
	if name == nil {
		return nil, errValidation("1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null")
	}
	n := strings.TrimSpace(*name)
	if len(n) < 1 || len(n) > 2048 {
		return nil, errValidation(fmt.Sprintf("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must have length between 1 and 2048", n))
	}
	if strings.ContainsAny(n, " \t") {
		return nil, errValidation("Parameter name: can't contain spaces.")
	}
	if rest, ok := strings.CutPrefix(n, "arn:"); ok {
		// arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME
		f := strings.SplitN(rest, ":", 5)
		if len(f) != 5 || f[1] != "ssm" || f[2] != s.opts.Region || !strings.HasPrefix(f[4], "parameter/") {
			return nil, errValidation("Invalid parameter ARN: " + n)
		}
		n = "/" + strings.TrimPrefix(strings.TrimPrefix(f[4], "parameter/"), "/")
	}
	s.mu.Lock()
	value, ok := s.params[n]
	s.mu.Unlock()
	if !ok {
		// SSM sends ParameterNotFound with an empty message.
		return nil, &awsjson.Error{Status: http.StatusBadRequest, Code: "ParameterNotFound"}
	}
	return map[string]parameter{"Parameter": {
		ARN:      "arn:aws:ssm:" + s.opts.Region + "::parameter" + n,
		DataType: "aws:ec2:image", LastModifiedDate: float64(s.modified.Unix()),
		Name: n, Type: "String", Value: value, Version: 1,
	}}, nil
}

// Alongside serves SSM's requests (those whose X-Amz-Target names an
// AmazonSSM operation) with s, and every other request with other (see
// [awsjson.Route]).
func (s *Server) Alongside(other http.Handler) http.Handler {
	return awsjson.Route(Target, s, other)
}
