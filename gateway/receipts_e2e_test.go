package gateway_test

import (
	"fmt"
	"net/http"
	"testing"
)

// TestReadReceiptsAndUnread: a read frame moves the marker forward only,
// every session of the conversation (the other members', the reader's other
// device) gets one receipt per forward move, refusals store nothing, and
// unread counts other members' chat messages after the marker, the same on
// every device and after reconnecting.
func TestReadReceiptsAndUnread(t *testing.T) {
	for _, a := range adapters() {
		t.Run(a.name, func(t *testing.T) {
			st, _ := a.open(t)
			s := startStack(t, st)
			alice, bob, carol, dave := s.register("alice"), s.register("bob"), s.register("carol"), s.register("dave")
			conv := s.createGroup(alice, "reads", bob, carol)
			ca, b1, b2, cc, cd := s.connect(alice), s.connect(bob), s.connect(bob), s.connect(carol), s.connect(dave)
			for i := 1; i <= 3; i++ {
				if f := ca.send(conv, fmt.Sprint("m", i), "hello"); f.Type != "ack" {
					t.Fatalf("send %d: %+v", i, f)
				}
			}
			isReceipt := func(f frame) bool { return f.Type == "receipt" && f.ConversationID == conv }

			if f := b1.do(map[string]any{"type": "read", "conversationId": conv, "seq": 2}); f.Type != "marked" || f.LastReadSeq != 2 {
				t.Fatalf("read 2: %+v", f)
			}
			for name, c := range map[string]*client{"alice": ca, "carol": cc, "bob's other device": b2} {
				if f := c.waitFor(isReceipt, "receipt"); f.UserID != bob.ID || f.Seq != 2 {
					t.Fatalf("%s: receipt %+v, want bob at 2", name, f)
				}
			}

			// Backward, past the end, negative, non-member: nothing moves.
			if f := b1.do(map[string]any{"type": "read", "conversationId": conv, "seq": 1}); f.Type != "marked" || f.LastReadSeq != 2 {
				t.Fatalf("read 1 after 2: %+v, want marked 2", f)
			}
			wantError(b1, b1.do(map[string]any{"type": "read", "conversationId": conv, "seq": 4}), "invalid", "read past the last seq")
			wantError(b1, b1.do(map[string]any{"type": "read", "conversationId": conv, "seq": -1}), "invalid", "negative read")
			wantError(cd, cd.do(map[string]any{"type": "read", "conversationId": conv, "seq": 1}), "forbidden", "non-member read")

			if f := b2.do(map[string]any{"type": "read", "conversationId": conv, "seq": 3}); f.Type != "marked" || f.LastReadSeq != 3 {
				t.Fatalf("read 3: %+v", f)
			}
			// The next receipt alice sees is 3: the backward read sent none.
			if f := ca.waitFor(isReceipt, "receipt"); f.UserID != bob.ID || f.Seq != 3 {
				t.Fatalf("alice: receipt %+v, want bob at 3", f)
			}

			// Unread: other members' chat messages after the marker.
			ca.send(conv, "m4", "four")
			ca.send(conv, "m5", "five")
			b1.send(conv, "b1", "bob's own")
			if got := s.conversations(bob)[conv]; got.Unread != 2 || got.LastReadSeq != 3 || got.LastSeq != 6 {
				t.Fatalf("bob's list: %+v, want unread 2 (seqs 4, 5), lastRead 3, lastSeq 6", got)
			}
			if got := s.conversations(carol)[conv]; got.Unread != 6 {
				t.Fatalf("carol's list: %+v, want unread 6", got)
			}

			// REST marks go through the grain too, with a receipt.
			s.doJSON("POST", "/api/conversations/"+conv+"/read", carol.Token, map[string]int64{"seq": 5}, http.StatusOK, nil)
			if f := ca.waitFor(isReceipt, "receipt"); f.UserID != carol.ID || f.Seq != 5 {
				t.Fatalf("alice: receipt %+v, want carol at 5", f)
			}
			s.doJSON("POST", "/api/conversations/"+conv+"/read", dave.Token, map[string]int64{"seq": 1}, http.StatusForbidden, nil)

			// Reconnect: the list is right at once, and reads from the new
			// device count everywhere.
			_ = b1.ws.Close()
			_ = b2.ws.Close()
			if got := s.conversations(bob)[conv]; got.Unread != 2 {
				t.Fatalf("bob after disconnect: %+v, want unread 2", got)
			}
			b3 := s.connect(bob)
			if f := b3.do(map[string]any{"type": "read", "conversationId": conv, "seq": 6}); f.Type != "marked" || f.LastReadSeq != 6 {
				t.Fatalf("read 6: %+v", f)
			}
			if got := s.conversations(bob)[conv]; got.Unread != 0 || got.LastReadSeq != 6 {
				t.Fatalf("bob after reading all: %+v, want unread 0", got)
			}
			if got := s.conversations(carol)[conv]; got.Unread != 1 || got.LastReadSeq != 5 {
				t.Fatalf("carol: %+v, want unread 1 after reading 5", got)
			}
		})
	}
}
