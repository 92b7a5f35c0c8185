package gateway_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/actorchat/engine/gateway"
)

// TestPresence: a user is online while any of their sessions is open, the
// members of shared conversations (only they) hear each change once, the
// last disconnect records lastSeen, a connection that stops answering goes
// offline after the ping timeout, and REST answers for shared users only.
func TestPresence(t *testing.T) {
	for _, a := range adapters() {
		t.Run(a.name, func(t *testing.T) {
			st, _ := a.open(t)
			s := startStack(t, st, func(c *gateway.Config) { c.PingInterval = 300 * time.Millisecond })
			alice, bob, carol, dave := s.register("alice"), s.register("bob"), s.register("carol"), s.register("dave")
			s.createGroup(alice, "shared", bob)
			s.createGroup(carol, "no alice here", dave)
			cb, cc := s.connect(bob), s.connect(carol)
			aliceEvents := func(c *client) []frame {
				var out []frame
				for _, f := range c.seen {
					if f.Type == "presence" && f.UserID == alice.ID {
						out = append(out, f)
					}
				}
				return out
			}
			isAlice := func(status string) func(frame) bool {
				return func(f frame) bool { return f.Type == "presence" && f.UserID == alice.ID && f.Status == status }
			}

			a1 := s.connect(alice)
			cb.waitFor(isAlice("online"), "alice online")
			a2 := s.connect(alice)
			_ = a1.ws.Close()
			a1.waitClose()
			_ = a2.ws.Close()
			off := cb.waitFor(isAlice("offline"), "alice offline")
			if got := aliceEvents(cb); len(got) != 2 || got[0].Status != "online" {
				t.Fatalf("bob heard %+v, want online then offline once each (two sessions, one presence)", got)
			}
			seen, err := time.Parse(time.RFC3339, off.LastSeen)
			if err != nil || time.Since(seen) > time.Minute {
				t.Fatalf("offline lastSeen %q (%v), want a recent time", off.LastSeen, err)
			}
			if got := aliceEvents(cc); len(got) != 0 {
				t.Fatalf("carol shares no conversation with alice but heard %+v", got)
			}

			var out struct {
				Presence []struct{ UserID, Status, LastSeen string }
			}
			s.doJSON("GET", "/api/presence?ids="+alice.ID+","+carol.ID+","+bob.ID, bob.Token, nil, http.StatusOK, &out)
			if len(out.Presence) != 2 || out.Presence[0].UserID != alice.ID || out.Presence[0].Status != "offline" ||
				out.Presence[0].LastSeen != off.LastSeen || out.Presence[1].UserID != bob.ID || out.Presence[1].Status != "online" {
				t.Fatalf("presence of alice, carol, bob as bob: %+v; want alice offline at %s, bob online, carol left out", out.Presence, off.LastSeen)
			}
			s.doJSON("GET", "/api/presence?ids=", bob.Token, nil, http.StatusBadRequest, nil)
			s.doJSON("GET", "/api/presence?ids="+alice.ID, "", nil, http.StatusUnauthorized, nil)

			// A connection that stops reading (so never answers pings) is
			// dropped after two ping intervals, and alice goes offline.
			ws, _, err := dialWS(t, s.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			if err := ws.WriteJSON(map[string]any{"type": "auth", "token": alice.Token}); err != nil {
				t.Fatal(err)
			}
			for {
				_, data, err := ws.ReadMessage()
				if err != nil {
					t.Fatalf("hung client: %v", err)
				}
				var f frame
				_ = json.Unmarshal(data, &f)
				if f.Type == "ready" {
					break
				}
			}
			cb.waitFor(isAlice("online"), "alice online again")
			cb.waitFor(isAlice("offline"), "alice offline after her connection hung")
		})
	}
}
