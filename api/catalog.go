package api

func (s *Server) registerCatalog() {}
