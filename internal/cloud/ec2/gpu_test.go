package ec2

import (
	"context"
	"strings"
	"testing"

	"github.com/sear-ci/sear/internal/testworld/fakeec2"
	ssmworld "github.com/sear-ci/sear/internal/testworld/ssm"
)

// ssmNames are the parameters the SSM emulator was asked for.
func ssmNames(f *fixture) []string {
	var out []string
	for _, c := range f.ssm.Calls() {
		out = append(out, c.Name)
	}
	return out
}

// TestGPUNodesGetTheDLAMI: factories of a GPU type with no AMI named
// launch from the Deep Learning Base OSS Nvidia Driver GPU AMI that AWS's
// public parameter names (asked once for both factories), the
// orchestrator of a CPU type from Canonical's Ubuntu; the nodes say how
// many GPUs they have.
func TestGPUNodesGetTheDLAMI(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		itype, param, ami string
	}{
		{"g5.xlarge", ssmworld.DLAMIParameter, fakeec2.DLAMIImageID},
		{"g5g.xlarge", ssmworld.DLAMIArmParameter, fakeec2.DLAMIArmImageID},
	} {
		t.Run(tt.itype, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			p := f.provider()
			nodes := launch(t, p, newSpec(t, parseCluster(t, clusterYAML("factories_num: 2", "factories_type: "+tt.itype, "orchestrator_type: t3.large")), "run-1"))
			images := map[string]string{}
			for _, c := range calls(f, "RunInstances", false) {
				images[c.Params["InstanceType"]] = c.Params["ImageId"]
			}
			if images[tt.itype] != tt.ami || images["t3.large"] != fakeec2.UbuntuJammyImageID {
				t.Errorf("launched %v, want %s from %s and t3.large from %s", images, tt.itype, tt.ami, fakeec2.UbuntuJammyImageID)
			}
			if got := ssmNames(f); len(got) != 1 || got[0] != tt.param {
				t.Errorf("SSM asked for %q, want [%s] once", got, tt.param)
			}
			types := calls(f, "DescribeInstanceTypes", false)
			if len(types) != 1 || types[0].Params["InstanceType.1"] != tt.itype || types[0].Params["InstanceType.2"] != "" {
				t.Errorf("DescribeInstanceTypes calls %+v, want one for %s alone", types, tt.itype)
			}
			for _, n := range nodes {
				if want := map[string]int{tt.itype: 1, "t3.large": 0}[n.Type]; n.GPUs != want {
					t.Errorf("%s (%s) has %d GPUs, want %d", n.Name, n.Type, n.GPUs, want)
				}
			}
			teardown(t, p)
			assertClean(t, f)
		})
	}
}

// TestCPUClusterAsksNoGPUQuestions: a cluster without GPU types calls
// neither DescribeInstanceTypes nor SSM, so the policy of such a cluster
// needs neither.
func TestCPUClusterAsksNoGPUQuestions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.provider()
	nodes := launch(t, p, newSpec(t, parseCluster(t, clusterYAML()), "run-1"))
	if n := len(calls(f, "DescribeInstanceTypes", false)); n != 0 {
		t.Errorf("%d DescribeInstanceTypes calls for t3 nodes", n)
	}
	if got := ssmNames(f); len(got) != 0 {
		t.Errorf("SSM asked for %q", got)
	}
	for _, n := range nodes {
		if n.GPUs != 0 {
			t.Errorf("%s has %d GPUs", n.Name, n.GPUs)
		}
	}
	teardown(t, p)
	assertClean(t, f)
}

