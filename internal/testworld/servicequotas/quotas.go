package servicequotas

// Quota is one of EC2's vCPU-based quotas, as Service Quotas names it.
type Quota struct {
	Code, Name string
	// Class is the usage metric's Class dimension ("Standard/OnDemand",
	// "G/Spot"): the instance class and the market the quota counts.
	Class string
}

// EC2 quota codes sear's preflight reads, exported for tests.
const (
	OnDemandStandard = "L-1216C47A"
	OnDemandG        = "L-DB2E81BA"
	OnDemandP        = "L-417A185B"
	SpotStandard     = "L-34B43A08"
	SpotG            = "L-3819A6DF"
	SpotP            = "L-7212CCBC"
)

// EC2Quotas are EC2's vCPU-based quotas for running On-Demand instances
// and for Spot Instance requests, one per instance class (EC2 User Guide,
// "Amazon EC2 service quotas": On-Demand Instance quotas are managed in
// vCPUs, by instance family groups; the names and codes are those the
// Service Quotas console and ListServiceQuotas show for ec2).
var EC2Quotas = []Quota{
	{OnDemandStandard, "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", "Standard/OnDemand"},
	{"L-6E869C2A", "Running On-Demand DL instances", "DL/OnDemand"},
	{"L-74FC7D96", "Running On-Demand F instances", "F/OnDemand"},
	{OnDemandG, "Running On-Demand G and VT instances", "G/OnDemand"},
	{"L-1945791B", "Running On-Demand Inf instances", "Inf/OnDemand"},
	{OnDemandP, "Running On-Demand P instances", "P/OnDemand"},
	{"L-2C3B7624", "Running On-Demand Trn instances", "Trn/OnDemand"},
	{"L-7295265B", "Running On-Demand X instances", "X/OnDemand"},
	{SpotStandard, "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests", "Standard/Spot"},
	{"L-85EED4F7", "All DL Spot Instance Requests", "DL/Spot"},
	{"L-88CF9481", "All F Spot Instance Requests", "F/Spot"},
	{SpotG, "All G and VT Spot Instance Requests", "G/Spot"},
	{"L-B5D1601B", "All Inf Spot Instance Requests", "Inf/Spot"},
	{SpotP, "All P Spot Instance Requests", "P/Spot"},
	{"L-6B0D517C", "All Trn Spot Instance Requests", "Trn/Spot"},
	{"L-E3A00192", "All X Spot Instance Requests", "X/Spot"},
}

// DefaultValues are the applied values a world starts with: an
// established account's, large enough that every type the EC2 emulator
// knows launches (p4d.24xlarge has 96 vCPUs), and not so large that a
// test needs more than a few nodes to reach one. The classes the emulator
// has no types of stay at 0, as a new account's GPU and accelerator
// quotas are.
var DefaultValues = map[string]float64{
	OnDemandStandard: 128, OnDemandG: 64, OnDemandP: 96,
	SpotStandard: 128, SpotG: 64, SpotP: 96,
}

func quotaByCode(code string) (Quota, bool) {
	for _, q := range EC2Quotas {
		if q.Code == code {
			return q, true
		}
	}
	return Quota{}, false
}
