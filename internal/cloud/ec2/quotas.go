package ec2

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"

	"github.com/sear-ci/sear/internal/cloud"
)

// vcpuQuota is one of EC2's vCPU-based quotas, as Service Quotas names it.
type vcpuQuota struct{ code, name string }

// vcpuQuotas are EC2's vCPU quotas by instance class, on demand then
// spot (EC2 User Guide, "Amazon EC2 service quotas": On-Demand instances
// and Spot Instance requests are limited in vCPUs per group of families;
// the codes and names are those Service Quotas lists for ec2). The
// high-memory (u-), HPC and Mac families have quotas of their own that
// sear does not read.
var vcpuQuotas = map[string][2]vcpuQuota{
	"Standard": {{"L-1216C47A", "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances"},
		{"L-34B43A08", "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests"}},
	"G":   {{"L-DB2E81BA", "Running On-Demand G and VT instances"}, {"L-3819A6DF", "All G and VT Spot Instance Requests"}},
	"P":   {{"L-417A185B", "Running On-Demand P instances"}, {"L-7212CCBC", "All P Spot Instance Requests"}},
	"F":   {{"L-74FC7D96", "Running On-Demand F instances"}, {"L-88CF9481", "All F Spot Instance Requests"}},
	"Inf": {{"L-1945791B", "Running On-Demand Inf instances"}, {"L-B5D1601B", "All Inf Spot Instance Requests"}},
	"X":   {{"L-7295265B", "Running On-Demand X instances"}, {"L-E3A00192", "All X Spot Instance Requests"}},
	"DL":  {{"L-6E869C2A", "Running On-Demand DL instances"}, {"L-85EED4F7", "All DL Spot Instance Requests"}},
	"Trn": {{"L-2C3B7624", "Running On-Demand Trn instances"}, {"L-6B0D517C", "All Trn Spot Instance Requests"}},
}

// quotaClass is the vCPU quota class of an instance type, from the letters
// of its family ("Amazon EC2 instance type naming conventions"); "" when
// sear knows no vCPU quota for it.
func quotaClass(itype string) string {
	family, _, _ := strings.Cut(strings.ToLower(itype), ".")
	i := strings.IndexAny(family, "0123456789")
	if i <= 0 {
		return ""
	}
	switch letters := family[:i]; {
	case letters == "dl":
		return "DL"
	case letters == "trn":
		return "Trn"
	case letters == "inf":
		return "Inf"
	case letters == "vt" || letters[0] == 'g':
		return "G"
	case letters == "hpc" || letters == "mac" || letters == "u-":
		return ""
	case letters[0] == 'p':
		return "P"
	case letters[0] == 'f':
		return "F"
	case letters[0] == 'x':
		return "X"
	case strings.ContainsRune("acdhimrtz", rune(letters[0])):
		return "Standard"
	}
	return ""
}

// quotaFor is the quota a launch of itype counts against: the spot one
// or the on-demand one.
func quotaFor(itype string, spot bool) (vcpuQuota, bool) {
	q, ok := vcpuQuotas[quotaClass(itype)]
	if !ok {
		return vcpuQuota{}, false
	}
	if spot {
		return q[1], true
	}
	return q[0], true
}

// QuotaIncreaseURL is where the Service Quotas console asks for more of an
// EC2 quota; it opens in the console's current region.
func QuotaIncreaseURL(code string) string {
	return "https://console.aws.amazon.com/servicequotas/home/services/ec2/quotas/" + code
}

// quotaAdvice names the quota a launch of itype on a market was refused
// by, and where to ask for more, for a VcpuLimitExceeded or
// MaxSpotInstanceCountExceeded from RunInstances.
func quotaAdvice(itype string, spot bool) string {
	q, ok := quotaFor(itype, spot)
	if !ok {
		return "ask for more in Service Quotas"
	}
	return fmt.Sprintf("ask for more of %q (%s) at %s", q.name, q.code, QuotaIncreaseURL(q.code))
}

// newServiceQuotas is a Service Quotas client for the region, with the EC2
// client's retries: Service Quotas throttles with TooManyRequestsException
// (API Reference, "GetServiceQuota"), one of the standard retryer's
// throttling codes, so a burst is waited out; a read that still fails is
// a warning (shortQuotas).
func newServiceQuotas(cfg aws.Config, region string, t Timing) *servicequotas.Client {
	t = t.withDefaults()
	return servicequotas.NewFromConfig(cfg, func(o *servicequotas.Options) {
		o.Region = region
		o.Retryer = newRetryer(t.RetryMaxBackoff)
	})
}

