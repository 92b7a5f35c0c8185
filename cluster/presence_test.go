package cluster_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/actorchat/engine/actors"
	"github.com/actorchat/engine/cluster"
	"github.com/actorchat/engine/persistence/mongo"
	"github.com/actorchat/engine/persistence/mongo/mongotest"
)

// startNodeWith is startNode with actor settings.
func startNodeWith(t *testing.T, cfg cluster.Config, storeCfg mongo.Config, ac actors.Config) *testNode {
	t.Helper()
	st, err := mongo.Open(context.Background(), storeCfg)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	deps, err := actors.NewDeps(actors.Deps{Store: st, Log: log, Config: ac})
	if err != nil {
		t.Fatal(err)
	}
	n, err := cluster.Start(cfg, deps, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		n.Stop(false)
		_ = st.Close(context.Background())
	})
	return &testNode{node: n, deps: deps}
}

// TestPresenceAcrossNodes: alice has a session on each of two nodes; bob
// watches from the first. Closing her first session leaves her online (the
// second node keeps renewing its lease); the second node going silent takes
// her offline within about a lease.
//
// The second node "crashes" by losing its hub, which is what a dead node
// looks like to a user grain: no more reports. (Stopping the whole member
// mid-test makes upstream disthash swap its rendezvous table without
// synchronization while our lookups read it, which -race reports.)
func TestPresenceAcrossNodes(t *testing.T) {
	storeCfg := mongotest.Config(t, mongotest.URI(t))
	cfgs := autoManagedPair(t)
	ac := actors.Config{PresenceLease: 1500 * time.Millisecond}
	a := startNodeWith(t, cfgs[0], storeCfg, ac)
	b := startNodeWith(t, cfgs[1], storeCfg, ac)
	waitMembers(t, 2, a, b)

	res, err := a.node.Request("presence-conv", &actors.CreateConversation{Kind: "group", Title: "p", CreatedBy: "alice",
		Members: []*actors.MemberSpec{{UserId: "alice", Role: "owner"}, {UserId: "bob", Role: "member"}}})
	if err != nil || res.(*actors.AdminResult).ErrorCode != "" {
		t.Fatalf("create: %v %v", res, err)
	}
	isReady := func(evs []actors.Outbound) bool {
		for _, ev := range evs {
			if _, ok := ev.(*actors.Ready); ok {
				return true
			}
		}
		return false
	}
	aliceEvents := func(c *testConn) []*actors.PresenceEvent {
		var out []*actors.PresenceEvent
		for _, ev := range c.snapshot() {
			if p, ok := ev.(*actors.PresenceEvent); ok && p.UserID == "alice" {
				out = append(out, p)
			}
		}
		return out
	}
	bobConn := &testConn{}
	actors.SpawnSession(a.node.System, a.deps, "bob", "b", bobConn)
	bobConn.waitFor(t, "bob ready", isReady)

	onA, onB := &testConn{}, &testConn{}
	aliceA := actors.SpawnSession(a.node.System, a.deps, "alice", "a1", onA)
	actors.SpawnSession(b.node.System, b.deps, "alice", "a2", onB)
	onA.waitFor(t, "alice ready on A", isReady)
	onB.waitFor(t, "alice ready on B", isReady)
	bobConn.waitFor(t, "alice online", func([]actors.Outbound) bool {
		evs := aliceEvents(bobConn)
		return len(evs) > 0 && evs[len(evs)-1].Online
	})

	a.node.System.Root.Send(aliceA, &actors.ConnClosed{})
	// Two leases later alice is still online: node B renewed.
	for end := time.Now().Add(2 * ac.PresenceLease); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		res, err := a.node.RequestUser("alice", &actors.GetPresence{})
		if err != nil {
			t.Fatal(err)
		}
		if !res.(*actors.PresenceState).Online {
			t.Fatal("alice offline while her session on node B is open")
		}
	}
	for _, ev := range aliceEvents(bobConn) {
		if !ev.Online {
			t.Fatalf("bob heard alice offline while she had a session: %+v", aliceEvents(bobConn))
		}
	}

	b.node.System.Root.Stop(b.node.Hub)
	bobConn.waitFor(t, "alice offline after node B crashed", func([]actors.Outbound) bool {
		evs := aliceEvents(bobConn)
		return len(evs) > 0 && !evs[len(evs)-1].Online
	})
	if evs := aliceEvents(bobConn); evs[len(evs)-1].LastSeen.IsZero() {
		t.Fatalf("offline without lastSeen: %+v", evs[len(evs)-1])
	}
}
