package gateway_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestReactions: members add and remove emoji on a message as sequenced
// events every session receives; history aggregates them per emoji; bad
// emoji, non-members and missing or deleted targets are refused and store
// nothing.
func TestReactions(t *testing.T) {
	for _, a := range adapters() {
		t.Run(a.name, func(t *testing.T) {
			st, _ := a.open(t)
			s := startStack(t, st)
			alice, bob, dave := s.register("alice"), s.register("bob"), s.register("dave")
			conv := s.createGroup(alice, "reactions", bob)
			s.createGroup(dave, "dave's")
			ca, cb, cd := s.connect(alice), s.connect(bob), s.connect(dave)
			react := func(c *client, typ, clientID string, target int64, emoji string) frame {
				return c.do(map[string]any{"type": typ, "conversationId": conv, "clientMsgId": clientID, "targetSeq": target, "emoji": emoji})
			}
			ok := func(f frame, what string) {
				t.Helper()
				if f.Type != "ack" {
					t.Fatalf("%s: %+v", what, f)
				}
			}
			ok(ca.send(conv, "m1", "react to me"), "send")
			ok(ca.send(conv, "m2", "delete me"), "send")
			ok(ca.do(map[string]any{"type": "delete", "conversationId": conv, "clientMsgId": "d2", "targetSeq": 2}), "delete") // seq 3
			ok(react(cb, "react", "r1", 1, "👍"), "bob 👍")                                                                      // 4
			ok(react(ca, "react", "r2", 1, "👍"), "alice 👍")                                                                    // 5
			ok(react(ca, "react", "r3", 1, "🎉"), "alice 🎉")                                                                    // 6
			ok(react(cb, "unreact", "r4", 1, "👍"), "bob un-👍")                                                                 // 7

			wantError(cd, react(cd, "react", "x1", 1, "👍"), "forbidden", "reacting as a non-member")
			wantError(ca, react(ca, "react", "x2", 1, strings.Repeat("😀", 5)), "invalid", "a 20-byte emoji")
			wantError(ca, react(ca, "react", "x3", 1, "a\u0007"), "invalid", "a control character")
			wantError(ca, react(ca, "react", "x4", 1, ""), "invalid", "an empty emoji")
			wantError(ca, react(ca, "react", "x5", 99, "👍"), "not_found", "reacting past the end")
			wantError(ca, react(ca, "react", "x6", 2, "👍"), "not_found", "reacting to a deleted message")
			wantError(ca, react(ca, "react", "x7", 4, "👍"), "not_found", "reacting to an event")

			for name, c := range map[string]*client{"alice": ca, "bob": cb} {
				msgs := c.waitMessages(conv, 7)
				if len(msgs) != 7 || msgs[3].Kind != "react" || msgs[3].TargetSeq != 1 || msgs[3].Body != "👍" || msgs[3].SenderID != bob.ID ||
					msgs[6].Kind != "unreact" {
					t.Fatalf("%s got %+v", name, msgs)
				}
			}

			want := map[string][]string{"👍": {alice.ID}, "🎉": {alice.ID}}
			check := func(what string, m frame) {
				t.Helper()
				if len(m.Reactions) != len(want) || m.UpdatedSeq != 7 {
					t.Fatalf("%s: reactions %v updatedSeq %d, want %v and 7", what, m.Reactions, m.UpdatedSeq, want)
				}
				for e, users := range want {
					if !slices.Equal(m.Reactions[e], users) {
						t.Fatalf("%s: reactions %v, want %v", what, m.Reactions, want)
					}
				}
			}
			var page struct{ Messages []frame }
			s.doJSON("GET", "/api/conversations/"+conv+"/messages", bob.Token, nil, http.StatusOK, &page)
			if len(page.Messages) != 7 {
				t.Fatalf("history has %d entries, want 7 (refusals store nothing)", len(page.Messages))
			}
			check("REST history", page.Messages[0])
			if len(page.Messages[1].Reactions) != 0 {
				t.Fatalf("deleted message shows reactions: %+v", page.Messages[1])
			}
			h := cb.do(map[string]any{"type": "history", "conversationId": conv, "beforeSeq": 0, "limit": 10})
			check("WS history", h.Messages[0])
		})
	}
}
