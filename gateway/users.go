package gateway

import (
	"net/http"
	"strings"
)

// maxUserLookup caps one batch user lookup.
const maxUserLookup = 100

func (s *Server) userRoutes() {
	auth := s.deps.Accounts.RequireAuth
	s.mux.Handle("GET /api/users/{id}", auth(http.HandlerFunc(s.handleUser)))
	s.mux.Handle("GET /api/users", auth(http.HandlerFunc(s.handleUsers)))
}

// handleUser answers one user's public profile (id, username, display name):
// a client needs it to name the sender of a message who has left.
func (s *Server) handleUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.deps.Directory.UserByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.storeError(w, "user by id", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": publicUser(u)})
}

// handleUsers answers the public profiles of ?ids=a,b,c (at most 100; unknown ids are left out).
func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request) {
	var ids []string
	for _, id := range strings.Split(r.URL.Query().Get("ids"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 || len(ids) > maxUserLookup {
		writeError(w, CodeInvalid, "ids must list 1 to 100 user ids")
		return
	}
	users, err := s.deps.Directory.UsersByIDs(r.Context(), ids)
	if err != nil {
		s.storeError(w, "users by ids", err)
		return
	}
	out := make([]accountUser, 0, len(users))
	for _, u := range users {
		out = append(out, publicUser(u))
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
}
