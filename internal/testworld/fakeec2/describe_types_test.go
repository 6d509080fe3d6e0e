package fakeec2

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestDescribeInstanceTypesGPUs: the SDK reads GpuInfo for the GPU types,
// none for the others, the architecture for each, and an unknown type is
// InvalidInstanceType.
func TestDescribeInstanceTypesGPUs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	out, err := f.client.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{
		InstanceTypes: []types.InstanceType{"g5.12xlarge", "t3.large", "g5g.xlarge"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]types.InstanceTypeInfo{}
	for _, it := range out.InstanceTypes {
		got[string(it.InstanceType)] = it
	}
	if len(got) != 3 {
		t.Fatalf("%d types, want 3: %+v", len(got), out.InstanceTypes)
	}
	g5 := got["g5.12xlarge"].GpuInfo
	if g5 == nil || len(g5.Gpus) != 1 || aws.ToInt32(g5.Gpus[0].Count) != 4 || aws.ToString(g5.Gpus[0].Manufacturer) != "NVIDIA" ||
		aws.ToString(g5.Gpus[0].Name) != "A10G" || aws.ToInt32(g5.TotalGpuMemoryInMiB) != 4*24576 {
		t.Errorf("g5.12xlarge GpuInfo %+v", g5)
	}
	if gi := got["t3.large"].GpuInfo; gi != nil {
		t.Errorf("t3.large has GpuInfo %+v", gi)
	}
	if a := got["g5g.xlarge"].ProcessorInfo.SupportedArchitectures; len(a) != 1 || a[0] != types.ArchitectureTypeArm64 {
		t.Errorf("g5g.xlarge architectures %v", a)
	}
	_, err = f.client.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{"g5.nope"}})
	wantCode(t, err, "InvalidInstanceType")
}

// TestDescribeInstanceTypesVCpus: every type the emulator knows has its
// VCpuInfo, which the SDK reads: p4d.24xlarge's 96 vCPUs, t2.micro's one.
func TestDescribeInstanceTypesVCpus(t *testing.T) {
	t.Parallel()
	for name := range instanceTypes {
		if _, ok := vcpus[name]; !ok {
			t.Errorf("%s has no vCPUs", name)
		}
	}
	f := newFixture(t)
	out, err := f.client.DescribeInstanceTypes(context.Background(), &ec2.DescribeInstanceTypesInput{
		InstanceTypes: []types.InstanceType{"p4d.24xlarge", "t2.micro"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range out.InstanceTypes {
		want := map[types.InstanceType]int32{"p4d.24xlarge": 96, "t2.micro": 1}[it.InstanceType]
		if v := it.VCpuInfo; v == nil || aws.ToInt32(v.DefaultVCpus) != want || aws.ToInt32(v.DefaultCores)*aws.ToInt32(v.DefaultThreadsPerCore) != want {
			t.Errorf("%s VCpuInfo %+v, want %d vCPUs", it.InstanceType, v, want)
		}
	}
}
