package identity

// CacheServing reports whether the authentication cache answers (Run's
// listener is connected).
func (s *Service) CacheServing() bool {
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	return s.cache.serving
}
