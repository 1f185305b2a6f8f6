package api

func (s *Server) registerContracts() {}
