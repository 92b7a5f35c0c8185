package gateway_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/actorchat/engine/gateway"
)

type convView struct {
	ID          string
	Kind        string
	Title       string
	LastSeq     int64
	LastReadSeq int64
	Unread      int64
	Role        string
	LastMessage *frame
	Members     []struct {
		UserID, Username, Role string
	}
}

func TestConversationsREST(t *testing.T) {
	s := sqliteStack(t, func(c *gateway.Config) { c.FrameRate, c.FrameBurst = 1000, 1000; unlimitedSends(c) })
	alice, bob, carol, dave := s.register("alice"), s.register("bob"), s.register("carol"), s.register("dave")

	t.Run("direct conversations are one per pair", func(t *testing.T) {
		var first, again, reverse convView
		s.doJSON("POST", "/api/conversations", alice.Token, map[string]string{"kind": "direct", "with": "bob"}, http.StatusCreated, &first)
		s.doJSON("POST", "/api/conversations", alice.Token, map[string]string{"kind": "direct", "with": "bob"}, http.StatusOK, &again)
		s.doJSON("POST", "/api/conversations", bob.Token, map[string]string{"kind": "direct", "with": "alice"}, http.StatusOK, &reverse)
		if first.ID == "" || again.ID != first.ID || reverse.ID != first.ID || len(first.Members) != 2 {
			t.Fatalf("DM ids %q %q %q members %d", first.ID, again.ID, reverse.ID, len(first.Members))
		}
		s.doJSON("POST", "/api/conversations", alice.Token, map[string]string{"kind": "direct", "with": "alice"}, http.StatusBadRequest, nil)
		s.doJSON("POST", "/api/conversations", alice.Token, map[string]string{"kind": "direct", "with": "nobody"}, http.StatusNotFound, nil)
		s.doJSON("POST", "/api/conversations/"+first.ID+"/members", alice.Token, map[string]string{"username": "carol"}, http.StatusForbidden, nil)
	})

	conv := s.createGroup(alice, "team", bob)
	t.Run("roles", func(t *testing.T) {
		// A member cannot add; the owner adds an admin; the admin adds a member but not an admin.
		s.doJSON("POST", "/api/conversations/"+conv+"/members", bob.Token, map[string]string{"username": "carol"}, http.StatusForbidden, nil)
		s.doJSON("POST", "/api/conversations/"+conv+"/members", alice.Token, map[string]string{"username": "carol", "role": "admin"}, http.StatusOK, nil)
		s.doJSON("POST", "/api/conversations/"+conv+"/members", carol.Token, map[string]string{"username": "dave", "role": "admin"}, http.StatusForbidden, nil)
		s.doJSON("POST", "/api/conversations/"+conv+"/members", carol.Token, map[string]string{"username": "dave"}, http.StatusOK, nil)
		// Adds and removals are idempotent, so a client (or the node) may retry them.
		s.doJSON("POST", "/api/conversations/"+conv+"/members", carol.Token, map[string]string{"username": "dave"}, http.StatusOK, nil)
		s.doJSON("POST", "/api/conversations/"+conv+"/members", carol.Token, map[string]string{"username": "dave", "role": "admin"}, http.StatusForbidden, nil)
		s.doJSON("POST", "/api/conversations/"+conv+"/members", alice.Token, map[string]string{"username": "bob", "role": "owner"}, http.StatusBadRequest, nil)
		// An admin cannot remove the owner; a member cannot remove anyone.
		s.doJSON("DELETE", "/api/conversations/"+conv+"/members/"+alice.ID, carol.Token, nil, http.StatusForbidden, nil)
		s.doJSON("DELETE", "/api/conversations/"+conv+"/members/"+carol.ID, dave.Token, nil, http.StatusForbidden, nil)
		// The owner leaves: the admin becomes owner.
		s.doJSON("POST", "/api/conversations/"+conv+"/leave", alice.Token, nil, http.StatusNoContent, nil)
		var v convView
		s.doJSON("GET", "/api/conversations/"+conv, carol.Token, nil, http.StatusOK, &v)
		if v.Role != "owner" || len(v.Members) != 3 {
			t.Fatalf("after the owner left: carol is %q, %d members", v.Role, len(v.Members))
		}
		s.doJSON("GET", "/api/conversations/"+conv, alice.Token, nil, http.StatusForbidden, nil)
	})

	t.Run("history pages and read marker", func(t *testing.T) {
		c := s.connect(bob)
		// The membership changes above are the conversation's first entries
		// (join, leave and role events); the 120 messages follow them.
		base, err := s.store.LastSeq(t.Context(), conv)
		if err != nil || base != 4 {
			t.Fatalf("last seq before the messages = %d (%v), want 4 events", base, err)
		}
		for i := 1; i <= 120; i++ {
			c.writeJSON(map[string]any{"type": "send", "id": fmt.Sprint(i), "conversationId": conv, "clientMsgId": fmt.Sprint("h", i), "body": fmt.Sprint("msg ", i)})
		}
		c.waitFor(func(f frame) bool { return f.Type == "ack" && f.Seq == base+120 }, "last ack")
		var page struct{ Messages []frame }
		s.doJSON("GET", "/api/conversations/"+conv+"/messages?limit=500", dave.Token, nil, http.StatusOK, &page)
		if len(page.Messages) != 100 || page.Messages[0].Seq != base+21 || page.Messages[99].Seq != base+120 {
			t.Fatalf("latest page: %d messages %d..%d, want 100 messages %d..%d", len(page.Messages), page.Messages[0].Seq, page.Messages[len(page.Messages)-1].Seq, base+21, base+120)
		}
		s.doJSON("GET", fmt.Sprintf("/api/conversations/%s/messages?before=%d&limit=10", conv, base+21), dave.Token, nil, http.StatusOK, &page)
		if len(page.Messages) != 10 || page.Messages[0].Seq != base+11 || page.Messages[9].Seq != base+20 {
			t.Fatalf("before page: %v", seqs(page.Messages))
		}
		s.doJSON("GET", fmt.Sprintf("/api/conversations/%s/messages?after=%d", conv, base+115), dave.Token, nil, http.StatusOK, &page)
		if len(page.Messages) != 5 || page.Messages[0].Seq != base+116 {
			t.Fatalf("after page: %v", seqs(page.Messages))
		}
		s.doJSON("GET", "/api/conversations/"+conv+"/messages?after=0&limit=3", dave.Token, nil, http.StatusOK, &page)
		if len(page.Messages) != 3 || page.Messages[0].Seq != 1 {
			t.Fatalf("after=0 page: %v, want the first three", seqs(page.Messages))
		}
		s.doJSON("GET", "/api/conversations/"+conv+"/messages?after=1&before=5", dave.Token, nil, http.StatusBadRequest, nil)
		s.doJSON("GET", "/api/conversations/"+conv+"/messages?before=-1", dave.Token, nil, http.StatusBadRequest, nil)

		var list struct{ Conversations []convView }
		s.doJSON("GET", "/api/conversations", dave.Token, nil, http.StatusOK, &list)
		if len(list.Conversations) != 1 || list.Conversations[0].Unread != 120 || list.Conversations[0].LastMessage == nil || list.Conversations[0].LastMessage.Seq != base+120 {
			t.Fatalf("dave's list: %+v", list.Conversations)
		}
		s.doJSON("POST", "/api/conversations/"+conv+"/read", dave.Token, map[string]int64{"seq": base + 100}, http.StatusOK, nil)
		s.doJSON("POST", "/api/conversations/"+conv+"/read", dave.Token, map[string]int64{"seq": base + 50}, http.StatusOK, nil)
		s.doJSON("POST", "/api/conversations/"+conv+"/read", dave.Token, map[string]int64{"seq": base + 121}, http.StatusBadRequest, nil)
		s.doJSON("GET", "/api/conversations", dave.Token, nil, http.StatusOK, &list)
		if got := list.Conversations[0]; got.LastReadSeq != base+100 || got.Unread != 20 {
			t.Fatalf("after read 100 then 50: lastRead %d unread %d, want %d and 20", got.LastReadSeq, got.Unread, base+100)
		}
	})

	t.Run("user lookups", func(t *testing.T) {
		var one struct{ User struct{ ID, Username string } }
		s.doJSON("GET", "/api/users/"+bob.ID, alice.Token, nil, http.StatusOK, &one)
		if one.User.ID != bob.ID || one.User.Username != "bob" {
			t.Fatalf("user lookup: %+v", one)
		}
		var many struct{ Users []struct{ ID string } }
		s.doJSON("GET", "/api/users?ids="+bob.ID+",nobody,"+carol.ID, alice.Token, nil, http.StatusOK, &many)
		if len(many.Users) != 2 {
			t.Fatalf("batch lookup found %d users, want 2", len(many.Users))
		}
		s.doJSON("GET", "/api/users/nobody", alice.Token, nil, http.StatusNotFound, nil)
		s.doJSON("GET", "/api/users?ids=", alice.Token, nil, http.StatusBadRequest, nil)
		s.doJSON("GET", "/api/users/"+bob.ID, "", nil, http.StatusUnauthorized, nil)
	})

	t.Run("validation", func(t *testing.T) {
		s.doJSON("POST", "/api/conversations", alice.Token, map[string]any{"kind": "group", "title": ""}, http.StatusBadRequest, nil)
		s.doJSON("POST", "/api/conversations", alice.Token, map[string]any{"kind": "channel", "title": "x"}, http.StatusBadRequest, nil)
		s.doJSON("POST", "/api/conversations", alice.Token, map[string]any{"kind": "group", "title": "x", "$set": 1}, http.StatusBadRequest, nil)
		s.doJSON("POST", "/api/conversations", "", map[string]any{"kind": "group", "title": "x"}, http.StatusUnauthorized, nil)
		s.doJSON("GET", "/api/conversations/nope", alice.Token, nil, http.StatusForbidden, nil)
	})
}
