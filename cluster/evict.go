package cluster

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorchat/engine/actors"
)

// The eviction watch.
//
// Proto.Actor blocks a member that left a node's view for good: a failed
// health check, an expired gossip heartbeat or etcd lease, and that member
// id is never let back in. The member itself is not told. chatd exits
// after a long pause of its own (--pause-exit), but a node dropped without
// pausing that long (starved for a few seconds, a short network cut) would
// run on half connected: grains on the peer that dropped it stop
// broadcasting to its hub, and its sends to them may fail, for as long as
// it lives.
//
// A one-sided drop does not stay one-sided for long: the dropped node stops
// getting the other's gossip heartbeats and blocks it in turn, and two
// nodes that block each other each run alone for good (their grains fenced
// only by the store's epochs). So every ProbeInterval a node
//   - asks each peer in its view whether the peer lists it (MemberProbe to
//     the peer's MembersActor): one that has not for EvictAfter has evicted
//     it, or cannot hear it, which is no better;
//   - with the automanaged provider, reads every configured peer's health
//     endpoint (which also lists the peer's view): a peer alive under a
//     member id this node blocks, and that does not list this node either,
//     is the other half of a split, which never mends by itself: after
//     SplitAfter the node on the smaller side restarts (on equal sides, the
//     one with the greater id): one restart mends the pair, since its new
//     id is blocked nowhere.
//
// Either way Config.OnEvicted runs once, and chatd drains and exits so that
// its supervisor starts a fresh member. (With etcd, only the first check
// runs.)

// MembersActor is the name of the actor that answers MemberProbe on every node.
const MembersActor = "members"

// spawnMembersActor starts the actor that tells peers whether this node
// lists them.
func (n *Node) spawnMembersActor() error {
	props := actor.PropsFromFunc(func(c actor.Context) {
		if p, ok := c.Message().(*actors.MemberProbe); ok {
			c.Respond(&actors.MemberProbeResult{Listed: n.lists(p.MemberId)})
		}
	})
	_, err := n.System.Root.SpawnNamed(props, MembersActor)
	return err
}

// lists reports whether this node's view holds the member id.
func (n *Node) lists(id string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ids[id]
}

// view returns the member ids this node's view holds.
func (n *Node) view() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Sorted(maps.Keys(n.ids))
}

// probeResult is one peer's answer (listed false also for no answer).
type probeResult struct {
	addr   string
	listed bool
}

// watchEviction runs until stop is closed or the node finds itself evicted.
func (n *Node) watchEviction(stop <-chan struct{}) {
	t := time.NewTicker(n.cfg.ProbeInterval)
	defer t.Stop()
	self := n.System.Address()
	// confirmed is, per peer in the view, when it last listed us (at first:
	// when we first saw it, so a peer gets EvictAfter to admit us).
	confirmed := map[string]time.Time{}
	// split is, per configured peer endpoint, since when it has been alive
	// under a member id we block.
	split := map[string]time.Time{}
	results := make(chan probeResult)
	splits := make(chan splitResult)
	evicted := func(peer string, silent time.Duration, why string) {
		n.log.Error("evicted: the cluster will not let this member id back in", "peer", peer,
			"for", silent.Round(time.Millisecond).String(), "why", why)
		n.cfg.OnEvicted(peer)
	}
	for {
		select {
		case <-stop:
			return
		case r := <-results:
			if _, ok := confirmed[r.addr]; ok && r.listed {
				confirmed[r.addr] = time.Now()
			}
		case r := <-splits:
			if !r.blocked {
				delete(split, r.endpoint)
			} else if _, ok := split[r.endpoint]; !ok {
				split[r.endpoint] = time.Now()
			}
		case now := <-t.C:
			peers := map[string]bool{}
			for _, addr := range n.Members() {
				if addr != self {
					peers[addr] = true
				}
			}
			for addr := range confirmed {
				if !peers[addr] {
					delete(confirmed, addr) // it left our view: nothing to ask
				}
			}
			for addr := range peers {
				since, ok := confirmed[addr]
				if !ok {
					confirmed[addr], since = now, now
				}
				if silent := now.Sub(since); silent > n.cfg.EvictAfter {
					evicted(addr, silent, "a peer in this node's view does not list it")
					return
				}
				go n.probe(addr, results, stop)
			}
			for endpoint, since := range split {
				if d := now.Sub(since); d > n.cfg.SplitAfter {
					evicted(endpoint, d, "a peer this node blocks is alive and does not list it either: the cluster is split, and this node is on the smaller side")
					return
				}
			}
			if n.cfg.Provider == ProviderAutoManaged {
				for _, endpoint := range n.cfg.Peers {
					go n.checkSplit(endpoint, splits, stop)
				}
			}
		}
	}
}

// probe asks one peer whether it lists this node.
func (n *Node) probe(addr string, results chan<- probeResult, stop <-chan struct{}) {
	r := probeResult{addr: addr, listed: n.listedBy(addr)}
	select {
	case results <- r:
	case <-stop:
	}
}

// listedBy asks the node at addr (its remoting address) whether it lists
// this node; no answer counts as no.
func (n *Node) listedBy(addr string) bool {
	res, err := n.System.Root.RequestFuture(actor.NewPID(addr, MembersActor),
		&actors.MemberProbe{MemberId: n.System.ID}, n.cfg.RequestTimeout).Result()
	r, _ := res.(*actors.MemberProbeResult)
	return err == nil && r != nil && r.Listed
}

// splitResult is one configured peer's state (blocked false also when it
// does not answer: a dead peer is no split).
type splitResult struct {
	endpoint string
	blocked  bool
}

// checkSplit reads a peer's automanaged health endpoint and reports whether
// this node should leave a split with it: the peer is alive under a member
// id this node blocks, it does not list this node either (one-sided, the
// dropped node's own watch restarts it), and this node is on the smaller
// side (on equal sides: it has the greater id). One restart mends the pair.
func (n *Node) checkSplit(endpoint string, out chan<- splitResult, stop <-chan struct{}) {
	r := splitResult{endpoint: endpoint}
	client := http.Client{Timeout: n.cfg.RequestTimeout}
	if res, err := client.Get("http://" + endpoint + "/_health"); err == nil {
		var m HealthModel
		if res.StatusCode == http.StatusOK && json.NewDecoder(res.Body).Decode(&m) == nil && m.ID != "" &&
			n.Cluster.Remote.BlockList().IsBlocked(m.ID) && !slices.Contains(m.View, n.System.ID) {
			mine, theirs := len(n.view()), len(m.View)
			r.blocked = mine < theirs || (mine == theirs && n.System.ID > m.ID)
		}
		_ = res.Body.Close()
	}
	select {
	case out <- r:
	case <-stop:
	}
}