// TestNamedAMIOnGPUNode: an AMI the cluster file names is used as it is,
// without asking SSM; the GPU count still comes from EC2.
func TestNamedAMIOnGPUNode(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	own := f.srv.SeedImage(fakeec2.Image{Name: "my-cuda-image"})
	p := f.provider()
	nodes := launch(t, p, newSpec(t, parseCluster(t, clusterYAML("factories_num: 1", "factories_type: g5.12xlarge", "factory_ami: "+own)), "run-1"))
	for _, c := range calls(f, "RunInstances", false) {
		if c.Params["InstanceType"] == "g5.12xlarge" && c.Params["ImageId"] != own {
			t.Errorf("g5.12xlarge launched from %s, want the named %s", c.Params["ImageId"], own)
		}
	}
	if got := ssmNames(f); len(got) != 0 {
		t.Errorf("SSM asked for %q with factory_ami named", got)
	}
	if nodes[1].GPUs != 4 {
		t.Errorf("g5.12xlarge factory has %d GPUs, want 4", nodes[1].GPUs)
	}
	teardown(t, p)
	assertClean(t, f)
}

// TestGPUImageFailures: no parameter in the region, and GPUs the OSS
// driver does not support, are refused before anything is created, naming
// the field to set, at the instance type that asked for the image.
func TestGPUImageFailures(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		extra []string
		prep  func(f *fixture)
		want  []string
		at    string
	}{
		{"no parameter", []string{"factories_type: g4dn.xlarge"}, func(f *fixture) { f.ssm.SetParameter(ssmworld.DLAMIParameter, "") },
			[]string{"no Deep Learning Base OSS Nvidia Driver GPU AMI", ssmworld.DLAMIParameter, "factory_ami", "us-east-1"}, "cluster.yaml:4:1"},
		{"V100", []string{"factories_type: p3.2xlarge"}, nil, []string{"p3.2xlarge has NVIDIA V100 GPUs", "factory_ami"}, "cluster.yaml:4:1"},
		{"parameter names a missing image", []string{"orchestrator_type: g5.xlarge"},
			func(f *fixture) { f.ssm.SetParameter(ssmworld.DLAMIParameter, "ami-0000000000000dead") },
			[]string{"ami-0000000000000dead", "orchestrator_ami"}, "cluster.yaml:5:1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			if tt.prep != nil {
				tt.prep(f)
			}
			_, err := f.provider().Launch(context.Background(), newSpec(t, parseCluster(t, clusterYAML(tt.extra...)), "run-1"))
			if err == nil {
				t.Fatal("Launch succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			checkAt(t, err, tt.at)
			assertNothingCreated(t, f)
		})
	}
}

// TestGPUInstanceType: the name rule sear plan uses agrees with the GpuInfo
// of every type the emulator knows, and knows the families AWS lists.
func TestGPUInstanceType(t *testing.T) {
	for itype, want := range map[string]bool{
		"g4dn.xlarge": true, "g5.xlarge": true, "g5g.xlarge": true, "g6e.2xlarge": true, "gr6.4xlarge": true,
		"p3.2xlarge": true, "p4d.24xlarge": true, "p5.48xlarge": true, "p6-b200.48xlarge": true,
		"g4ad.xlarge": false, "t3.large": false, "m6g.large": false, "c7gn.large": false, "inf2.xlarge": false,
		"trn1.2xlarge": false, "dl1.24xlarge": false, "x2gd.large": false, "": false,
	} {
		if got := GPUInstanceType(itype); got != want {
			t.Errorf("GPUInstanceType(%q) = %v, want %v", itype, got, want)
		}
	}
	f := newFixture(t)
	infos, err := newAPI(f.cfg(), testRegion, fast, nil).typeInfos(context.Background(),
		"g4dn.xlarge", "g4dn.12xlarge", "g5.2xlarge", "g5g.xlarge", "p3.8xlarge", "p4d.24xlarge", "t3.large", "m6g.large")
	if err != nil {
		t.Fatal(err)
	}
	for itype, info := range infos {
		if GPUInstanceType(itype) != (info.gpus > 0) {
			t.Errorf("%s: name rule %v, GpuInfo %d GPUs", itype, GPUInstanceType(itype), info.gpus)
		}
	}
	if infos["p4d.24xlarge"].gpus != 8 || infos["g5g.xlarge"].arch != "arm64" || infos["m6g.large"].arch != "arm64" {
		t.Errorf("type infos %+v", infos)
	}
}
