package gateway_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"testing"
)

type memberPage struct {
	Members []struct{ UserID, Username, Role, JoinedAt string }
	Next    string
}

// TestMemberPages: a conversation's detail (and the answer to a member
// change) carries its first 200 members and the member count; GET
// …/members pages through all of them in join order, owner first, none
// twice, none skipped; bad cursors and limits are refused, and non-members
// see nothing.
func TestMemberPages(t *testing.T) {
	for _, a := range adapters() {
		t.Run(a.name, func(t *testing.T) {
			st, _ := a.open(t)
			s := startStack(t, st)
			owner := s.register("owner")
			var users []user
			for i := range 205 {
				users = append(users, s.register(fmt.Sprintf("m%03d", i)))
			}
			conv := s.createGroup(owner, "crowd", users[:99]...)
			for _, u := range users[99:204] {
				s.doJSON("POST", "/api/conversations/"+conv+"/members", owner.Token, map[string]string{"username": u.Name}, http.StatusOK, nil)
			}

			var detail struct {
				MemberCount int
				MembersNext string
				Members     []struct{ UserID string }
			}
			s.doJSON("GET", "/api/conversations/"+conv, owner.Token, nil, http.StatusOK, &detail)
			if detail.MemberCount != 205 || len(detail.Members) != 200 || detail.MembersNext == "" || detail.Members[0].UserID != owner.ID {
				t.Fatalf("detail: %d members of %d, next %q, first %v; want 200 of 205 from the owner on, and a cursor",
					len(detail.Members), detail.MemberCount, detail.MembersNext, detail.Members[0])
			}
			var rest memberPage
			s.doJSON("GET", "/api/conversations/"+conv+"/members?after="+url.QueryEscape(detail.MembersNext), users[0].Token, nil, http.StatusOK, &rest)
			if len(rest.Members) != 5 || rest.Next != "" {
				t.Fatalf("after the detail: %d members, next %q; want the last 5 and no cursor", len(rest.Members), rest.Next)
			}

			// Page by 50: everyone once, in join order (ties by user id).
			want := map[string]bool{owner.Name: true}
			for _, u := range users[:204] {
				want[u.Name] = true
			}
			seen := map[string]bool{}
			prevJoined, prevID := "", ""
			after := ""
			for range 10 {
				var p memberPage
				s.doJSON("GET", "/api/conversations/"+conv+"/members?limit=50&after="+url.QueryEscape(after), users[7].Token, nil, http.StatusOK, &p)
				for _, m := range p.Members {
					if seen[m.Username] || !want[m.Username] {
						t.Fatalf("member %s listed twice or not a member", m.Username)
					}
					seen[m.Username] = true
					if m.JoinedAt < prevJoined || (m.JoinedAt == prevJoined && m.UserID < prevID) {
						t.Fatalf("%s (joined %s) listed after %s (joined %s): not in join order", m.UserID, m.JoinedAt, prevID, prevJoined)
					}
					prevJoined, prevID = m.JoinedAt, m.UserID
				}
				if after = p.Next; after == "" {
					break
				}
			}
			if len(seen) != len(want) {
				t.Fatalf("paged through %d members, want %d", len(seen), len(want))
			}

			// A member change answers the detail: first page and the new count.
			var added struct {
				MemberCount int
				Members     []struct{ UserID string }
			}
			s.doJSON("POST", "/api/conversations/"+conv+"/members", owner.Token, map[string]string{"username": users[204].Name}, http.StatusOK, &added)
			if added.MemberCount != 206 || len(added.Members) != 200 {
				t.Fatalf("add answered %d members of %d, want 200 of 206", len(added.Members), added.MemberCount)
			}

			for _, q := range []string{"after=nonsense", "after=12.", "after=-1.u", "limit=501", "limit=x"} {
				raw := s.doJSON("GET", "/api/conversations/"+conv+"/members?"+q, owner.Token, nil, http.StatusBadRequest, nil)
				if !bytes.Contains(raw, []byte(`"invalid"`)) {
					t.Fatalf("%s: %s, want code invalid", q, raw)
				}
			}
			outsider := s.register("outsider")
			s.doJSON("GET", "/api/conversations/"+conv+"/members", outsider.Token, nil, http.StatusForbidden, nil)

			// A small group's detail lists everyone, with no cursor.
			small := s.createGroup(owner, "small", users[0], users[1])
			var sd struct {
				MemberCount int
				MembersNext string
				Members     []struct{ UserID string }
			}
			s.doJSON("GET", "/api/conversations/"+small, owner.Token, nil, http.StatusOK, &sd)
			if sd.MemberCount != 3 || len(sd.Members) != 3 || sd.MembersNext != "" {
				t.Fatalf("small group: %d members of %d, next %q; want all 3 and no cursor", len(sd.Members), sd.MemberCount, sd.MembersNext)
			}
		})
	}
}
