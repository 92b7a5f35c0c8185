//go:build unix

package cluster_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/actorchat/engine/cluster"
	"github.com/actorchat/engine/persistence/mongo/mongotest"
)

// TestEtcdOutageEveryNodeFindsOut: etcd stalled past the 3 s lease expires
// every member's key when it resumes; every node sees its own key deleted
// and Proto.Actor blocks every id, its own included, so the cluster cannot
// serve until each node restarts as a fresh member. Each must find out
// within SplitAfter of its own view dropping it, not wait for
// --evict-exit. (Unix only: it stalls etcd with SIGSTOP.)
func TestEtcdOutageEveryNodeFindsOut(t *testing.T) {
	endpoint, etcd := startEtcdProcess(t)
	storeCfg := mongotest.Config(t, mongotest.URI(t))
	type report struct {
		node, peer string
		at         time.Time
	}
	evicted := make(chan report, 2)
	cfg := func(name string) cluster.Config {
		return cluster.Config{Provider: cluster.ProviderEtcd, EtcdEndpoints: []string{endpoint}, Name: "etcdoutage",
			ProbeInterval: 100 * time.Millisecond, EvictAfter: 4 * time.Second, SplitAfter: time.Second,
			OnEvicted: func(peer string) { evicted <- report{name, peer, time.Now()} }}
	}
	a := startNode(t, cfg("a"), storeCfg)
	b := startNode(t, cfg("b"), storeCfg)
	waitMembers(t, 2, a, b)
	time.Sleep(5 * time.Second) // past the watch's quiet start (EvictAfter)
	if err := etcd.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	if err := etcd.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	got := map[string]string{}
	for len(got) < 2 {
		select {
		case r := <-evicted:
			got[r.node] = r.peer
			t.Logf("%s evicted %s after etcd resumed, naming %s", r.node, r.at.Sub(resumed).Round(time.Millisecond), r.peer)
		case <-time.After(20 * time.Second):
			t.Fatalf("after etcd's outage only %v found out (a sees %v, b sees %v)", got, a.node.Members(), b.node.Members())
		}
	}
	// Naming itself: its own view dropped it (SplitAfter), not a peer's
	// answers (that would name the peer, after EvictAfter).
	if got["a"] != a.node.Address() || got["b"] != b.node.Address() {
		t.Fatalf("evictions %v: want each node naming itself (a %s, b %s)", got, a.node.Address(), b.node.Address())
	}
}
