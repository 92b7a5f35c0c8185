package gateway_test

import (
	"net/http"
	"testing"
)

// TestNotifications: being added, removed or mentioned and a rename reach
// every session of the user as notification frames with their own seq,
// apart from conversation messages; only members are notified of mentions,
// never the sender; what arrived while offline is replayed on request.
func TestNotifications(t *testing.T) {
	for _, a := range adapters() {
		t.Run(a.name, func(t *testing.T) {
			st, _ := a.open(t)
			s := startStack(t, st)
			alice, bob, carol, dave := s.register("alice"), s.register("bob"), s.register("carol"), s.register("dave")
			conv := s.createGroup(alice, "news", carol)
			ca, b1, b2, cc, cd := s.connect(alice), s.connect(bob), s.connect(bob), s.connect(carol), s.connect(dave)
			isNote := func(kind string) func(frame) bool {
				return func(f frame) bool { return f.Type == "notification" && f.Kind == kind }
			}
			base := "/api/conversations/" + conv

			s.doJSON("POST", base+"/members", alice.Token, map[string]string{"username": "bob"}, http.StatusOK, nil) // seq 1: join
			for _, c := range []*client{b1, b2} {
				f := c.waitFor(isNote("added"), "added")
				if f.Seq != 1 || f.ConversationID != conv || f.ActorID != alice.ID || f.Title != "news" || f.MessageSeq != 1 {
					t.Fatalf("added notification %+v", f)
				}
			}
			ca.send(conv, "m1", "hey @Bob, @carol, @alice, @dave and @nobody; mail me at x@bob.example") // seq 2
			for _, c := range []*client{b1, b2} {
				if f := c.waitFor(isNote("mentioned"), "mentioned"); f.Seq != 2 || f.MessageSeq != 2 || f.ActorID != alice.ID {
					t.Fatalf("bob's mention %+v", f)
				}
			}
			if f := cc.waitFor(isNote("mentioned"), "carol mentioned"); f.Seq != 1 {
				t.Fatalf("carol's mention %+v, want her first notification", f)
			}
			s.doJSON("PATCH", base, alice.Token, map[string]string{"title": "breaking news"}, http.StatusOK, nil) // seq 3
			if f := b1.waitFor(isNote("renamed"), "renamed"); f.Seq != 3 || f.Title != "breaking news" {
				t.Fatalf("renamed %+v", f)
			}
			cc.waitFor(isNote("renamed"), "carol renamed")

			// Offline: removed, then nothing more from that conversation.
			_ = b1.ws.Close()
			_ = b2.ws.Close()
			s.doJSON("DELETE", base+"/members/"+bob.ID, alice.Token, nil, http.StatusOK, nil)
			s.doJSON("PATCH", base, alice.Token, map[string]string{"title": "no bob"}, http.StatusOK, nil)
			cc.waitFor(func(f frame) bool { return isNote("renamed")(f) && f.Title == "no bob" }, "second rename")

			b3 := s.connect(bob)
			done := b3.do(map[string]any{"type": "notifications", "afterSeq": 2})
			if done.Type != "notificationsSynced" || done.LastSeq != 4 || done.HasMore {
				t.Fatalf("replay ended with %+v, want lastSeq 4", done)
			}
			var replayed []frame
			for _, f := range b3.seen {
				if f.Type == "notification" {
					replayed = append(replayed, f)
				}
			}
			if len(replayed) != 2 || replayed[0].Kind != "renamed" || replayed[1].Kind != "removed" || replayed[1].Seq != 4 || replayed[1].ActorID != alice.ID {
				t.Fatalf("replayed %+v, want renamed (3) and removed (4)", replayed)
			}
			wantError(b3, b3.do(map[string]any{"type": "notifications", "afterSeq": -1}), "invalid", "negative afterSeq")

			// Never the sender, never non-members; no notification is a message.
			ca.send(conv, "m2", "@alice talking to myself") // a marker that reaches carol
			cc.waitFor(func(f frame) bool { return f.Type == "message" && f.ClientMsgID == "m2" }, "marker")
			for name, c := range map[string]*client{"alice": ca, "dave": cd} {
				for _, f := range c.seen {
					if f.Type == "notification" {
						t.Fatalf("%s got %+v", name, f)
					}
				}
			}
			for _, f := range cc.messages(conv) {
				if f.Kind == "" {
					t.Fatalf("message frame without kind: %+v", f)
				}
			}
		})
	}
}
