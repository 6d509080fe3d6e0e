package fakeec2

// runInstances implements RunInstances. It validates everything first, so
// that a DryRun gets the real error when there is one and DryRunOperation
// otherwise; then replays a known client token; then applies capacity
// ("MinCount": if EC2 cannot launch that many it launches none;
// "MaxCount": otherwise it launches the largest possible number above
// MinCount); and returns the reservation with its instances pending.
func (s *Server) runInstances(p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, err := s.parseLaunch(p)
	if err != nil {
		return nil, err
	}
	if err := checkDryRun(p); err != nil {
		return nil, err
	}
	if res, err := s.replay(req); res != nil || err != nil {
		if err != nil {
			return nil, err
		}
		return s.reservationXML(res), nil
	}
	n, err := s.capacity(req)
	if err != nil {
		return nil, err
	}
	return s.reservationXML(s.launch(req, n)), nil
}

// replay answers a request whose ClientToken was already used: the same
// reservation (with its instances as they are now) when the parameters are
// the same, IdempotentParameterMismatch when they are not ("Ensuring
// idempotency in Amazon EC2 API requests", RunInstances idempotency). Only
// successful launches consume a token.
func (s *Server) replay(req *launchRequest) (*reservation, *apiError) {
	prior, ok := s.tokens[req.clientToken]
	if req.clientToken == "" || !ok {
		return nil, nil
	}
	if prior.fingerprint != req.fingerprint {
		return nil, errIdempotentMismatch()
	}
	return s.reservations[prior.reservationID], nil
}

// launch creates n instances in one reservation and starts booting them.
func (s *Server) launch(req *launchRequest, n int) *reservation {
	res := &reservation{seq: s.next(), id: newID("r")}
	s.reservations[res.id] = res
	for i := 0; i < n; i++ {
		inst := s.newInstance(req, res.id, i)
		res.instanceIDs = append(res.instanceIDs, inst.id)
		s.startBoot(inst)
	}
	if req.clientToken != "" {
		s.tokens[req.clientToken] = &idempotentLaunch{fingerprint: req.fingerprint, reservationID: res.id}
	}
	return res
}

func (s *Server) newInstance(req *launchRequest, reservationID string, index int) *instance {
	ip, _ := req.subnet.allocate() // capacity already checked the subnet's room
	inst := &instance{
		seq: s.next(), id: newID("i"), reservationID: reservationID, imageID: req.img.ID, instanceType: req.typeName,
		state: statePending, privateIP: ip, subnetID: req.subnet.id, vpcID: req.subnet.vpcID, az: req.subnet.az,
		tags: copyTags(req.tagSpecs["instance"]), userData: req.userData, metadata: req.metadata,
		shutdownBehavior: req.shutdown, market: req.market, iamProfile: req.iamProfile, clientToken: req.clientToken,
		launchIndex: index, launchTime: s.now(),
	}
	for _, g := range req.groups {
		inst.groupIDs = append(inst.groupIDs, g.id)
	}
	if req.market.spot {
		inst.spotRequestID = "sir-" + randomHex(8)
	}
	s.createVolumes(inst, req)
	s.createENI(inst, req)
	s.instances[inst.id] = inst
	return inst
}

// createENI records the instance's primary network interface, tagged with
// the launch's "network-interface" tag specification.
func (s *Server) createENI(inst *instance, req *launchRequest) {
	e := &networkInterface{id: newID("eni"), instanceID: inst.id, tags: copyTags(req.tagSpecs["network-interface"])}
	s.enis[e.id] = e
	inst.eniID = e.id
}

type xmlReservation struct {
	ReservationID string        `xml:"reservationId"`
	OwnerID       string        `xml:"ownerId"`
	Groups        []xmlGroupRef `xml:"groupSet>item"`
	Instances     []xmlInstance `xml:"instancesSet>item"`
}

// reservationXML renders a reservation with all its instances, as
// RunInstances returns it.
func (s *Server) reservationXML(res *reservation) xmlReservation {
	var insts []*instance
	for _, id := range res.instanceIDs {
		if inst := s.instances[id]; inst != nil { // nil once purged
			insts = append(insts, inst)
		}
	}
	return s.reservationOf(res, insts)
}

func (s *Server) reservationOf(res *reservation, insts []*instance) xmlReservation {
	out := xmlReservation{ReservationID: res.id, OwnerID: s.opts.AccountID}
	for _, inst := range insts {
		out.Instances = append(out.Instances, s.instanceXML(inst))
	}
	return out
}
