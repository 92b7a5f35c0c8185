package cluster

import (
	"sync"
	"time"
)

// Leave takes this node out of the cluster while it still serves, so that a
// graceful stop (a rolling restart) fails as few of its peers' requests as
// it can: the provider deregisters it (etcd deletes its key at once;
// automanaged closes its health endpoint, which peers poll), and the node
// goes on answering for the grains it hosts until no live peer lists it, or
// for limit. Peers' sessions then send to new activations elsewhere (they
// check the PIDs they keep against the member list: Deps.Alive).
//
// Call Stop after it. On a single node it does nothing.
func (n *Node) Leave(limit time.Duration) {
	if !n.cfg.Multi() {
		return
	}
	n.stopWatching() // its own view drops it now: not an eviction
	self := n.memberID()
	if err := n.Cluster.Config.ClusterProvider.Shutdown(true); err != nil {
		n.log.Warn("leave: provider deregistration failed; peers find out by failure detection", "err", err)
	}
	if self == "" {
		return
	}
	deadline := time.Now().Add(limit)
	for n.listedByPeers(self) {
		if time.Now().After(deadline) {
			n.log.Warn("leave: peers still list this node", "after", limit.String())
			return
		}
		time.Sleep(n.cfg.ProbeInterval / 4)
	}
}

// listedByPeers asks every peer in this node's view, at once, whether it
// still lists the member id; one that does not answer counts as not.
func (n *Node) listedByPeers(self string) bool {
	var wg sync.WaitGroup
	members := n.Members()
	listed := make(chan bool, len(members))
	for _, addr := range members {
		if addr == n.System.Address() {
			continue
		}
		wg.Go(func() { listed <- n.ask(addr, self).listed })
	}
	wg.Wait()
	close(listed)
	for l := range listed {
		if l {
			return true
		}
	}
	return false
}

// stopWatching ends the eviction watch, if it runs.
func (n *Node) stopWatching() {
	if n.stopWatch != nil {
		close(n.stopWatch)
		n.stopWatch = nil
	}
}
