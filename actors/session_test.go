package actors

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// chanConn is a Conn that hands every event to a channel.
type chanConn struct{ events chan Outbound }

func (c *chanConn) Send(ev Outbound) bool {
	select {
	case c.events <- ev:
		return true
	default:
		return false
	}
}

func (c *chanConn) Close(CloseReason) {}

// TestSessionUnderHubCalls: a session's reply continuation (here: a grain
// that never answers, so the request times out and the session forgets the
// grain) and the hub's direct calls into the session (removing its user
// from the conversation) touch the same state; under -race this fails
// unless both hold the session's lock. The client gets its refusal and the
// membership event, and nothing else.
func TestSessionUnderHubCalls(t *testing.T) {
	st := openStore(t)
	createConv(t, st, "c1", "alice", "bob")
	sys := actor.NewActorSystem()
	silent := sys.Root.Spawn(actor.PropsFromFunc(func(actor.Context) {})) // a grain that never answers
	deps := newTestDeps(t, st)
	deps.Config.RequestTimeout = 30 * time.Millisecond
	deps.Grain = func(string) *actor.PID { return silent }
	hub, err := SpawnHub(sys, deps)
	if err != nil {
		t.Fatal(err)
	}
	conn := &chanConn{events: make(chan Outbound, 100)}
	session := SpawnSession(sys, deps, "alice", "1", conn)
	next := func(what string) Outbound {
		t.Helper()
		select {
		case ev := <-conn.events:
			return ev
		case <-time.After(10 * time.Second):
			t.Fatalf("nothing for %s", what)
			return nil
		}
	}
	if _, ok := next("ready").(*Ready); !ok {
		t.Fatal("first event is not ready")
	}
	for i := 0; i < 20; i++ {
		sys.Root.Send(session, &ClientSend{RequestID: "r", ConversationID: "c1", ClientMsgID: "k", Body: "x"})
	}
	time.Sleep(deps.Config.RequestTimeout / 2)
	sys.Root.Send(hub, &MembershipChanged{ConversationId: "c1", UserId: "alice"})
	var refusals, left int
	for refusals+left < 21 {
		switch ev := next("refusals and the membership event").(type) {
		case *Failure:
			refusals++
			if ev.Code != CodeUnavailable && ev.Code != CodeForbidden {
				t.Fatalf("refusal %+v, want unavailable (timed out) or forbidden (no longer a member)", ev)
			}
		case *MembershipEvent:
			left++
			if ev.Joined || ev.ConversationID != "c1" {
				t.Fatalf("membership event %+v, want c1 left", ev)
			}
		default:
			t.Fatalf("unexpected event %T %+v", ev, ev)
		}
	}
	if left != 1 {
		t.Fatalf("%d membership events, want 1", left)
	}
}

// panicConn fails the first time the session hands it an event and records
// how the session closes it.
type panicConn struct{ closed chan CloseReason }

func (c *panicConn) Send(Outbound) bool { panic("connection broke") }
func (c *panicConn) Close(r CloseReason) {
	select {
	case c.closed <- r:
	default:
	}
}

// TestSessionFailureEndsConnection: a session that panics is stopped, not
// restarted with its delivered intervals lost, and it ends its connection
// (the client reconnects and syncs).
func TestSessionFailureEndsConnection(t *testing.T) {
	st := openStore(t)
	createConv(t, st, "c1", "alice", "bob")
	sys := actor.NewActorSystem()
	deps := newTestDeps(t, st)
	if _, err := SpawnHub(sys, deps); err != nil {
		t.Fatal(err)
	}
	conn := &panicConn{closed: make(chan CloseReason, 1)}
	session := SpawnSession(sys, deps, "alice", "1", conn) // panics when it sends ready
	select {
	case r := <-conn.closed:
		if r != CloseInternal {
			t.Fatalf("closed with %v, want CloseInternal", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the failed session did not close its connection")
	}
	stopped := make(chan struct{})
	go func() {
		for {
			if _, ok := sys.ProcessRegistry.GetLocal(session.Id); !ok {
				close(stopped)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the failed session is still registered: restarted instead of stopped")
	}
}

// TestSessionDropsGrainsOfNodesThatLeft: a session keeps the grain PIDs it
// looked up, but before each use it checks that the PID's node is still a
// member (Deps.Alive); after a node left (a rolling restart) it looks the
// grain up again instead of sending to the departed node and waiting for
// the request to time out.
func TestSessionDropsGrainsOfNodesThatLeft(t *testing.T) {
	st := openStore(t)
	createConv(t, st, "c1", "alice", "bob")
	sys := actor.NewActorSystem()
	t.Cleanup(func() { sys.Shutdown() })
	deps := newTestDeps(t, st)
	if _, err := SpawnHub(sys, deps); err != nil {
		t.Fatal(err)
	}
	grain := sys.Root.Spawn(newConversationWithID(deps, "c1"))
	var lookups atomic.Int32
	deps.Grain = func(string) *actor.PID { lookups.Add(1); return grain }
	var left atomic.Bool
	deps.Alive = func(string) bool { return !left.Swap(false) } // "not a member" once after left is set
	conn := &chanConn{events: make(chan Outbound, 100)}
	session := SpawnSession(sys, deps, "alice", "1", conn)
	ack := func(what string) {
		t.Helper()
		for {
			select {
			case ev := <-conn.events:
				switch ev := ev.(type) {
				case *Ack:
					return
				case *Failure:
					t.Fatalf("%s: refused %+v", what, ev)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: no ack", what)
			}
		}
	}
	sys.Root.Send(session, &ClientSend{RequestID: "r1", ConversationID: "c1", ClientMsgID: "k1", Body: "one"})
	ack("first send")
	sys.Root.Send(session, &ClientSend{RequestID: "r2", ConversationID: "c1", ClientMsgID: "k2", Body: "two"})
	ack("second send")
	if n := lookups.Load(); n != 1 {
		t.Fatalf("%d grain lookups for two sends while the node stayed, want 1 (the PID is kept)", n)
	}
	left.Store(true)
	sys.Root.Send(session, &ClientSend{RequestID: "r3", ConversationID: "c1", ClientMsgID: "k3", Body: "three"})
	ack("send after the grain's node left")
	if n := lookups.Load(); n != 2 {
		t.Fatalf("%d grain lookups, want 2: the PID of a node that left must be looked up again", n)
	}
}
