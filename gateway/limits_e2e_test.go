package gateway_test

import (
	"fmt"
	"testing"

	"github.com/actorchat/engine/gateway"
)

// TestRateLimits: sends over the per-connection and per-user limits, typing
// over its limit and connections over the per-user cap are refused with
// rate_limited (4005 for the connection), and nothing refused is stored.
func TestRateLimits(t *testing.T) {
	for _, a := range adapters() {
		t.Run(a.name, func(t *testing.T) {
			st, _ := a.open(t)
			s := startStack(t, st, func(c *gateway.Config) {
				c.Limits = gateway.Limits{
					SendRate: 0.001, SendBurst: 3, UserSendRate: 0.001, UserSendBurst: 5,
					TypingRate: 0.001, TypingBurst: 2, UserTypingRate: 1000, UserTypingBurst: 1000,
					MaxConnsPerUser: 2,
				}
			})
			alice, bob := s.register("alice"), s.register("bob")
			conv := s.createGroup(alice, "limits", bob)
			a1, a2 := s.connect(alice), s.connect(alice)

			// Per connection: 3 of 5 go through.
			var acked, limited int
			for i := range 5 {
				switch f := a1.send(conv, fmt.Sprint("a1-", i), "hi"); {
				case f.Type == "ack":
					acked++
				case f.Type == "error" && f.Code == "rate_limited":
					limited++
				default:
					t.Fatalf("send %d: %+v", i, f)
				}
			}
			if acked != 3 || limited != 2 {
				t.Fatalf("one connection: %d acked, %d rate limited; want 3 and 2", acked, limited)
			}
			// Per user: the second connection has its own burst but the user
			// only 2 sends left.
			acked, limited = 0, 0
			for i := range 3 {
				if f := a2.send(conv, fmt.Sprint("a2-", i), "hi"); f.Type == "ack" {
					acked++
				} else if f.Code == "rate_limited" {
					limited++
				}
			}
			if acked != 2 || limited != 1 {
				t.Fatalf("second connection: %d acked, %d rate limited; want 2 and 1 (user burst 5)", acked, limited)
			}
			if last, err := s.store.LastSeq(t.Context(), conv); err != nil || last != 5 {
				t.Fatalf("last seq %d (%v), want 5: refused sends must store nothing", last, err)
			}
			// Edits and reactions count as sends.
			wantError(a1, a1.do(map[string]any{"type": "react", "conversationId": conv, "clientMsgId": "r", "targetSeq": 1, "emoji": "👍"}), "rate_limited", "reaction over the limit")

			// Typing: burst 2 per connection.
			b := s.connect(bob)
			for i := range 2 {
				b.writeJSON(map[string]any{"type": "typing", "id": fmt.Sprint("t", i), "conversationId": conv})
			}
			wantError(b, b.do(map[string]any{"type": "typing", "conversationId": conv}), "rate_limited", "third typing frame")

			// A third connection of alice is refused; closing one makes room.
			ws, _, err := dialWS(t, s.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			c3 := &client{t: t, ws: ws, frames: make(chan frame, 100), closed: make(chan struct{})}
			go c3.readLoop()
			c3.writeJSON(map[string]any{"type": "auth", "token": alice.Token})
			wantError(c3, c3.waitFor(func(f frame) bool { return f.Type == "error" }, "refusal"), "rate_limited", "third connection")
			if code := c3.waitClose(); code != gateway.CloseTooManyConns {
				t.Fatalf("third connection closed with %d, want %d", code, gateway.CloseTooManyConns)
			}
			_ = a2.ws.Close()
			a2.waitClose()
			deadline := 50
			for {
				ws, _, err := dialWS(t, s.URL, nil)
				if err != nil {
					t.Fatal(err)
				}
				c4 := &client{t: t, ws: ws, frames: make(chan frame, 100), closed: make(chan struct{})}
				go c4.readLoop()
				c4.writeJSON(map[string]any{"type": "auth", "token": alice.Token})
				f := c4.waitFor(func(f frame) bool { return f.Type == "ready" || f.Type == "error" }, "ready or refusal")
				_ = ws.Close()
				if f.Type == "ready" {
					break
				}
				if deadline--; deadline == 0 {
					t.Fatal("a connection slot never freed after closing one")
				}
			}
		})
	}
}
