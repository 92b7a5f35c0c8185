package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/actorchat/engine/actors"
	"github.com/actorchat/engine/persistence"
)

// member returns the caller's membership of the path's conversation, or
// answers forbidden/unavailable and returns false.
func (s *Server) member(w http.ResponseWriter, r *http.Request) (persistence.Member, bool) {
	me, _ := UserFrom(r.Context())
	m, err := s.deps.Directory.Member(r.Context(), r.PathValue("id"), me.UserID)
	if errors.Is(err, persistence.ErrNotFound) {
		writeError(w, CodeForbidden, "not a member of this conversation")
		return m, false
	}
	if err != nil {
		s.storeError(w, "member", err)
		return m, false
	}
	return m, true
}

func (s *Server) handleListConversations(w http.ResponseWriter, r *http.Request) {
	me, _ := UserFrom(r.Context())
	ms, err := s.deps.Directory.UserMemberships(r.Context(), me.UserID)
	if err != nil {
		s.storeError(w, "memberships", err)
		return
	}
	list := make([]conversationView, 0, len(ms))
	for _, m := range ms {
		v, err := s.summary(r.Context(), m)
		if errors.Is(err, persistence.ErrNotFound) {
			continue // membership written before its conversation: not visible yet
		}
		if err != nil {
			s.storeError(w, "conversation summary", err)
			return
		}
		list = append(list, v)
	}
	sortByActivity(list)
	writeJSON(w, http.StatusOK, map[string]any{"conversations": list})
}

// previewWindow is how many of the newest entries the list reads to find
// the last chat message.
const previewWindow = 20

// summary is one row of the conversation list.
func (s *Server) summary(ctx context.Context, m persistence.Member) (conversationView, error) {
	d := s.deps.Directory
	c, err := d.Conversation(ctx, m.ConversationID)
	if err != nil {
		return conversationView{}, err
	}
	v := conversationView{ID: c.ID, Kind: string(c.Kind), Title: c.Title, CreatedBy: c.CreatedBy,
		CreatedAt: millis(c.CreatedAt), LastReadSeq: m.LastReadSeq, Role: string(m.Role)}
	// The newest entries: the last seq, and the last chat message among
	// them for the preview (events such as edits and reactions are not one).
	last, err := d.Messages(ctx, c.ID, persistence.MessageQuery{Limit: previewWindow})
	if err != nil {
		return v, err
	}
	if len(last) > 0 {
		v.LastSeq = last[len(last)-1].Seq
	}
	for i := len(last) - 1; i >= 0; i-- {
		if last[i].Kind == persistence.KindMessage {
			wm := toWireMessage(toChat(last[i]), "")
			v.LastMessage = &wm
			break
		}
	}
	if v.LastSeq > v.LastReadSeq {
		if v.Unread, err = d.CountUnread(ctx, c.ID, m.UserID, v.LastReadSeq); err != nil {
			return v, err
		}
	}
	if c.Kind == persistence.KindDirect {
		v.Peer, err = s.dmPeer(ctx, c.ID, m.UserID)
	}
	return v, err
}

func (s *Server) dmPeer(ctx context.Context, convID, me string) (*accountUser, error) {
	ms, err := s.deps.Directory.Members(ctx, convID)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.UserID != me {
			u, err := s.deps.Directory.UserByID(ctx, m.UserID)
			if err != nil {
				return nil, err
			}
			p := publicUser(u)
			return &p, nil
		}
	}
	return nil, nil
}

