package api

func (s *Server) registerPayouts() {}
