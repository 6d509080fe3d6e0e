package world

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/sear-ci/sear/internal/testworld/ssm"
)

// TestSSMOnEC2Endpoint: with the world's environment, the SDK's SSM client
// resolves the DLAMI parameter with the job's STS credentials, the AMI it
// names is one EC2 describes as Amazon's, and EC2 still answers on the same
// port.
func TestSSMOnEC2Endpoint(t *testing.T) {
	t.Parallel()
	w := start(t, Options{})
	env := envMap(t, w)
	if env["AWS_ENDPOINT_URL_SSM"] == "" || env["AWS_ENDPOINT_URL_SSM"] != env["AWS_ENDPOINT_URL_EC2"] {
		t.Fatalf("AWS_ENDPOINT_URL_SSM %q, want EC2's %q", env["AWS_ENDPOINT_URL_SSM"], env["AWS_ENDPOINT_URL_EC2"])
	}
	creds := assume(t, env)
	ctx := context.Background()
	c := awsssm.New(awsssm.Options{Region: env["AWS_REGION"], BaseEndpoint: aws.String(env["AWS_ENDPOINT_URL_SSM"]),
		Credentials: credentials.StaticCredentialsProvider{Value: creds}})
	out, err := c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String(ssm.DLAMIParameter)})
	if err != nil {
		t.Fatal(err)
	}
	ami := aws.ToString(out.Parameter.Value)
	imgs, err := ec2Client(env, creds).DescribeImages(ctx, &awsec2.DescribeImagesInput{ImageIds: []string{ami}, Owners: []string{"amazon"}})
	if err != nil || len(imgs.Images) != 1 {
		t.Fatalf("DescribeImages %s: %v %+v", ami, err, imgs)
	}
	_, err = c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/aws/service/deeplearning/ami/x86_64/nope/latest/ami-id")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ParameterNotFound" {
		t.Errorf("unknown parameter: %v, want ParameterNotFound", err)
	}
	if n := len(w.SSM().Calls()); n != 2 {
		t.Errorf("%d SSM calls recorded, want 2", n)
	}
}
