package actors

import (
	"slices"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// lossyNode is a node whose hub never gets the broadcast of one seq (as
// when a batch is lost between nodes): the grain's broadcasts reach the real
// hub through a forwarder that drops that batch.
type lossyNode struct {
	sys   *actor.ActorSystem
	deps  *Deps
	grain *actor.PID
	bob   *chanConn  // bob's connection
	sess  *actor.PID // bob's session
}

// startLossyNode starts a node that loses the broadcast of every seq drop
// reports true for, and the first dropHeads head announcements.
func startLossyNode(t *testing.T, drop func(seq int64) bool, cfg Config, dropHeads ...int) *lossyNode {
	heads := 0
	if len(dropHeads) > 0 {
		heads = dropHeads[0]
	}
	t.Helper()
	st := openStore(t)
	createConv(t, st, "c1", "alice", "bob")
	sys := actor.NewActorSystem()
	hub := actor.NewPID(sys.Address(), HubName)
	lossy := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		switch m := c.Message().(type) {
		case *actor.Started, *actor.Stopping, *actor.Stopped, *actor.Restarting:
		case *MessagesPosted:
			if !drop(m.Messages[0].Seq) {
				c.Send(hub, m)
			}
		case *ConversationHead:
			if heads > 0 {
				heads--
				return
			}
			c.Send(hub, m)
		default:
			c.Send(hub, m)
		}
	}))
	deps, err := NewDeps(Deps{Store: st, Hubs: func() []*actor.PID { return []*actor.PID{lossy} },
		Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SpawnHub(sys, deps); err != nil {
		t.Fatal(err)
	}
	n := &lossyNode{sys: sys, deps: deps, bob: &chanConn{events: make(chan Outbound, 100)}}
	n.grain = sys.Root.Spawn(newConversationWithID(deps, "c1"))
	deps.Grain = func(string) *actor.PID { return n.grain }
	t.Cleanup(func() { sys.Shutdown() })
	n.sess = SpawnSession(sys, deps, "bob", "1", n.bob)
	if _, ok := n.next(t, "ready").(*Ready); !ok {
		t.Fatal("first event is not ready")
	}
	return n
}

func dropSeqs(seqs ...int64) func(int64) bool {
	return func(seq int64) bool { return slices.Contains(seqs, seq) }
}

func (n *lossyNode) next(t *testing.T, what string) Outbound {
	t.Helper()
	select {
	case ev := <-n.bob.events:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatalf("nothing for %s", what)
		return nil
	}
}

// wantDelivery reads the next event and fails unless it delivers seq.
func (n *lossyNode) wantDelivery(t *testing.T, seq int64) {
	t.Helper()
	ev := n.next(t, "a delivery")
	if d, ok := ev.(*Delivery); !ok || d.Msg.Seq != seq {
		t.Fatalf("got %T %+v, want the delivery of seq %d", ev, ev, seq)
	}
}

// TestLostTailBroadcastIsRepaired: the broadcast of the last message of a
// burst is lost and no later message reveals the gap; the grain's head
// announcement makes the session fetch it from the store, in order, and
// nothing else follows.
func TestLostTailBroadcastIsRepaired(t *testing.T) {
	n := startLossyNode(t, dropSeqs(3), Config{HeadDelay: 50 * time.Millisecond})
	for _, k := range []string{"k1", "k2", "k3"} {
		post(t, n.sys, n.grain, "alice", k, "hello")
	}
	for seq := int64(1); seq <= 3; seq++ {
		n.wantDelivery(t, seq)
	}
	select {
	case ev := <-n.bob.events:
		t.Fatalf("unexpected event after the repair: %T %+v", ev, ev)
	case <-time.After(200 * time.Millisecond):
	}
	// Live delivery goes on after the repaired tail.
	post(t, n.sys, n.grain, "alice", "k4", "hello")
	n.wantDelivery(t, 4)
}

// TestSyncCatchesUpWithTheStore: a sync on a live connection brings the
// client up to what the store held when it asked, also when live delivery
// lost the last broadcast (and no head announcement came yet).
func TestSyncCatchesUpWithTheStore(t *testing.T) {
	n := startLossyNode(t, dropSeqs(3), Config{HeadDelay: time.Hour})
	for _, k := range []string{"k1", "k2", "k3"} {
		post(t, n.sys, n.grain, "alice", k, "hello")
	}
	n.wantDelivery(t, 1)
	n.wantDelivery(t, 2)
	n.sys.Root.Send(n.sess, &ClientSync{RequestID: "s", ConversationID: "c1", AfterSeq: 2})
	n.wantDelivery(t, 3)
	ev := n.next(t, "synced")
	if s, ok := ev.(*Synced); !ok || s.LastSeq != 3 || s.AfterSeq != 2 || s.HasMore {
		t.Fatalf("got %T %+v, want synced afterSeq 2 lastSeq 3", ev, ev)
	}
	// The repaired seq is not sent twice when live delivery goes on.
	post(t, n.sys, n.grain, "alice", "k4", "hello")
	n.wantDelivery(t, 4)
}

// TestSyncTailLongerThanAPage: a sync finds more missing after the
// connection's last than one page; it sends a page, answers, and the rest
// follows in order by gap repair.
func TestSyncTailLongerThanAPage(t *testing.T) {
	n := startLossyNode(t, dropSeqs(3, 4, 5), Config{HeadDelay: time.Hour, SyncLimit: 2})
	for _, k := range []string{"k1", "k2", "k3", "k4", "k5"} {
		post(t, n.sys, n.grain, "alice", k, "hello")
	}
	n.wantDelivery(t, 1)
	n.wantDelivery(t, 2)
	n.sys.Root.Send(n.sess, &ClientSync{RequestID: "s", ConversationID: "c1", AfterSeq: 2})
	n.wantDelivery(t, 3)
	n.wantDelivery(t, 4)
	ev := n.next(t, "synced")
	if s, ok := ev.(*Synced); !ok || s.LastSeq != 4 || s.HasMore {
		t.Fatalf("got %T %+v, want synced lastSeq 4", ev, ev)
	}
	n.wantDelivery(t, 5)
	post(t, n.sys, n.grain, "alice", "k6", "hello")
	n.wantDelivery(t, 6)
}

// TestLostHeadIsRepeated: the tail's batch and the first head announcement
// are both lost (a link down for longer than HeadDelay); the repeat still
// brings the session up to the head.
func TestLostHeadIsRepeated(t *testing.T) {
	n := startLossyNode(t, dropSeqs(3), Config{HeadDelay: 50 * time.Millisecond}, 1)
	for _, k := range []string{"k1", "k2", "k3"} {
		post(t, n.sys, n.grain, "alice", k, "hello")
	}
	for seq := int64(1); seq <= 3; seq++ {
		n.wantDelivery(t, seq)
	}
}
