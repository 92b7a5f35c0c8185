package gateway

import "net/http"

// featureRoutes registers the REST endpoints of the features beyond plain
// messaging (presence, …).
func (s *Server) featureRoutes() {
	auth := s.deps.Accounts.RequireAuth
	s.mux.Handle("GET /api/presence", auth(http.HandlerFunc(s.handlePresence)))
}
