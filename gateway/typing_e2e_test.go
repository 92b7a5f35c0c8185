package gateway_test

import (
	"net/http"
	"testing"
	"time"
)

// TestTypingReachesOtherMembersOnly: typing reaches the other members'
// sessions, not the typer's own devices and not non-members; it is throttled
// per user across devices, never stored, and refused for non-members.
func TestTypingReachesOtherMembersOnly(t *testing.T) {
	for _, a := range adapters() {
		t.Run(a.name, func(t *testing.T) {
			st, _ := a.open(t)
			s := startStack(t, st)
			alice, bob, carol, dave := s.register("alice"), s.register("bob"), s.register("carol"), s.register("dave")
			conv := s.createGroup(alice, "typing", bob, carol)
			other := s.createGroup(dave, "dave's", alice)
			a1, a2, cb, cc, cd := s.connect(alice), s.connect(alice), s.connect(bob), s.connect(carol), s.connect(dave)
			isTyping := func(f frame) bool { return f.Type == "typing" }

			// Three signals from two of alice's devices inside the interval:
			// forwarded once.
			a1.writeJSON(map[string]any{"type": "typing", "conversationId": conv})
			a1.writeJSON(map[string]any{"type": "typing", "conversationId": conv})
			a2.writeJSON(map[string]any{"type": "typing", "conversationId": conv})
			if f := a1.send(conv, "m1", "after typing"); f.Type != "ack" {
				t.Fatalf("send: %+v", f)
			}
			for name, c := range map[string]*client{"bob": cb, "carol": cc} {
				c.waitMessages(conv, 1)
				var got []frame
				for _, f := range c.seen {
					if isTyping(f) {
						got = append(got, f)
					}
				}
				if len(got) != 1 || got[0].ConversationID != conv || got[0].UserID != alice.ID {
					t.Fatalf("%s got typing frames %+v before the message, want exactly one from alice", name, got)
				}
			}
			// Not to alice's own devices.
			for _, c := range []*client{a1, a2} {
				c.waitMessages(conv, 1)
				for _, f := range c.seen {
					if isTyping(f) {
						t.Fatalf("alice's own session got %+v", f)
					}
				}
			}

			// Non-members: refused, and never told.
			wantError(cd, cd.do(map[string]any{"type": "typing", "conversationId": conv}), "forbidden", "non-member typing")
			wantError(cb, cb.do(map[string]any{"type": "typing", "conversationId": other}), "forbidden", "typing in a conversation bob is not in")
			cd.send(other, "d1", "dave's own conversation")
			cd.waitMessages(other, 1)
			for _, f := range cd.seen {
				if isTyping(f) {
					t.Fatalf("non-member dave got %+v", f)
				}
			}

			// After the interval bob's typing goes through (poll: signal until seen).
			deadline := time.Now().Add(15 * time.Second)
			for seen := false; !seen; {
				if time.Now().After(deadline) {
					t.Fatal("bob's typing never reached alice")
				}
				cb.writeJSON(map[string]any{"type": "typing", "conversationId": conv})
				cb.writeJSON(map[string]any{"type": "ping", "id": "p"})
				cb.waitFor(func(f frame) bool { return f.Type == "pong" }, "pong")
				select {
				case f := <-a1.frames:
					a1.seen = append(a1.seen, f)
					seen = isTyping(f) && f.UserID == bob.ID
				case <-time.After(300 * time.Millisecond):
				}
			}

			// Never stored: history holds the message only.
			var page struct{ Messages []frame }
			s.doJSON("GET", "/api/conversations/"+conv+"/messages", alice.Token, nil, http.StatusOK, &page)
			if len(page.Messages) != 1 {
				t.Fatalf("history has %d entries, want 1 (typing is never stored)", len(page.Messages))
			}
		})
	}
}
