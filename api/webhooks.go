package api

func (s *Server) registerWebhooks() {}
