package api

func (s *Server) registerClaims() {}