// quotaAsk is what the cluster asks of one quota.
type quotaAsk struct {
	quota vcpuQuota
	ask   int            // vCPUs the cluster's nodes need
	inUse int            // vCPUs of the region's pending and running instances in the quota
	types map[string]int // the cluster's nodes counted, by type
	limit float64        // the quota's applied value
}

// checkQuotas refuses a launch that EC2 would refuse for a vCPU quota
// (VcpuLimitExceeded on demand, MaxSpotInstanceCountExceeded on spot),
// before anything is created: for each quota the first choices' nodes
// count against, the vCPUs they need plus those of the instances already
// pending or running in the region must fit the quota's applied value.
// Only the first choices count: the failover moves to an alternate type
// only when EC2 has no room for the first, never for a quota (noRoom).
//
// A spot cluster whose spot quota is short still launches when the
// on-demand quota holds the whole cluster: the failover's second pass
// launches on demand the nodes spot refused.
//
// Reading is best effort, and each gap is said: without
// ec2:DescribeInstances the ask is compared with the quota alone, and
// without servicequotas:GetServiceQuota (or ec2:DescribeInstanceTypes)
// nothing is checked and the launch goes ahead, as it would without
// check_quotas.
func (a *api) checkQuotas(ctx context.Context, sq *servicequotas.Client, spec cloud.Spec, plan *launchPlan) error {
	c := spec.Cluster
	cs, err := a.census(ctx, plan.nodes)
	if cs == nil {
		return err
	}
	asks, unknown := cs.asks(plan.nodes, c.Spot)
	for _, t := range unknown {
		logf(a.log, "sear: warning: check_quotas: sear knows no vCPU quota for %s; its nodes are not checked", t)
	}
	short, ok := a.shortQuotas(ctx, sq, asks)
	if !ok || len(short) == 0 {
		return ctx.Err()
	}
	if c.Spot {
		odAsks, _ := cs.asks(plan.nodes, false)
		odShort, ok := a.shortQuotas(ctx, sq, odAsks)
		if !ok || len(odShort) == 0 {
			logf(a.log, "sear: warning: check_quotas: spot: %s; the nodes spot refuses will launch on demand, within the on-demand quota",
				quotaProblems(a.region, short))
			return ctx.Err()
		}
		short = append(short, odShort...)
	}
	// At factories_num, the usual thing to change, so the action annotates
	// the line.
	return c.FieldError("factories_num", fmt.Sprintf("check_quotas: EC2 would refuse to launch cluster %q: %s; or use fewer or smaller nodes (factories_num, factories_type, orchestrator_type)",
		c.Name, quotaProblems(a.region, short)))
}

// quotaProblems says what each short quota holds and asks, with its
// increase link.
func quotaProblems(region string, short []*quotaAsk) string {
	var parts []string
	for _, q := range short {
		var counted []string
		for t, n := range q.types {
			counted = append(counted, fmt.Sprintf("%d × %s", n, t))
		}
		sort.Strings(counted)
		parts = append(parts, fmt.Sprintf("the quota %q (%s) in %s is %g vCPUs, %d are in use, and the cluster asks %d more (%s): ask for an increase at %s",
			q.quota.name, q.quota.code, region, q.limit, q.inUse, q.ask, strings.Join(counted, ", "), QuotaIncreaseURL(q.quota.code)))
	}
	return strings.Join(parts, "; ")
}

// census is what the quota check counts with: the region's instances
// that use a quota now, and the vCPUs of every type involved.
type census struct {
	running []runningInstance
	vcpus   map[string]int
}

// census lists the region's instances and counts the vCPUs of theirs and
// the nodes' types. It is nil, after a warning, when the vCPUs cannot be
// counted; the error is only ctx's.
func (a *api) census(ctx context.Context, nodes []nodePlan) (*census, error) {
	running, err := a.runningInstances(ctx)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		logf(a.log, "sear: warning: check_quotas: cannot list the region's instances (%v); comparing the cluster's vCPUs with the quotas alone", err)
	}
	itypes := make([]string, 0, len(nodes)+len(running))
	for _, n := range nodes {
		itypes = append(itypes, n.itype)
	}
	for _, r := range running {
		itypes = append(itypes, r.itype)
	}
	vcpus, err := a.vcpus(ctx, itypes)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		logf(a.log, "sear: warning: check_quotas: cannot count the instance types' vCPUs (%v); the vCPU quotas are not checked", err)
		return nil, nil
	}
	return &census{running: running, vcpus: vcpus}, nil
}

