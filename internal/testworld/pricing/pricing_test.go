package pricing

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awspricing "github.com/aws/aws-sdk-go-v2/service/pricing"
	"github.com/aws/aws-sdk-go-v2/service/pricing/types"
	"github.com/aws/smithy-go"

	"github.com/sear-ci/sear/internal/testworld/sigv4"
)

const (
	testKey    = "AKIAPRICINGTESTWORLD"
	testSecret = "pricing-test-secret"
)

func newServer() *Server {
	var in []Instance
	for _, typ := range []string{"t3.micro", "t3.small", "t3.medium", "c6i.large", "g5.xlarge"} {
		in = append(in, Instance{Region: "us-east-1", Location: "US East (N. Virginia)", Type: typ, HourlyUSD: 0.1})
	}
	in = append(in, Instance{Region: "eu-west-1", Location: "Europe (Ireland)", Type: "t3.micro", HourlyUSD: 0.0114})
	return New(Options{Credentials: sigv4.StaticSource{testKey: testSecret}, Instances: in})
}

func newClient(t *testing.T, h http.Handler, key string) *awspricing.Client {
	t.Helper()
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return awspricing.New(awspricing.Options{Region: "us-east-1", BaseEndpoint: aws.String(hs.URL), HTTPClient: hs.Client(),
		Credentials: credentials.NewStaticCredentialsProvider(key, testSecret, ""), Retryer: aws.NopRetryer{}})
}

