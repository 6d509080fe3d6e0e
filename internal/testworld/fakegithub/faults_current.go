package fakegithub

import "slices"

// CurrentFaults returns the faults in force now. It can differ from what
// SetFaults was given: SecondaryRateLimited counts down as calls are refused.
func (s *Server) CurrentFaults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	f.Methods = slices.Clone(f.Methods)
	return f
}
