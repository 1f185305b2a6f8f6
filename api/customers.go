package api

func (s *Server) registerCustomers() {}
