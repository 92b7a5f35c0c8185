package actors

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// TestTypingThrottledPerMemberAndMembersOnly: a grain forwards typing of
// members only, at most once per TypingInterval per member, and never stores it.
func TestTypingThrottledPerMemberAndMembersOnly(t *testing.T) {
	st := openStore(t)
	createConv(t, st, "c1", "alice", "bob")
	sys := actor.NewActorSystem()
	events := make(chan any, 100)
	hub := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		switch m := c.Message().(type) {
		case *TypingPosted, *MessagesPosted:
			events <- m
		}
	}))
	deps := newTestDeps(t, st, hub)
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	deps.Now = func() time.Time { return time.Unix(0, clock.Load()) }
	g := sys.Root.Spawn(newConversationWithID(deps, "c1"))

	post(t, sys, g, "alice", "m1", "loaded") // the grain knows its members from here on
	for _, u := range []string{"mallory", "alice", "alice", "bob"} {
		sys.Root.Send(g, &Typing{UserId: u})
	}
	post(t, sys, g, "bob", "b1", "the typing above is handled") // then move the clock
	clock.Add(int64(deps.Config.TypingInterval))
	sys.Root.Send(g, &Typing{UserId: "alice"})
	post(t, sys, g, "alice", "m2", "marker")

	var typed []string
	for done := false; !done; {
		select {
		case ev := <-events:
			switch m := ev.(type) {
			case *TypingPosted:
				if m.ConversationId != "c1" {
					t.Fatalf("typing of %q", m.ConversationId)
				}
				typed = append(typed, m.UserId)
			case *MessagesPosted:
				done = m.Messages[0].ClientMsgId == "m2"
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no marker message")
		}
	}
	if want := []string{"alice", "bob", "alice"}; !slices.Equal(typed, want) {
		t.Fatalf("forwarded typing of %v, want %v", typed, want)
	}
	if last, _ := st.LastSeq(t.Context(), "c1"); last != 3 {
		t.Fatalf("last seq %d, want 3 (the posts only): typing must not be stored", last)
	}
}
