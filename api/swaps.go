package api

func (s *Server) registerSwaps() {}
