package cluster_test

import (
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorchat/engine/actors"
	"github.com/actorchat/engine/cluster"
	"github.com/actorchat/engine/persistence/mongo/mongotest"
)

// TestLeaveBeforeStop: a node that leaves deregisters and returns once its
// peer no longer lists it, while it still answers (its actor system is up
// until Stop), so no request is routed to a node that has stopped. Both
// providers.
func TestLeaveBeforeStop(t *testing.T) {
	storeCfg := mongotest.Config(t, mongotest.URI(t))
	t.Run("automanaged", func(t *testing.T) {
		cfgs := autoManagedPair(t)
		a := startNode(t, cfgs[0], storeCfg)
		b := startNode(t, cfgs[1], storeCfg)
		checkLeave(t, a, b)
	})
	t.Run("etcd", func(t *testing.T) {
		endpoint := startEtcd(t)
		cfg := cluster.Config{Provider: cluster.ProviderEtcd, EtcdEndpoints: []string{endpoint}, Name: "leavetest"}
		a := startNode(t, cfg, storeCfg)
		b := startNode(t, cfg, storeCfg)
		checkLeave(t, a, b)
	})
}

func checkLeave(t *testing.T, a, b *testNode) {
	t.Helper()
	waitMembers(t, 2, a, b)
	start := time.Now()
	b.node.Leave(10 * time.Second)
	if got := a.node.Members(); len(got) != 1 || got[0] != a.node.Address() {
		t.Fatalf("b left (in %s) but a still lists %v", time.Since(start).Round(time.Millisecond), got)
	}
	members := actor.NewPID(b.node.Address(), cluster.MembersActor)
	if _, err := a.node.System.Root.RequestFuture(members, &actors.MemberProbe{MemberId: "x"}, 2*time.Second).Result(); err != nil {
		t.Fatalf("b stopped answering before Stop: %v", err)
	}
	t.Logf("b left in %s", time.Since(start).Round(time.Millisecond))
}
