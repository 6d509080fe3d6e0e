// Package pricing emulates the one AWS Price List Query API call sear
// makes, GetProducts for EC2 instances, at the wire level: the JSON 1.1
// protocol (X-Amz-Target: AWSPriceListService.GetProducts),
// SigV4-authenticated for the service "pricing", so that aws-sdk-go-v2's
// Pricing client and the AWS CLI run unchanged against it.
//
// Behaviour follows the AWS Price List Service API Reference,
// "GetProducts" (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_pricing_GetProducts.html):
// ServiceCode required; Filters whose Type is TERM_MATCH, EQUALS,
// CONTAINS, ANY_OF or NONE_OF (ANY_OF and NONE_OF take a comma-separated
// list), all of which a product must match, on the field ServiceCode or
// any product attribute; FormatVersion aws_v1 only; MaxResults 1 to 100;
// a NextToken to page; PriceList as JSON documents in strings; the errors
// it lists (InvalidParameterException, NotFoundException for a service
// code it has not, InvalidNextTokenException). A product document has the
// shape of the price list's ("Using the bulk API", AWS Billing User
// Guide): product.attributes, terms.OnDemand.OFFER.priceDimensions.RATE.pricePerUnit.USD.
//
// The Query API has endpoints in us-east-1, eu-central-1 and ap-south-1
// only and prices every region from each ("Using the AWS Price List Query
// API"); a client names the region it prices with the regionCode
// attribute.
package pricing

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sear-ci/sear/internal/testworld/awsjson"
	"github.com/sear-ci/sear/internal/testworld/sigv4"
)

// Target is the X-Amz-Target prefix of the Price List Query API's
// operations.
const Target = "AWSPriceListService."

// EndpointRegions are the regions the Query API has endpoints in.
var EndpointRegions = []string{"us-east-1", "eu-central-1", "ap-south-1"}

// maxBody bounds a request body: a service code and a few filters.
const maxBody = 64 << 10

// Instance is one EC2 instance product: a type in a region, Linux,
// shared tenancy, no pre-installed software, on demand.
type Instance struct {
	Region   string
	Location string // "US East (N. Virginia)"
	Type     string
	// HourlyUSD is the on-demand price per hour.
	HourlyUSD float64
}

// Options configures a Server.
type Options struct {
	// Region is the endpoint's region, one of EndpointRegions; default
	// us-east-1.
	Region      string
	Credentials sigv4.CredentialSource
	// Principal names the caller of an access key in AccessDeniedException's
	// message (an assumed role's session ARN); nil, or "", names the key as
	// an IAM user of account 123456789012.
	Principal func(accessKeyID string) string
	// Instances are the products it holds.
	Instances []Instance
	// Published is the price list's publication date; default now.
	Published time.Time
	Now       func() time.Time
}

// Call is one request as the emulator saw it.
type Call struct {
	Operation   string            `json:"operation"` // GetProducts
	AccessKeyID string            `json:"access_key_id,omitempty"`
	Filters     map[string]string `json:"filters,omitempty"` // field → value
	Status      int               `json:"status"`
	ErrorCode   string            `json:"error_code,omitempty"`
}

// Server is the emulated Price List Query API endpoint, an http.Handler
// safe for concurrent use.
type Server struct {
	opts Options

	mu       sync.Mutex
	products []product
	calls    []Call
	denied   bool
}