func (s *Server) handleGetConversation(w http.ResponseWriter, r *http.Request) {
	me, _ := UserFrom(r.Context())
	if _, ok := s.member(w, r); !ok {
		return
	}
	v, err := s.conversationDetail(r.Context(), r.PathValue("id"), me.UserID)
	if err != nil {
		s.storeError(w, "conversation detail", err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// conversationDetail is a conversation with its first detailMembers
// members and its member count, as userID sees it.
func (s *Server) conversationDetail(ctx context.Context, id, userID string) (conversationView, error) {
	d := s.deps.Directory
	m, err := d.Member(ctx, id, userID)
	if err != nil {
		return conversationView{}, err
	}
	v, err := s.summary(ctx, m)
	if err != nil {
		return v, err
	}
	if v.Members, v.MembersNext, err = s.membersPage(ctx, id, persistence.MemberKey{}, detailMembers); err != nil {
		return v, err
	}
	v.MemberCount = len(v.Members)
	if v.MembersNext != "" {
		counts, err := d.MemberCounts(ctx, []string{id})
		if err != nil {
			return v, err
		}
		v.MemberCount = counts[id]
	}
	return v, nil
}

// membersPage returns up to limit members after the given position, with
// their names, and the cursor of the next page ("" at the end).
func (s *Server) membersPage(ctx context.Context, convID string, after persistence.MemberKey, limit int) ([]memberView, string, error) {
	d := s.deps.Directory
	ms, err := d.MembersPage(ctx, convID, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ms) > limit {
		ms = ms[:limit]
		next = memberCursor(ms[limit-1].Key())
	}
	ids := make([]string, len(ms))
	for i, mm := range ms {
		ids[i] = mm.UserID
	}
	users, err := d.UsersByIDs(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	byID := make(map[string]persistence.User, len(users))
	for _, u := range users {
		byID[u.ID] = u
	}
	views := make([]memberView, 0, len(ms))
	for _, mm := range ms {
		u := byID[mm.UserID]
		views = append(views, memberView{UserID: mm.UserID, Username: u.Username, DisplayName: u.DisplayName,
			Role: string(mm.Role), JoinedAt: millis(mm.JoinedAt), LastReadSeq: mm.LastReadSeq})
	}
	return views, next, nil
}

// memberCursor is an opaque position in a member list: the join time in
// unix milliseconds and the user id.
func memberCursor(k persistence.MemberKey) string {
	return strconv.FormatInt(k.JoinedAt.UnixMilli(), 10) + "." + k.UserID
}

func parseMemberCursor(v string) (persistence.MemberKey, bool) {
	if v == "" {
		return persistence.MemberKey{}, true
	}
	ms, user, ok := strings.Cut(v, ".")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || n < 0 || user == "" || len(user) > maxIDLen {
		return persistence.MemberKey{}, false
	}
	return persistence.MemberKey{JoinedAt: time.UnixMilli(n), UserID: user}, true
}

// handleMembers pages through a conversation's members in join order.
func (s *Server) handleMembers(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.member(w, r); !ok {
		return
	}
	q := r.URL.Query()
	after, ok1 := parseMemberCursor(q.Get("after"))
	limit, ok2 := parseSeq(q.Get("limit"))
	if !ok1 || !ok2 || limit > maxMemberPage {
		writeError(w, CodeInvalid, fmt.Sprintf("after must be a cursor from a previous page and limit at most %d", maxMemberPage))
		return
	}
	if limit == 0 {
		limit = defaultMemberPage
	}
	members, next, err := s.membersPage(r.Context(), r.PathValue("id"), after, int(limit))
	if err != nil {
		s.storeError(w, "members", err)
		return
	}
	writeJSON(w, http.StatusOK, membersPageView{Members: members, Next: next})
}

type membersPageView struct {
	Members []memberView `json:"members"`
	Next    string       `json:"next,omitempty"`
}

type addMemberRequest struct {
	Username string `json:"username"`
	Role     string `json:"role"`
}

func (s *Server) handleAddMember(w http.ResponseWriter, r *http.Request) {
	me, _ := UserFrom(r.Context())
	var req addMemberRequest
	if code, msg, ok := decodeJSON(w, r, &req, s.cfg.MaxRESTBody); !ok {
		writeError(w, code, msg)
		return
	}
	if req.Role != "" && req.Role != string(persistence.RoleMember) && req.Role != string(persistence.RoleAdmin) {
		writeError(w, CodeInvalid, `role must be "member" or "admin"`)
		return
	}
	u, ok := s.lookupUsername(w, r, req.Username)
	if !ok {
		return
	}
	s.adminAndDetail(w, r, me, &actors.AddMember{ActorId: me.UserID, UserId: u.ID, Role: req.Role})
}

func (s *Server) handleRemoveMember(w http.ResponseWriter, r *http.Request) {
	me, _ := UserFrom(r.Context())
	s.adminAndDetail(w, r, me, &actors.RemoveMember{ActorId: me.UserID, UserId: r.PathValue("userId")})
}

func (s *Server) handleLeave(w http.ResponseWriter, r *http.Request) {
	me, _ := UserFrom(r.Context())
	if code := s.admin(r.Context(), r.PathValue("id"), &actors.RemoveMember{ActorId: me.UserID, UserId: me.UserID}); code != "" {
		writeAdminError(w, code)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) adminAndDetail(w http.ResponseWriter, r *http.Request, me Claims, msg any) {
	id := r.PathValue("id")
	if len(id) > maxIDLen {
		writeError(w, CodeInvalid, "invalid conversation id")
		return
	}
	if code := s.admin(r.Context(), id, msg); code != "" {
		writeAdminError(w, code)
		return
	}
	v, err := s.conversationDetail(r.Context(), id, me.UserID)
	if err != nil {
		s.storeError(w, "conversation detail", err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handleMessages(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.member(w, r); !ok {
		return
	}
	q := r.URL.Query()
	before, ok1 := parseSeq(q.Get("before"))
	after, ok2 := parseSeq(q.Get("after"))
	limit, ok3 := parseSeq(q.Get("limit"))
	if !ok1 || !ok2 || !ok3 || (before > 0 && after > 0) {
		writeError(w, CodeInvalid, "before, after and limit must be non-negative integers; give at most one of before and after")
		return
	}
	if limit == 0 {
		limit = defaultRESTPage
	}
	if limit > maxRESTHistory {
		limit = maxRESTHistory
	}
	// ?after=0 means from the start; no after and no before, the latest page.
	forward := q.Has("after")
	msgs, err := s.deps.Directory.Messages(r.Context(), r.PathValue("id"), persistence.MessageQuery{Before: before, After: after, FromStart: forward, Limit: int(limit)})
	if err != nil {
		s.storeError(w, "messages", err)
		return
	}
	page, err := actors.WithReactions(r.Context(), s.deps.Directory, msgs)
	if err != nil {
		s.storeError(w, "reactions", err)
		return
	}
	out := make([]wireMessage, 0, len(page))
	for _, m := range page {
		out = append(out, toWireMessage(m, ""))
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": out})
}

type readRequest struct {
	Seq int64 `json:"seq"`
}

// handleRead moves the caller's read marker through the conversation's
// grain, which stores it and sends the receipt to the members' sessions.
func (s *Server) handleRead(w http.ResponseWriter, r *http.Request) {
	me, _ := UserFrom(r.Context())
	var req readRequest
	if code, msg, ok := decodeJSON(w, r, &req, s.cfg.MaxRESTBody); !ok {
		writeError(w, code, msg)
		return
	}
	id := r.PathValue("id")
	if len(id) > maxIDLen {
		writeError(w, CodeInvalid, "invalid conversation id")
		return
	}
	res, err := s.deps.Grains.Request(id, &actors.MarkRead{UserId: me.UserID, Seq: req.Seq})
	if err != nil {
		s.log.Warn("grain request failed", "conv_id", id, "err", err)
		writeError(w, CodeUnavailable, "temporarily unavailable; retry")
		return
	}
	out, ok := res.(*actors.MarkReadResult)
	switch {
	case !ok:
		writeError(w, CodeInternal, "internal error")
	case out.ErrorCode == actors.CodeInvalid:
		writeError(w, CodeInvalid, "seq must be between 0 and the conversation's last seq")
	case out.ErrorCode == actors.CodeNotFound:
		writeError(w, CodeForbidden, "not a member of this conversation")
	case out.ErrorCode != "":
		writeAdminError(w, out.ErrorCode)
	default:
		writeJSON(w, http.StatusOK, map[string]int64{"lastReadSeq": out.LastReadSeq})
	}
}

// toChat converts a stored message for encoding.
func toChat(m persistence.Message) *actors.ChatMessage { return actors.ChatMessageOf(m) }
