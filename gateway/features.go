package gateway

import "net/http"

// featureRoutes registers the REST endpoints of the features beyond plain
// messaging (presence, conversation management, …).
func (s *Server) featureRoutes() {
	auth := s.deps.Accounts.RequireAuth
	s.mux.Handle("GET /api/presence", auth(http.HandlerFunc(s.handlePresence)))
	s.mux.Handle("PATCH /api/conversations/{id}", auth(http.HandlerFunc(s.handleRename)))
	s.mux.Handle("PATCH /api/conversations/{id}/members/{userId}", auth(http.HandlerFunc(s.handleSetRole)))
}