// New returns a Server holding opts.Instances.
func New(opts Options) *Server {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if !slices.Contains(EndpointRegions, opts.Region) {
		// AWS has no Query API endpoint there: a client signing for it
		// would reach nothing, so an emulator for it is a test's mistake.
		panic(fmt.Sprintf("pricing: the Price List Query API has no endpoint in %s, only in %v", opts.Region, EndpointRegions))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Published.IsZero() {
		opts.Published = opts.Now()
	}
	if opts.Credentials == nil {
		opts.Credentials = sigv4.StaticSource{}
	}
	s := &Server{opts: opts}
	for _, in := range opts.Instances {
		s.products = append(s.products, newProduct(in, opts.Published))
	}
	return s
}

// SetPrice sets the on-demand price of typ in region, adding the product
// when it has none, so a test can tell live prices from sear's table.
func (s *Server) SetPrice(region, location, typ string, hourlyUSD float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := Instance{Region: region, Location: location, Type: typ, HourlyUSD: hourlyUSD}
	for i, p := range s.products {
		if p.attrs["regionCode"] == region && p.attrs["instanceType"] == typ {
			s.products[i] = newProduct(in, s.opts.Published)
			return
		}
	}
	s.products = append(s.products, newProduct(in, s.opts.Published))
}

// SetAccessDenied makes every GetProducts answer AccessDeniedException, as
// for a role whose policy does not allow pricing:GetProducts; false
// serves them again.
func (s *Server) SetAccessDenied(denied bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied = denied
}

func (s *Server) principal(key string) string {
	if s.opts.Principal != nil {
		if p := s.opts.Principal(key); p != "" {
			return p
		}
	}
	return "arn:aws:iam::123456789012:user/" + key
}

// Calls returns every request so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Alongside serves the Price List API's requests with s and every other
// request with other (see [awsjson.Route]).
func (s *Server) Alongside(other http.Handler) http.Handler {
	return awsjson.Route(Target, s, other)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	svc := awsjson.Service{Target: Target, SigningName: "pricing", Region: s.opts.Region,
		Credentials: s.opts.Credentials, Now: s.opts.Now, MaxBody: maxBody}
	filters := map[string]string{}
	req, err := svc.Serve(w, r, func(req awsjson.Request) (any, *awsjson.Error) {
		if req.Operation != "GetProducts" {
			return nil, awsjson.UnknownOperation()
		}
		s.mu.Lock()
		denied := s.denied
		s.mu.Unlock()
		if denied {
			return nil, awsjson.AccessDenied(s.principal(req.AccessKeyID), "pricing:GetProducts")
		}
		var in getProductsInput
		if err := req.Decode(&in); err != nil {
			return nil, err
		}
		for _, f := range in.Filters {
			filters[f.Field] = f.Value
		}
		return s.getProducts(in)
	})
	call := Call{Operation: req.Operation, AccessKeyID: req.AccessKeyID, Filters: filters, Status: http.StatusOK}
	if err != nil {
		call.Status, call.ErrorCode = err.Status, err.Code
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, call)
}

type filter struct {
	Type, Field, Value string
}

type getProductsInput struct {
	ServiceCode   *string
	Filters       []filter
	FormatVersion *string
	MaxResults    *int
	NextToken     *string
}

func invalid(msg string) *awsjson.Error {
	return &awsjson.Error{Status: http.StatusBadRequest, Code: "InvalidParameterException", Message: msg}
}

func (s *Server) getProducts(in getProductsInput) (any, *awsjson.Error) {
	if in.ServiceCode == nil || *in.ServiceCode == "" {
		return nil, invalid("Input validation error: ServiceCode is required")
	}
	if *in.ServiceCode != "AmazonEC2" {
		// The emulator holds EC2's products only; any other service
		// code is one it does not know.
		return nil, &awsjson.Error{Status: http.StatusBadRequest, Code: "NotFoundException",
			Message: fmt.Sprintf("Service code %s not found", *in.ServiceCode)}
	}
	if in.FormatVersion != nil && *in.FormatVersion != "aws_v1" {
		return nil, invalid(fmt.Sprintf("Input validation error: FormatVersion %q is not supported; valid values: aws_v1", *in.FormatVersion))
	}
	limit := 100
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 100 {
			return nil, invalid(fmt.Sprintf("Input validation error: MaxResults %d is outside 1 to 100", *in.MaxResults))
		}
		limit = *in.MaxResults
	}
	for _, f := range in.Filters {
		if f.Field == "" || f.Value == "" {
			return nil, invalid("Input validation error: a filter needs a Field and a Value")
		}
		switch f.Type {
		case "TERM_MATCH", "EQUALS", "CONTAINS", "ANY_OF", "NONE_OF":
		default:
			return nil, invalid(fmt.Sprintf("Input validation error: filter type %q is not one of TERM_MATCH, EQUALS, CONTAINS, ANY_OF, NONE_OF", f.Type))
		}
	}
	start := 0
	if in.NextToken != nil {
		n, err := strconv.Atoi(strings.TrimPrefix(*in.NextToken, "page:"))
		if err != nil || !strings.HasPrefix(*in.NextToken, "page:") || n < 0 {
			return nil, &awsjson.Error{Status: http.StatusBadRequest, Code: "InvalidNextTokenException",
				Message: "The pagination token is invalid. Try again without a pagination token."}
		}
		start = n
	}
	s.mu.Lock()
	var matched []string
	for _, p := range s.products {
		if p.matches(in.Filters) {
			matched = append(matched, p.doc)
		}
	}
	s.mu.Unlock()
	out := struct {
		FormatVersion string
		PriceList     []string
		NextToken     *string `json:",omitempty"`
	}{FormatVersion: "aws_v1", PriceList: []string{}}
	if start < len(matched) {
		end := min(start+limit, len(matched))
		out.PriceList = matched[start:end]
		if end < len(matched) {
			next := "page:" + strconv.Itoa(end)
			out.NextToken = &next
		}
	}
	return out, nil
}

