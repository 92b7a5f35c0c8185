package gateway_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestEditsAndDeletes: the author edits, an admin deletes someone else's
// message, each change is a sequenced event every session receives; the
// refusals store nothing; afterwards no read path (REST page, WS history,
// sync replay) serves any version of the deleted text, edited messages show
// their current body, and unread counts only live chat messages.
func TestEditsAndDeletes(t *testing.T) {
	for _, a := range adapters() {
		t.Run(a.name, func(t *testing.T) {
			st, _ := a.open(t)
			s := startStack(t, st)
			alice, bob, carol := s.register("alice"), s.register("bob"), s.register("carol")
			conv := s.createGroup(alice, "edits", bob)
			s.doJSON("POST", "/api/conversations/"+conv+"/members", alice.Token, map[string]string{"username": "carol", "role": "admin"}, http.StatusOK, nil)
			ca, cb, cc := s.connect(alice), s.connect(bob), s.connect(carol)
			ack := func(c *client, f frame, what string) frame {
				t.Helper()
				if f.Type != "ack" {
					t.Fatalf("%s: %+v", what, f)
				}
				return f
			}
			edit := func(c *client, clientID string, target int64, body string) frame {
				return c.do(map[string]any{"type": "edit", "conversationId": conv, "clientMsgId": clientID, "targetSeq": target, "body": body})
			}
			del := func(c *client, clientID string, target int64) frame {
				return c.do(map[string]any{"type": "delete", "conversationId": conv, "clientMsgId": clientID, "targetSeq": target})
			}
			first := ack(ca, ca.send(conv, "a1", "hello"), "alice's message")
			secret := ack(cb, cb.send(conv, "b1", "bob's secret"), "bob's message")

			e1 := ack(ca, edit(ca, "a-edit", first.Seq, "hello, edited"), "author edits")
			e2 := ack(cb, edit(cb, "b-edit", secret.Seq, "bob's secret, v2"), "bob edits his own")
			wantError(cb, edit(cb, "b-evil", first.Seq, "pwned"), "forbidden", "editing someone else's message")
			wantError(cc, edit(cc, "c-evil", first.Seq, "moderated"), "forbidden", "an admin editing someone else's message")
			wantError(cb, del(cb, "b-del-a", first.Seq), "forbidden", "a member deleting someone else's message")
			d := ack(cc, del(cc, "c-del", secret.Seq), "admin deletes bob's message")
			wantError(cb, edit(cb, "b-late", secret.Seq, "back"), "not_found", "editing a deleted message")
			wantError(ca, edit(ca, "a-99", 99, "x"), "not_found", "editing past the end")
			wantError(ca, edit(ca, "a-ev", e1.Seq, "x"), "not_found", "editing an event")
			if again := ack(ca, edit(ca, "a-edit", first.Seq, "hello, edited"), "retried edit"); !again.Duplicate || again.Seq != e1.Seq {
				t.Fatalf("retried edit: %+v, want duplicate of seq %d", again, e1.Seq)
			}
			// seq 1 is carol's join event.
			if e1.Seq != 4 || e2.Seq != 5 || d.Seq != 6 {
				t.Fatalf("event seqs %d %d %d, want 4 5 6 (refusals store nothing)", e1.Seq, e2.Seq, d.Seq)
			}

			// Every session got every event, in order.
			for name, c := range map[string]*client{"alice": ca, "bob": cb, "carol": cc} {
				msgs := c.waitMessages(conv, 5) // all connected after carol's join event
				kinds := []string{}
				for _, m := range msgs {
					kinds = append(kinds, m.Kind)
				}
				if strings.Join(kinds, ",") != "message,message,edit,edit,delete" || msgs[2].TargetSeq != 2 || msgs[2].Body != "hello, edited" || msgs[4].TargetSeq != 3 {
					t.Fatalf("%s got %+v", name, msgs)
				}
			}

			// No read path serves the deleted text any more.
			raw := string(s.doJSON("GET", "/api/conversations/"+conv+"/messages", bob.Token, nil, http.StatusOK, nil))
			if strings.Contains(raw, "secret") {
				t.Fatalf("REST page serves deleted text: %s", raw)
			}
			var page struct{ Messages []frame }
			s.doJSON("GET", "/api/conversations/"+conv+"/messages", bob.Token, nil, http.StatusOK, &page)
			if m := page.Messages[1]; m.Body != "hello, edited" || m.EditedAt == "" || m.UpdatedSeq != 4 || m.Kind != "message" {
				t.Fatalf("edited message in history: %+v", m)
			}
			if m := page.Messages[2]; !m.Deleted || m.Body != "" || m.UpdatedSeq != 6 {
				t.Fatalf("deleted message in history: %+v", m)
			}
			fresh := s.connect(bob)
			h := fresh.do(map[string]any{"type": "history", "conversationId": conv, "beforeSeq": 0, "limit": 50})
			fresh.do(map[string]any{"type": "sync", "conversationId": conv, "afterSeq": 0})
			for _, f := range append(h.Messages, fresh.messages(conv)...) {
				if strings.Contains(f.Body, "secret") {
					t.Fatalf("WS history or sync serves deleted text: %+v", f)
				}
			}
			if n := len(fresh.messages(conv)); n != 6 {
				t.Fatalf("sync replayed %d entries, want 6 (events included)", n)
			}

			// Unread counts live chat messages by others only.
			if got := s.conversations(carol)[conv]; got.Unread != 1 || got.LastSeq != 6 {
				t.Fatalf("carol's list: %+v, want unread 1 (alice's message; bob's is deleted, events do not count)", got)
			}
		})
	}
}