// asks sums what the nodes ask of each quota on a market, and what the
// region's instances already use of it, and the nodes' types it knows no
// quota for, each once.
func (cs *census) asks(nodes []nodePlan, spot bool) (map[string]*quotaAsk, []string) {
	asks := map[string]*quotaAsk{}
	var unknown []string
	for _, n := range nodes {
		q, ok := quotaFor(n.itype, spot)
		if !ok {
			if !slices.Contains(unknown, n.itype) {
				unknown = append(unknown, n.itype)
			}
			continue
		}
		if asks[q.code] == nil {
			asks[q.code] = &quotaAsk{quota: q, types: map[string]int{}}
		}
		asks[q.code].ask += cs.vcpus[n.itype]
		asks[q.code].types[n.itype]++
	}
	for _, r := range cs.running {
		if q, ok := quotaFor(r.itype, r.spot); ok && asks[q.code] != nil {
			asks[q.code].inUse += cs.vcpus[r.itype]
		}
	}
	return asks, unknown
}

// runningInstance is an instance of the region that counts against a
// vCPU quota.
type runningInstance struct {
	itype string
	spot  bool
}

// runningInstances are the region's pending and running instances: the
// vCPU quotas count the instances that run, on demand, and the Spot
// Instance requests that are active, on spot (EC2 User Guide, "Spot
// Instance quotas").
func (a *api) runningInstances(ctx context.Context) ([]runningInstance, error) {
	in := &awsec2.DescribeInstancesInput{MaxResults: aws.Int32(1000),
		Filters: []types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"pending", "running"}}}}
	var out []runningInstance
	for pages := awsec2.NewDescribeInstancesPaginator(a.ec2, in); pages.HasMorePages(); {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Reservations {
			for _, i := range r.Instances {
				out = append(out, runningInstance{itype: string(i.InstanceType), spot: i.InstanceLifecycle == types.InstanceLifecycleTypeSpot})
			}
		}
	}
	return out, nil
}

// vcpus are the default vCPUs of each type, by DescribeInstanceTypes
// (VCpuInfo), at most 100 types a call as the API takes them.
func (a *api) vcpus(ctx context.Context, itypes []string) (map[string]int, error) {
	out := map[string]int{}
	var ask []string
	for _, t := range itypes {
		if _, seen := out[t]; !seen && t != "" {
			out[t] = 0
			ask = append(ask, t)
		}
	}
	for _, chunk := range chunks(ask, 100) {
		list := make([]types.InstanceType, len(chunk))
		for i, t := range chunk {
			list[i] = types.InstanceType(t)
		}
		res, err := a.ec2.DescribeInstanceTypes(ctx, &awsec2.DescribeInstanceTypesInput{InstanceTypes: list})
		if err != nil {
			return nil, err
		}
		for _, it := range res.InstanceTypes {
			if v := it.VCpuInfo; v != nil {
				out[string(it.InstanceType)] = int(aws.ToInt32(v.DefaultVCpus))
			}
		}
	}
	return out, nil
}

// shortQuotas reads each asked quota's applied value and returns those the
// ask would exceed, in code order. ok is false when Service Quotas refused
// the role, after a warning: the check is then skipped, not failed.
func (a *api) shortQuotas(ctx context.Context, sq *servicequotas.Client, asks map[string]*quotaAsk) (short []*quotaAsk, ok bool) {
	codes := make([]string, 0, len(asks))
	for code := range asks {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		q := asks[code]
		out, err := sq.GetServiceQuota(ctx, &servicequotas.GetServiceQuotaInput{ServiceCode: aws.String("ec2"), QuotaCode: aws.String(code)})
		switch {
		case ctx.Err() != nil:
			return nil, false
		case Denied(err):
			logf(a.log, "sear: warning: check_quotas: the AWS role may not call servicequotas:GetServiceQuota (%v); the vCPU quotas are not checked: "+
				"give the role the policy that `sear plan --cluster <file>` prints", err)
			return nil, false
		case err != nil || out.Quota == nil || out.Quota.Value == nil:
			logf(a.log, "sear: warning: check_quotas: cannot read %q (%s) in %s (%v); it is not checked", q.quota.name, code, a.region, err)
			continue
		}
		// The name Service Quotas gives is the one its console shows.
		if n := aws.ToString(out.Quota.QuotaName); n != "" {
			q.quota.name = n
		}
		q.limit = *out.Quota.Value
		if float64(q.inUse+q.ask) > q.limit {
			short = append(short, q)
		}
	}
	return short, true
}
