package gateway

import "net/http"

// featureRoutes registers the REST endpoints of the features beyond plain
// messaging (presence, conversation management, uploads, …).
func (s *Server) featureRoutes() {
	auth := s.deps.Accounts.RequireAuth
	s.mux.Handle("GET /api/presence", auth(http.HandlerFunc(s.handlePresence)))
	s.mux.Handle("PATCH /api/conversations/{id}", auth(http.HandlerFunc(s.handleRename)))
	s.mux.Handle("PATCH /api/conversations/{id}/members/{userId}", auth(http.HandlerFunc(s.handleSetRole)))
	s.mux.Handle("POST /api/uploads", auth(http.HandlerFunc(s.handleUpload)))
	s.mux.Handle("GET /api/uploads/{id}", auth(http.HandlerFunc(s.handleDownload)))
	s.mux.Handle("PUT /api/me/avatar", auth(http.HandlerFunc(s.handleSetAvatar)))
	s.mux.Handle("GET /api/users/{id}/avatar", auth(http.HandlerFunc(s.handleAvatar)))
}
