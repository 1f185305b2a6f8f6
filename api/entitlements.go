package api

func (s *Server) registerEntitlements() {}
