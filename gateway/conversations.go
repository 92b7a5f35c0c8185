package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/actorchat/engine/actors"
	"github.com/actorchat/engine/persistence"
)

// Directory is the gateway's named read-side API over the store: lookups for
// REST responses and the read marker. Every write that changes a
// conversation goes through its grain instead.
type Directory interface {
	UserByID(ctx context.Context, id string) (persistence.User, error)
	UserByUsername(ctx context.Context, username string) (persistence.User, error)
	UsersByIDs(ctx context.Context, ids []string) ([]persistence.User, error)
	Conversation(ctx context.Context, id string) (persistence.Conversation, error)
	Member(ctx context.Context, conversationID, userID string) (persistence.Member, error)
	Members(ctx context.Context, conversationID string) ([]persistence.Member, error)
	MembersPage(ctx context.Context, conversationID string, after persistence.MemberKey, limit int) ([]persistence.Member, error)
	MemberCounts(ctx context.Context, conversationIDs []string) (map[string]int, error)
	UserMemberships(ctx context.Context, userID string) ([]persistence.Member, error)
	MarkRead(ctx context.Context, conversationID, userID string, seq int64) (int64, error)
	LastSeq(ctx context.Context, conversationID string) (int64, error)
	Messages(ctx context.Context, conversationID string, q persistence.MessageQuery) ([]persistence.Message, error)
	CountUnread(ctx context.Context, conversationID, userID string, afterSeq int64) (int64, error)
	Reactions(ctx context.Context, conversationID string, fromSeq, toSeq int64) ([]persistence.Reaction, error)
	persistence.Blobs // uploads and avatars: files are not conversation state
}

// Limits of conversation requests.
const (
	maxTitleRunes   = 100
	maxInitMembers  = 100
	maxRESTHistory  = 100
	defaultRESTPage = 50
	// Member lists are paged: a conversation's detail (also the answer to a
	// member change) carries the first detailMembers, GET …/members the rest,
	// so neither costs more in a 10,000-member room than in a small one.
	detailMembers     = 200
	defaultMemberPage = 100
	maxMemberPage     = 500
)

func (s *Server) conversationRoutes() {
	auth := s.deps.Accounts.RequireAuth
	h := func(pattern string, fn http.HandlerFunc) { s.mux.Handle(pattern, auth(fn)) }
	h("POST /api/conversations", s.handleCreateConversation)
	h("GET /api/conversations", s.handleListConversations)
	h("GET /api/conversations/{id}", s.handleGetConversation)
	h("GET /api/conversations/{id}/members", s.handleMembers)
	h("POST /api/conversations/{id}/members", s.handleAddMember)
	h("DELETE /api/conversations/{id}/members/{userId}", s.handleRemoveMember)
	h("POST /api/conversations/{id}/leave", s.handleLeave)
	h("GET /api/conversations/{id}/messages", s.handleMessages)
	h("POST /api/conversations/{id}/read", s.handleRead)
}

type createConversationRequest struct {
	Kind    string   `json:"kind"`    // "group" or "direct"
	Title   string   `json:"title"`   // groups
	Members []string `json:"members"` // usernames to add to a group
	With    string   `json:"with"`    // username of the other side of a DM
}

type conversationView struct {
	ID          string       `json:"id"`
	Kind        string       `json:"kind"`
	Title       string       `json:"title"`
	CreatedBy   string       `json:"createdBy"`
	CreatedAt   string       `json:"createdAt"`
	Members     []memberView `json:"members,omitempty"`
	MemberCount int          `json:"memberCount,omitempty"` // in details: all members, also those past Members
	MembersNext string       `json:"membersNext,omitempty"` // in details: the cursor for GET …/members when Members is not all
	LastSeq     int64        `json:"lastSeq"`
	LastReadSeq int64        `json:"lastReadSeq"`
	Unread      int64        `json:"unread"`
	LastMessage *wireMessage `json:"lastMessage,omitempty"`
	Role        string       `json:"role,omitempty"`
	Peer        *accountUser `json:"peer,omitempty"`
}

type memberView struct {
	UserID      string `json:"userId"`
	Username    string `json:"username"`
	DisplayName string `json:"displayName"`
	Role        string `json:"role"`
	JoinedAt    string `json:"joinedAt"`
	LastReadSeq int64  `json:"lastReadSeq"`
}