func term(field, value string) types.Filter {
	return types.Filter{Type: types.FilterTypeTermMatch, Field: aws.String(field), Value: aws.String(value)}
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestGetProducts: the SDK's client finds one product by type and region,
// and its document has the price list's shape, price and attributes.
func TestGetProducts(t *testing.T) {
	t.Parallel()
	s := newServer()
	s.SetPrice("eu-west-1", "Europe (Ireland)", "t3.micro", 0.0228)
	c := newClient(t, s, testKey)
	out, err := c.GetProducts(context.Background(), &awspricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2"),
		FormatVersion: aws.String("aws_v1"),
		Filters:       []types.Filter{term("instanceType", "t3.micro"), term("regionCode", "eu-west-1"), term("operatingSystem", "Linux")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.PriceList) != 1 || aws.ToString(out.FormatVersion) != "aws_v1" || out.NextToken != nil {
		t.Fatalf("%d products, format %q, next %v", len(out.PriceList), aws.ToString(out.FormatVersion), out.NextToken)
	}
	var doc struct {
		Product struct {
			ProductFamily string
			Attributes    map[string]string
		}
		Terms struct {
			OnDemand map[string]struct {
				PriceDimensions map[string]struct {
					Unit         string
					PricePerUnit map[string]string
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(out.PriceList[0]), &doc); err != nil {
		t.Fatal(err)
	}
	a := doc.Product.Attributes
	if doc.Product.ProductFamily != "Compute Instance" || a["location"] != "Europe (Ireland)" || a["tenancy"] != "Shared" {
		t.Errorf("product %+v", doc.Product)
	}
	var prices []string
	for _, term := range doc.Terms.OnDemand {
		for _, d := range term.PriceDimensions {
			prices = append(prices, d.Unit+" "+d.PricePerUnit["USD"])
		}
	}
	if len(prices) != 1 || prices[0] != "Hrs 0.0228000000" {
		t.Errorf("on-demand prices %v, want the price set", prices)
	}
	if calls := s.Calls(); len(calls) != 1 || calls[0].Operation != "GetProducts" || calls[0].Filters["regionCode"] != "eu-west-1" ||
		calls[0].AccessKeyID != testKey {
		t.Errorf("calls %+v", calls)
	}
}

// TestGetProductsFilters: every filter type, and a field no product has.
func TestGetProductsFilters(t *testing.T) {
	t.Parallel()
	c := newClient(t, newServer(), testKey)
	for name, tc := range map[string]struct {
		filters []types.Filter
		want    int
	}{
		"term match":    {[]types.Filter{term("regionCode", "us-east-1")}, 5},
		"equals":        {[]types.Filter{{Type: types.FilterTypeEquals, Field: aws.String("instanceType"), Value: aws.String("t3.small")}}, 1},
		"contains":      {[]types.Filter{{Type: types.FilterTypeContains, Field: aws.String("instanceType"), Value: aws.String("t3.")}}, 4},
		"any of":        {[]types.Filter{{Type: types.FilterTypeAnyOf, Field: aws.String("instanceType"), Value: aws.String("g5.xlarge,c6i.large")}}, 2},
		"none of":       {[]types.Filter{term("regionCode", "us-east-1"), {Type: types.FilterTypeNoneOf, Field: aws.String("instanceType"), Value: aws.String("t3.micro,t3.small")}}, 3},
		"service code":  {[]types.Filter{term("ServiceCode", "AmazonEC2")}, 6},
		"unknown field": {[]types.Filter{term("noSuchAttribute", "x")}, 0},
		"all must hold": {[]types.Filter{term("instanceType", "t3.micro"), term("regionCode", "ap-south-1")}, 0},
	} {
		out, err := c.GetProducts(context.Background(), &awspricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2"), Filters: tc.filters})
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if len(out.PriceList) != tc.want {
			t.Errorf("%s: %d products, want %d", name, len(out.PriceList), tc.want)
		}
	}
}

// TestGetProductsPages: MaxResults pages the products, and the
// paginator reads them all.
func TestGetProductsPages(t *testing.T) {
	t.Parallel()
	c := newClient(t, newServer(), testKey)
	p := awspricing.NewGetProductsPaginator(c, &awspricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2"), MaxResults: aws.Int32(2)})
	pages, products := 0, 0
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		products += len(out.PriceList)
	}
	if pages != 3 || products != 6 {
		t.Errorf("%d pages, %d products; want 3 and 6", pages, products)
	}
}

// TestGetProductsErrors: what the API Reference lists for bad input, each
// with status 400, and the JSON protocol's authentication errors.
func TestGetProductsErrors(t *testing.T) {
	t.Parallel()
	c := newClient(t, newServer(), testKey)
	for name, tc := range map[string]struct {
		in   awspricing.GetProductsInput
		want string
	}{
		"unknown service code": {awspricing.GetProductsInput{ServiceCode: aws.String("AmazonNope")}, "NotFoundException"},
		"format version":       {awspricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2"), FormatVersion: aws.String("aws_v2")}, "InvalidParameterException"},
		"max results 0":        {awspricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2"), MaxResults: aws.Int32(0)}, "InvalidParameterException"},
		"max results 101":      {awspricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2"), MaxResults: aws.Int32(101)}, "InvalidParameterException"},
		"bad token":            {awspricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2"), NextToken: aws.String("garbage")}, "InvalidNextTokenException"},
		"empty filter value":   {awspricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2"), Filters: []types.Filter{term("instanceType", "")}}, "InvalidParameterException"},
		"unknown filter type": {awspricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2"),
			Filters: []types.Filter{{Type: "REGEX", Field: aws.String("instanceType"), Value: aws.String("t3.*")}}}, "InvalidParameterException"},
	} {
		_, err := c.GetProducts(context.Background(), &tc.in)
		var re interface{ HTTPStatusCode() int }
		if code(err) != tc.want || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadRequest {
			t.Errorf("%s: %v, want %s with status 400", name, err, tc.want)
		}
	}
	_, err := newClient(t, newServer(), "AKIAUNKNOWNKEY000000").GetProducts(context.Background(),
		&awspricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2")})
	if code(err) != "UnrecognizedClientException" {
		t.Errorf("unknown key: %v", err)
	}
	s := newServer()
	s.SetAccessDenied(true)
	_, err = newClient(t, s, testKey).GetProducts(context.Background(), &awspricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2")})
	if code(err) != "AccessDeniedException" || !strings.Contains(err.Error(), "pricing:GetProducts") {
		t.Errorf("denied: %v", err)
	}
}

// TestAWSCLI: botocore, an independent client with its own signer and
// serializer, reads a price through the emulator.
func TestAWSCLI(t *testing.T) {
	t.Parallel()
	path, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("the AWS CLI is the test world's independent oracle and must be installed (scripts/test installs Debian's awscli): %v", err)
	}
	hs := httptest.NewServer(newServer())
	t.Cleanup(hs.Close)
	dir := t.TempDir()
	cmd := exec.Command(path, "pricing", "get-products", "--endpoint-url", hs.URL, "--region", "us-east-1",
		"--service-code", "AmazonEC2", "--filters", "Type=TERM_MATCH,Field=instanceType,Value=t3.medium",
		"Type=TERM_MATCH,Field=regionCode,Value=us-east-1", "--output", "json")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1",
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"),
		"AWS_ACCESS_KEY_ID=" + testKey, "AWS_SECRET_ACCESS_KEY=" + testSecret}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws pricing get-products: %v\n%s", err, stderr.String())
	}
	var resp struct{ PriceList []string }
	if err := json.Unmarshal(out, &resp); err != nil || len(resp.PriceList) != 1 || !strings.Contains(resp.PriceList[0], `"instanceType":"t3.medium"`) {
		t.Errorf("aws pricing get-products: %v\n%s", err, out)
	}
}
