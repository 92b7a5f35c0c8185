package cluster_test

import (
	"testing"
	"time"

	"github.com/actorchat/engine/actors"
	"github.com/actorchat/engine/persistence/mongo/mongotest"
)

// TestProfileAcrossNodes: alice's new avatar, announced through her user
// grain, reaches bob's session on one node and alice's own session on the
// other, and not carol, who shares no conversation with her.
func TestProfileAcrossNodes(t *testing.T) {
	storeCfg := mongotest.Config(t, mongotest.URI(t))
	cfgs := autoManagedPair(t)
	a := startNodeWith(t, cfgs[0], storeCfg, actors.Config{})
	b := startNodeWith(t, cfgs[1], storeCfg, actors.Config{})
	waitMembers(t, 2, a, b)

	for conv, members := range map[string][]string{"profile-shared": {"alice", "bob"}, "profile-other": {"carol", "dave"}} {
		res, err := a.node.Request(conv, &actors.CreateConversation{Kind: "group", Title: conv, CreatedBy: members[0],
			Members: []*actors.MemberSpec{{UserId: members[0], Role: "owner"}, {UserId: members[1], Role: "member"}}})
		if err != nil || res.(*actors.AdminResult).ErrorCode != "" {
			t.Fatalf("create %s: %v %v", conv, res, err)
		}
	}
	isReady := func(evs []actors.Outbound) bool {
		for _, ev := range evs {
			if _, ok := ev.(*actors.Ready); ok {
				return true
			}
		}
		return false
	}
	profiles := func(c *testConn) []*actors.ProfileEvent {
		var out []*actors.ProfileEvent
		for _, ev := range c.snapshot() {
			if p, ok := ev.(*actors.ProfileEvent); ok {
				out = append(out, p)
			}
		}
		return out
	}
	bob, alice, carol := &testConn{}, &testConn{}, &testConn{}
	actors.SpawnSession(a.node.System, a.deps, "bob", "b1", bob)
	actors.SpawnSession(b.node.System, b.deps, "alice", "a1", alice)
	actors.SpawnSession(b.node.System, b.deps, "carol", "c1", carol)
	for name, c := range map[string]*testConn{"bob": bob, "alice": alice, "carol": carol} {
		c.waitFor(t, name+" ready", isReady)
	}

	if _, err := a.node.RequestUser("alice", &actors.AvatarChanged{AvatarVersion: "f_v1"}); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*testConn{"bob on node A": bob, "alice on node B": alice} {
		c.waitFor(t, name+": alice's profile event", func([]actors.Outbound) bool {
			evs := profiles(c)
			return len(evs) == 1 && evs[0].UserID == "alice" && evs[0].AvatarVersion == "f_v1"
		})
	}
	time.Sleep(200 * time.Millisecond) // carol's session is on the node that told alice's: give a stray event time to show
	if evs := profiles(carol); len(evs) != 0 {
		t.Fatalf("carol shares no conversation with alice but got %+v", evs)
	}
}