func (s *Server) handleCreateConversation(w http.ResponseWriter, r *http.Request) {
	me, _ := UserFrom(r.Context())
	var req createConversationRequest
	if code, msg, ok := decodeJSON(w, r, &req, s.cfg.MaxRESTBody); !ok {
		writeError(w, code, msg)
		return
	}
	switch req.Kind {
	case string(persistence.KindGroup):
		s.createGroup(w, r, me, req)
	case string(persistence.KindDirect):
		s.createDirect(w, r, me, req)
	default:
		writeError(w, CodeInvalid, `kind must be "group" or "direct"`)
	}
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, me Claims, req createConversationRequest) {
	title := strings.TrimSpace(req.Title)
	if title == "" || !utf8.ValidString(title) || utf8.RuneCountInString(title) > maxTitleRunes {
		writeError(w, CodeInvalid, "title is required (at most 100 characters)")
		return
	}
	if len(req.Members) > maxInitMembers {
		writeError(w, CodeInvalid, "too many initial members (at most 100)")
		return
	}
	specs := []*actors.MemberSpec{{UserId: me.UserID, Role: string(persistence.RoleOwner)}}
	seen := map[string]bool{me.UserID: true}
	for _, name := range req.Members {
		u, ok := s.lookupUsername(w, r, name)
		if !ok {
			return
		}
		if !seen[u.ID] {
			seen[u.ID] = true
			specs = append(specs, &actors.MemberSpec{UserId: u.ID, Role: string(persistence.RoleMember)})
		}
	}
	id := newConversationID()
	s.create(w, r, me, id, &actors.CreateConversation{Kind: string(persistence.KindGroup), Title: title, CreatedBy: me.UserID, Members: specs})
}

func (s *Server) createDirect(w http.ResponseWriter, r *http.Request, me Claims, req createConversationRequest) {
	peer, ok := s.lookupUsername(w, r, req.With)
	if !ok {
		return
	}
	if peer.ID == me.UserID {
		writeError(w, CodeInvalid, "cannot start a direct conversation with yourself")
		return
	}
	key := dmKey(me.UserID, peer.ID)
	sum := sha256.Sum256([]byte(key))
	id := "dm_" + hex.EncodeToString(sum[:16]) // one grain per pair: concurrent creates serialize there
	s.create(w, r, me, id, &actors.CreateConversation{Kind: string(persistence.KindDirect), DmKey: key, CreatedBy: me.UserID,
		Members: []*actors.MemberSpec{{UserId: me.UserID, Role: string(persistence.RoleMember)}, {UserId: peer.ID, Role: string(persistence.RoleMember)}}})
}

// create asks the new conversation's grain to create it, then answers with
// the conversation (201), or the existing DM (200).
func (s *Server) create(w http.ResponseWriter, r *http.Request, me Claims, id string, msg *actors.CreateConversation) {
	status := http.StatusCreated
	if code := s.admin(r.Context(), id, msg); code != "" {
		if code != actors.CodeConflict || msg.Kind != string(persistence.KindDirect) {
			writeAdminError(w, code)
			return
		}
		status = http.StatusOK // the DM exists already
	}
	view, err := s.conversationDetail(r.Context(), id, me.UserID)
	if err != nil {
		s.storeError(w, "conversation detail", err)
		return
	}
	writeJSON(w, status, view)
}

func dmKey(a, b string) string {
	if a > b {
		a, b = b, a
	}
	return a + ":" + b
}

func (s *Server) lookupUsername(w http.ResponseWriter, r *http.Request, name string) (persistence.User, bool) {
	norm, ok := normaliseUsername(name)
	if !ok {
		writeError(w, CodeInvalid, "invalid username")
		return persistence.User{}, false
	}
	u, err := s.deps.Directory.UserByUsername(r.Context(), norm)
	if errors.Is(err, persistence.ErrNotFound) {
		writeError(w, CodeNotFound, "no such user")
		return u, false
	}
	if err != nil {
		s.storeError(w, "lookup user", err)
		return u, false
	}
	return u, true
}

// admin sends a membership request to a grain and returns its error code.
func (s *Server) admin(ctx context.Context, id string, msg any) string {
	res, err := s.deps.Grains.Request(id, msg)
	if err != nil {
		s.log.Warn("grain request failed", "conv_id", id, "err", err)
		return actors.CodeUnavailable
	}
	out, ok := res.(*actors.AdminResult)
	if !ok {
		return actors.CodeInternal
	}
	return out.ErrorCode
}

func writeAdminError(w http.ResponseWriter, code string) {
	msgs := map[string]string{
		actors.CodeForbidden:   "not allowed",
		actors.CodeNotFound:    "not found",
		actors.CodeConflict:    "conflicts with the current state",
		actors.CodeInvalid:     "invalid request",
		actors.CodeUnavailable: "temporarily unavailable; retry",
	}
	msg, ok := msgs[code]
	if !ok {
		code, msg = actors.CodeInternal, "internal error"
	}
	writeError(w, Code(code), msg)
}

func (s *Server) storeError(w http.ResponseWriter, op string, err error) {
	if errors.Is(err, persistence.ErrNotFound) {
		writeError(w, CodeNotFound, "not found")
		return
	}
	s.log.Warn("store call failed", "op", op, "err", err)
	writeError(w, CodeUnavailable, "temporarily unavailable; retry")
}

func newConversationID() string {
	return "c_" + strings.ReplaceAll(uuid.NewString(), "-", "")
}

func millis(t time.Time) string { return formatMillis(t.UnixMilli()) }

func parseSeq(v string) (int64, bool) {
	if v == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n >= 0
}

func sortByActivity(list []conversationView) {
	sort.SliceStable(list, func(i, j int) bool { return activity(list[i]) > activity(list[j]) })
}

func activity(v conversationView) string {
	if v.LastMessage != nil {
		return v.LastMessage.CreatedAt
	}
	return v.CreatedAt
}