// product is one product, its attributes for filtering and its document
// as GetProducts returns it.
type product struct {
	attrs map[string]string
	doc   string
}

func (p product) matches(filters []filter) bool {
	for _, f := range filters {
		v, ok := p.attrs[f.Field]
		if f.Field == "ServiceCode" {
			v, ok = "AmazonEC2", true
		}
		values := strings.Split(f.Value, ",")
		var hit bool
		switch f.Type {
		case "TERM_MATCH", "EQUALS":
			hit = ok && v == f.Value
		case "CONTAINS":
			hit = ok && strings.Contains(v, f.Value)
		case "ANY_OF":
			hit = ok && slices.Contains(values, v)
		case "NONE_OF":
			hit = !ok || !slices.Contains(values, v)
		}
		if !hit {
			return false
		}
	}
	return true
}

// newProduct is in's product document. The SKU and the offer and rate
// codes are derived from region and type (AWS's are opaque codes); the
// offer term code JRTCKXETXF and rate code 6YS6EN2CT7 are the ones every
// on-demand term of the price list carries.
func newProduct(in Instance, published time.Time) product {
	sku := skuOf(in.Region, in.Type)
	attrs := map[string]string{
		"servicecode": "AmazonEC2", "servicename": "Amazon Elastic Compute Cloud",
		"instanceType": in.Type, "instanceFamily": "General purpose",
		"regionCode": in.Region, "location": in.Location, "locationType": "AWS Region",
		"operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA",
		"capacitystatus": "Used", "licenseModel": "No License required",
		"operation": "RunInstances", "usagetype": "BoxUsage:" + in.Type,
		"marketoption": "OnDemand",
	}
	offer := sku + ".JRTCKXETXF"
	rate := offer + ".6YS6EN2CT7"
	doc := map[string]any{
		"product":         map[string]any{"productFamily": "Compute Instance", "attributes": attrs, "sku": sku},
		"serviceCode":     "AmazonEC2",
		"version":         published.UTC().Format("20060102150405"),
		"publicationDate": published.UTC().Format(time.RFC3339),
		"terms": map[string]any{"OnDemand": map[string]any{offer: map[string]any{
			"offerTermCode": "JRTCKXETXF", "sku": sku, "effectiveDate": published.UTC().Format(time.RFC3339),
			"termAttributes": map[string]string{},
			"priceDimensions": map[string]any{rate: map[string]any{
				"rateCode": rate, "unit": "Hrs", "beginRange": "0", "endRange": "Inf", "appliesTo": []string{},
				"description":  fmt.Sprintf("$%.4f per On Demand Linux %s Instance Hour", in.HourlyUSD, in.Type),
				"pricePerUnit": map[string]string{"USD": strconv.FormatFloat(in.HourlyUSD, 'f', 10, 64)},
			}},
		}}},
	}
	b, _ := json.Marshal(doc)
	return product{attrs: attrs, doc: string(b)}
}

// skuOf is a stable 16-character code for a region and type, shaped like
// the price list's SKUs.
func skuOf(region, typ string) string {
	const alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
	var h uint64 = 14695981039346656037
	for _, c := range region + "/" + typ {
		h = (h ^ uint64(c)) * 1099511628211
	}
	b := make([]byte, 16)
	for i := range b {
		b[i] = alphabet[h%uint64(len(alphabet))]
		h = h/uint64(len(alphabet)) ^ (h << 7)
	}
	return string(b)
}
