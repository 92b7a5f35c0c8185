package cluster_test

import (
	"fmt"
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
		p1, p2 := freePort(t), freePort(t)
		peers := []string{fmt.Sprintf("127.0.0.1:%d", p1), fmt.Sprintf("127.0.0.1:%d", p2)}
		cfg := func(am int) cluster.Config {
			return cluster.Config{Provider: cluster.ProviderAutoManaged, Port: freePort(t), AutoManagedPort: am, Peers: peers}
		}
		a := startNode(t, cfg(p1), storeCfg)
		b := startNode(t, cfg(p2), storeCfg)
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
