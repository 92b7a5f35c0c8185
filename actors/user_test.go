package actors

import (
	"slices"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// TestUserPresenceLeases: a user is online while any node's live report
// counts a session; a node that stops renewing expires after the lease; a
// late report never undoes a newer one; going offline stores lastSeen.
func TestUserPresenceLeases(t *testing.T) {
	st := openStore(t)
	createConv(t, st, "c1", "alice", "bob")
	sys := actor.NewActorSystem()
	events := make(chan *PresenceChanged, 100)
	hub := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if m, ok := c.Message().(*PresenceChanged); ok {
			events <- m
		}
	}))
	deps := newTestDeps(t, st, hub)
	deps.Config.PresenceLease = 400 * time.Millisecond
	u := sys.Root.Spawn(newUserWithID(deps, "alice"))
	next := func(what string) *PresenceChanged {
		t.Helper()
		select {
		case ev := <-events:
			return ev
		case <-time.After(10 * time.Second):
			t.Fatalf("no presence event: %s", what)
			return nil
		}
	}
	presence := func() *PresenceState {
		t.Helper()
		res, err := sys.Root.RequestFuture(u, &GetPresence{}, 5*time.Second).Result()
		if err != nil {
			t.Fatal(err)
		}
		return res.(*PresenceState)
	}
	const longLease = int64(time.Hour / time.Millisecond) // capped at PresenceLease by the grain

	sys.Root.Send(u, &SessionsReport{Node: "A", Count: 1, LeaseMs: longLease, Version: 1})
	sys.Root.Send(u, &SessionsReport{Node: "B", Count: 2, LeaseMs: longLease, Version: 1})
	if ev := next("online"); !ev.Online || ev.UserId != "alice" || len(ev.ConversationIds) != 1 || ev.ConversationIds[0] != "c1" {
		t.Fatalf("first event %+v, want alice online to c1", ev)
	}
	// A closes its session; B keeps renewing for a while: still online.
	sys.Root.Send(u, &SessionsReport{Node: "A", Count: 0, LeaseMs: longLease, Version: 2})
	for i := 0; i < 4; i++ {
		time.Sleep(deps.Config.PresenceLease / 4)
		sys.Root.Send(u, &SessionsReport{Node: "B", Count: 2, LeaseMs: longLease, Version: int64(2 + i)})
	}
	if p := presence(); !p.Online {
		t.Fatal("offline while node B renews its report")
	}
	// B stops renewing (crashed): offline within about 1.25 leases.
	start := time.Now()
	ev := next("offline after B's lease")
	if ev.Online || ev.LastSeenMs == 0 {
		t.Fatalf("event %+v, want offline with lastSeen", ev)
	}
	if waited := time.Since(start); waited > 10*deps.Config.PresenceLease {
		t.Fatalf("offline after %v, want about one lease", waited)
	}
	// A late report from A (older version) does not bring alice back.
	sys.Root.Send(u, &SessionsReport{Node: "A", Count: 1, LeaseMs: longLease, Version: 1})
	if p := presence(); p.Online || p.LastSeenMs != ev.LastSeenMs {
		t.Fatalf("presence %+v after a stale report, want offline at %d", p, ev.LastSeenMs)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		stored, err := st.LastSeen(t.Context(), "alice")
		if err == nil && stored.UnixMilli() == ev.LastSeenMs {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stored lastSeen %v (%v), want %d", stored, err, ev.LastSeenMs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPresenceSkipsBigRooms: presence changes go to the conversations of at
// most PresenceMaxMembers members, not to bigger rooms.
func TestPresenceSkipsBigRooms(t *testing.T) {
	st := openStore(t)
	createConv(t, st, "dm", "alice", "bob")
	createConv(t, st, "small", "alice", "bob", "carol")
	createConv(t, st, "big", "alice", "bob", "carol", "dave")
	sys := actor.NewActorSystem()
	events := make(chan *PresenceChanged, 10)
	hub := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if m, ok := c.Message().(*PresenceChanged); ok {
			events <- m
		}
	}))
	deps := newTestDeps(t, st, hub)
	deps.Config.PresenceMaxMembers = 3
	u := sys.Root.Spawn(newUserWithID(deps, "alice"))
	sys.Root.Send(u, &SessionsReport{Node: "A", Count: 1, LeaseMs: 60_000, Version: 1})
	select {
	case ev := <-events:
		got := slices.Sorted(slices.Values(ev.ConversationIds))
		if !ev.Online || !slices.Equal(got, []string{"dm", "small"}) {
			t.Fatalf("presence event %+v, want online to dm and small only", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no presence event")
	}
}

// TestProfileSkipsBigRooms: an avatar change is announced with its version
// to the conversations of at most PresenceMaxMembers members, like presence;
// the AvatarChanged request is answered at once.
func TestProfileSkipsBigRooms(t *testing.T) {
	st := openStore(t)
	createConv(t, st, "dm", "alice", "bob")
	createConv(t, st, "big", "alice", "bob", "carol", "dave")
	sys := actor.NewActorSystem()
	events := make(chan *ProfileChanged, 10)
	hub := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if m, ok := c.Message().(*ProfileChanged); ok {
			events <- m
		}
	}))
	deps := newTestDeps(t, st, hub)
	deps.Config.PresenceMaxMembers = 3
	u := sys.Root.Spawn(newUserWithID(deps, "alice"))
	res, err := sys.Root.RequestFuture(u, &AvatarChanged{AvatarVersion: "f_1"}, 5*time.Second).Result()
	if _, ok := res.(*AvatarChangedResult); err != nil || !ok {
		t.Fatalf("AvatarChanged answered %v, %v", res, err)
	}
	select {
	case ev := <-events:
		if ev.UserId != "alice" || ev.AvatarVersion != "f_1" || !slices.Equal(ev.ConversationIds, []string{"dm"}) {
			t.Fatalf("profile event %+v, want alice's f_1 to dm only", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no profile event")
	}
}
