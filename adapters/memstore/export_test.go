package memstore

// ExpiryVisits returns how many flows s's expiry work has examined so far.
func ExpiryVisits(s *Flows) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.visits
}
