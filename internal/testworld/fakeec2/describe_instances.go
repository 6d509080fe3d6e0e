package fakeec2

import (
	"strconv"
)

type describeInstancesResult struct {
	Reservations []xmlReservation `xml:"reservationSet>item"`
	NextToken    string           `xml:"nextToken,omitempty"`
}

// instanceFields are DescribeInstances' filters (EC2 API Reference,
// "DescribeInstances", Filter.N), besides tag:<key>, tag-key and tag-value.
var instanceFields = fieldFuncs[*instance]{
	"instance-id":                    func(i *instance) []string { return one(i.id) },
	"instance-state-name":            func(i *instance) []string { return one(i.state) },
	"instance-state-code":            func(i *instance) []string { return one(strconv.Itoa(stateCodes[i.state])) },
	"instance-type":                  func(i *instance) []string { return one(i.instanceType) },
	"image-id":                       func(i *instance) []string { return one(i.imageID) },
	"reservation-id":                 func(i *instance) []string { return one(i.reservationID) },
	"client-token":                   func(i *instance) []string { return one(i.clientToken) },
	"availability-zone":              func(i *instance) []string { return one(i.az) },
	"subnet-id":                      func(i *instance) []string { return live(i, i.subnetID) },
	"vpc-id":                         func(i *instance) []string { return live(i, i.vpcID) },
	"private-ip-address":             func(i *instance) []string { return live(i, i.privateIP) },
	"instance.group-id":              func(i *instance) []string { return i.groupIDs },
	"instance-lifecycle":             func(i *instance) []string { return lifecycleOf(i) },
	"spot-instance-request-id":       func(i *instance) []string { return one(i.spotRequestID) },
	"iam-instance-profile.arn":       func(i *instance) []string { return one(i.iamProfile) },
	"metadata-options.http-tokens":   func(i *instance) []string { return one(i.metadata.httpTokens) },
	"metadata-options.http-endpoint": func(i *instance) []string { return one(i.metadata.httpEndpoint) },
	"metadata-options.http-put-response-hop-limit": func(i *instance) []string {
		return one(strconv.Itoa(i.metadata.hopLimit))
	},
	"state-reason-code": func(i *instance) []string { return one(i.reason.code) },
}

func live(i *instance, v string) []string {
	if i.state == stateTerminated {
		return nil
	}
	return one(v)
}

func lifecycleOf(i *instance) []string {
	if i.market.spot {
		return one("spot")
	}
	return nil
}

// describeInstances implements DescribeInstances: InstanceId.N (malformed →
// InvalidInstanceID.Malformed, unknown → InvalidInstanceID.NotFound),
// Filter.N, and MaxResults (5-1000, not with InstanceId.N) / NextToken.
// Pages count instances; each page groups them by reservation.
func (s *Server) describeInstances(p params) (any, *apiError) {
	ids := p.list("InstanceId")
	return describe(s, p, query[*instance]{
		named: ids, namedParam: "instancesSet", fields: s.instanceFieldsWithOwner(),
		tags: func(i *instance) map[string]string { return i.tags }, seq: func(i *instance) int { return i.seq },
		selectAll: func() ([]*instance, *apiError) { return selectOrAll(ids, instanceIDs, s.instances) },
	}, func(items []*instance, next string) any {
		return describeInstancesResult{Reservations: s.byReservation(items), NextToken: next}
	})
}

func (s *Server) instanceFieldsWithOwner() fieldFuncs[*instance] {
	fields := fieldFuncs[*instance]{}
	for k, v := range instanceFields {
		fields[k] = v
	}
	fields["owner-id"] = func(*instance) []string { return one(s.opts.AccountID) }
	fields["instance.group-name"] = func(i *instance) []string {
		var out []string
		for _, g := range s.groupRefs(i) {
			out = append(out, g.GroupName)
		}
		return out
	}
	return fields
}

// byReservation groups instances (in order) into their reservations.
func (s *Server) byReservation(insts []*instance) []xmlReservation {
	var out []xmlReservation
	index := map[string]int{}
	for _, inst := range insts {
		i, ok := index[inst.reservationID]
		if !ok {
			i = len(out)
			index[inst.reservationID] = i
			out = append(out, s.reservationOf(s.reservations[inst.reservationID], nil))
		}
		out[i].Instances = append(out[i].Instances, s.instanceXML(inst))
	}
	return out
}

type xmlStateChange struct {
	InstanceID    string   `xml:"instanceId"`
	CurrentState  xmlState `xml:"currentState"`
	PreviousState xmlState `xml:"previousState"`
}

type terminateResult struct {
	Changes []xmlStateChange `xml:"instancesSet>item"`
}

// terminateInstances implements TerminateInstances. It is idempotent
// ("Ensuring idempotency": TerminateInstances is idempotent by default):
// terminating a terminated instance reports terminated twice. Unknown ids
// fail the whole call with InvalidInstanceID.NotFound.
func (s *Server) terminateInstances(p params) (any, *apiError) {
	ids := p.list("InstanceId")
	if len(ids) == 0 {
		return nil, errMissing("InstanceId")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	insts, err := selectIDs(ids, instanceIDs, func(id string) (*instance, bool) { i, ok := s.instances[id]; return i, ok })
	if err != nil {
		return nil, err
	}
	if err := checkDryRun(p); err != nil {
		return nil, err
	}
	var out terminateResult
	for _, inst := range insts {
		prev := inst.state
		if inst.state != stateTerminated {
			s.shutdown(inst, stateTerminated, reasonUser)
		}
		out.Changes = append(out.Changes, xmlStateChange{inst.id, stateXML(inst.state), stateXML(prev)})
	}
	return out, nil
}
