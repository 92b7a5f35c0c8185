package gateway

import (
	"net/http"
	"strings"

	"github.com/actorchat/engine/actors"
	"github.com/actorchat/engine/persistence"
)

type renameRequest struct {
	Title string `json:"title"`
}

// handleRename renames a group through its grain (owners and admins), which
// records a rename event.
func (s *Server) handleRename(w http.ResponseWriter, r *http.Request) {
	me, _ := UserFrom(r.Context())
	var req renameRequest
	if code, msg, ok := decodeJSON(w, r, &req, s.cfg.MaxRESTBody); !ok {
		writeError(w, code, msg)
		return
	}
	title := strings.TrimSpace(req.Title)
	if title == "" || !validTitle(title) {
		writeError(w, CodeInvalid, "title is required (at most 100 characters)")
		return
	}
	s.adminAndDetail(w, r, me, &actors.RenameConversation{ActorId: me.UserID, Title: title})
}

type roleRequest struct {
	Role string `json:"role"`
}

// handleSetRole changes a member's role through the grain (owners only),
// which records a role event.
func (s *Server) handleSetRole(w http.ResponseWriter, r *http.Request) {
	me, _ := UserFrom(r.Context())
	var req roleRequest
	if code, msg, ok := decodeJSON(w, r, &req, s.cfg.MaxRESTBody); !ok {
		writeError(w, code, msg)
		return
	}
	if req.Role != string(persistence.RoleMember) && req.Role != string(persistence.RoleAdmin) {
		writeError(w, CodeInvalid, `role must be "member" or "admin"`)
		return
	}
	s.adminAndDetail(w, r, me, &actors.SetMemberRole{ActorId: me.UserID, UserId: r.PathValue("userId"), Role: req.Role})
}

func validTitle(t string) bool {
	n := 0
	for range t {
		n++
	}
	return n <= actors.MaxTitleRunes
}
