package fakeec2

// CurrentFaults returns the faults in force now. It can differ from what
// SetFaults was given: a FailBoot "next" is cleared once an instance has
// consumed it, a SpotInterruption once it has fired.
func (s *Server) CurrentFaults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	f.InsufficientCapacity = copyBools(f.InsufficientCapacity)
	f.FailBoot = copyBools(f.FailBoot)
	f.Capacity = append([]CapacityFault(nil), f.Capacity...)
	f.SpotInterruptions = append([]SpotInterruption(nil), f.SpotInterruptions...)
	return f
}
