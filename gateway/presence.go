package gateway

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/actorchat/engine/actors"
	"github.com/actorchat/engine/persistence"
)

// maxPresenceIDs caps the ids of one presence query.
const maxPresenceIDs = 50

type presenceView struct {
	UserID   string `json:"userId"`
	Status   string `json:"status"` // "online" or "offline"
	LastSeen string `json:"lastSeen,omitempty"`
}

// handlePresence answers GET /api/presence?ids=a,b,…: the presence of each
// listed user who shares a conversation with the caller (or is the caller);
// the others are left out, so the answer tells nothing about strangers.
func (s *Server) handlePresence(w http.ResponseWriter, r *http.Request) {
	me, _ := UserFrom(r.Context())
	var ids []string
	for _, id := range strings.Split(r.URL.Query().Get("ids"), ",") {
		if id = strings.TrimSpace(id); id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 || len(ids) > maxPresenceIDs || slices.ContainsFunc(ids, func(id string) bool { return len(id) > maxIDLen }) {
		writeError(w, CodeInvalid, "ids: 1 to 50 comma-separated user ids")
		return
	}
	if s.deps.Users == nil {
		writeError(w, CodeUnavailable, "presence unavailable")
		return
	}
	visible, err := s.sharingWith(r, me.UserID, ids)
	if err != nil {
		s.storeError(w, "presence audience", err)
		return
	}
	out := make([]presenceView, len(visible))
	var wg sync.WaitGroup
	var failed sync.Once
	ok := true // written at most once, under failed, read after wg.Wait
	for i, id := range visible {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := s.deps.Users.RequestUser(id, &actors.GetPresence{})
			st, isState := res.(*actors.PresenceState)
			if err != nil || !isState {
				failed.Do(func() { ok = false })
				return
			}
			out[i] = toPresenceView(id, st)
		}()
	}
	wg.Wait()
	if !ok {
		writeError(w, CodeUnavailable, "temporarily unavailable; retry")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"presence": out})
}

func toPresenceView(id string, st *actors.PresenceState) presenceView {
	v := presenceView{UserID: id, Status: "offline"}
	if st.Online {
		v.Status = "online"
	}
	if st.LastSeenMs > 0 {
		v.LastSeen = formatMillis(st.LastSeenMs)
	}
	return v
}

// sharingWith returns the ids (in order) that are the caller or share a
// conversation with the caller.
func (s *Server) sharingWith(r *http.Request, me string, ids []string) ([]string, error) {
	d := s.deps.Directory
	mine, err := d.UserMemberships(r.Context(), me)
	if err != nil {
		return nil, err
	}
	convs := make(map[string]bool, len(mine))
	for _, m := range mine {
		convs[m.ConversationID] = true
	}
	var out []string
	for _, id := range ids {
		if id == me {
			out = append(out, id)
			continue
		}
		theirs, err := d.UserMemberships(r.Context(), id)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(theirs, func(m persistence.Member) bool { return convs[m.ConversationID] }) {
			out = append(out, id)
		}
	}
	return out, nil
}

// presenceLastSeen formats a presence event's lastSeen ("" when unknown).
func presenceLastSeen(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatMillis(t.UnixMilli())
}
