package api

func (s *Server) registerCustomers() {
	s.registerStorefronts()
}
