package gateway_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestConversationManagement: renames, joins, role changes, removals and
// leaves are sequenced events every member sees and history keeps; only
// owners/admins may rename, only owners change roles; a removed member stops
// receiving at once (messages, typing, presence of that conversation).
func TestConversationManagement(t *testing.T) {
	for _, a := range adapters() {
		t.Run(a.name, func(t *testing.T) {
			st, _ := a.open(t)
			s := startStack(t, st)
			alice, bob, carol, dave := s.register("alice"), s.register("bob"), s.register("carol"), s.register("dave")
			conv := s.createGroup(alice, "team", bob)
			ca, cb, cc := s.connect(alice), s.connect(bob), s.connect(carol)
			base := "/api/conversations/" + conv
			ca.send(conv, "m1", "hi") // seq 1

			s.doJSON("POST", base+"/members", alice.Token, map[string]string{"username": "carol"}, http.StatusOK, nil) // 2 join
			cc.waitFor(func(f frame) bool { return f.Type == "membership" && f.Joined }, "carol joined")
			s.doJSON("POST", base+"/members", alice.Token, map[string]string{"username": "dave"}, http.StatusOK, nil) // 3 join
			var detail struct{ Title string }
			s.doJSON("PATCH", base, alice.Token, map[string]string{"title": "  Renamed team  "}, http.StatusOK, &detail) // 4 rename
			if detail.Title != "Renamed team" {
				t.Fatalf("title after rename: %q", detail.Title)
			}
			s.doJSON("PATCH", base, bob.Token, map[string]string{"title": "bob's"}, http.StatusForbidden, nil)
			s.doJSON("PATCH", base, alice.Token, map[string]string{"title": strings.Repeat("x", 101)}, http.StatusBadRequest, nil)
			s.doJSON("PATCH", base+"/members/"+carol.ID, alice.Token, map[string]string{"role": "admin"}, http.StatusOK, nil) // 5 role
			s.doJSON("PATCH", base+"/members/"+bob.ID, carol.Token, map[string]string{"role": "admin"}, http.StatusForbidden, nil)
			s.doJSON("PATCH", base+"/members/"+alice.ID, alice.Token, map[string]string{"role": "member"}, http.StatusForbidden, nil)
			s.doJSON("PATCH", base+"/members/"+carol.ID, alice.Token, map[string]string{"role": "owner"}, http.StatusBadRequest, nil)

			// Dave is online and shares only this conversation with bob.
			cd := s.connect(dave)
			cb.waitFor(func(f frame) bool { return f.Type == "presence" && f.UserID == dave.ID && f.Status == "online" }, "dave online")

			s.doJSON("DELETE", base+"/members/"+bob.ID, carol.Token, nil, http.StatusOK, nil) // 6 remove (by admin carol)
			if f := cb.waitFor(func(f frame) bool { return f.Type == "message" && f.Kind == "remove" }, "removal event"); f.SubjectID != bob.ID || f.SenderID != carol.ID {
				t.Fatalf("removal event %+v", f)
			}
			cb.waitFor(func(f frame) bool { return f.Type == "membership" && !f.Joined }, "bob removed")
			removedAt := len(cb.seen)

			ca.writeJSON(map[string]any{"type": "typing", "conversationId": conv})
			cc.waitFor(func(f frame) bool { return f.Type == "typing" && f.UserID == alice.ID }, "alice typing to carol")
			_ = cd.ws.Close()
			ca.waitFor(func(f frame) bool { return f.Type == "presence" && f.UserID == dave.ID && f.Status == "offline" }, "dave offline")
			s.doJSON("POST", base+"/leave", carol.Token, nil, http.StatusNoContent, nil) // 7 leave (carol, admin)
			ca.send(conv, "m2", "after")                                                 // 8
			ca.waitMessages(conv, 8)
			// Bob's session has handled everything sent to it before this reply.
			wantError(cb, cb.do(map[string]any{"type": "sync", "conversationId": conv, "afterSeq": 0}), "forbidden", "removed member's sync")
			for _, f := range cb.seen[removedAt:] {
				if f.Type == "typing" || f.Type == "message" || (f.Type == "presence" && f.UserID == dave.ID) {
					t.Fatalf("removed member still received %+v", f)
				}
			}

			// History shows who joined, left, was renamed, when, in order.
			var page struct{ Messages []frame }
			s.doJSON("GET", base+"/messages", alice.Token, nil, http.StatusOK, &page)
			var got []string
			for _, m := range page.Messages {
				got = append(got, m.Kind+":"+name(m.SubjectID, alice, bob, carol, dave)+":"+m.Body)
			}
			want := "message::hi join:carol:member join:dave:member rename::Renamed team role:carol:admin remove:bob: leave:: message::after"
			if strings.Join(got, " ") != want {
				t.Fatalf("history:\n got %s\nwant %s", strings.Join(got, " "), want)
			}
			for _, c := range []*client{ca} {
				msgs := c.waitMessages(conv, 8)
				if msgs[3].Kind != "rename" || msgs[3].Body != "Renamed team" || msgs[6].Kind != "leave" || msgs[6].SenderID != carol.ID {
					t.Fatalf("live events: %+v", msgs)
				}
			}
		})
	}
}

// name maps a user id to its test user's name ("" stays "").
func name(id string, users ...user) string {
	for _, u := range users {
		if u.ID == id {
			return u.Name
		}
	}
	return id
}
