package cluster

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
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
// pausing that long (a 2.6 s SIGSTOP does it: the peers' health check times
// out after 2 s) would run half connected for as long as it lives: grains
// on the peers that dropped it stop broadcasting to its hub. Nor does a
// drop stay one-sided: the dropped node stops getting the others' gossip
// heartbeats and drops them in turn, and the cluster stays split, each side
// activating grains alone (fenced only by the store's epochs).
//
// So every ProbeInterval a node checks that its peers and it list each
// other, and when they have not for a while, the node that should leave
// runs Config.OnEvicted (chatd drains and exits so that its supervisor
// starts a fresh member; one restart mends a pair, since the new member id
// is blocked nowhere):
//   - automanaged: it reads every configured peer's health endpoint, which
//     also lists that peer's view. For a live peer that it and that do not
//     both list each other, for SplitAfter, the node that leaves is the one
//     fewer live views list; then the one whose own view is smaller; then
//     the one with the greater member id. So a node that was paused and
//     dropped everyone leaves, and the nodes that still agree stay.
//   - other providers (etcd): it asks each peer in its view whether the
//     peer lists it (MemberProbe to the peer's MembersActor); a peer that
//     has answered no, and never yes, for EvictAfter makes it leave, and so
//     does its own view not listing it for SplitAfter (that one is
//     unambiguous: its key was deleted, and Proto.Actor blocks the id for
//     good, here too; after an etcd outage longer than the lease every node
//     is in that state, and the sooner they restart the sooner the cluster
//     serves again). A peer that does not answer is no evidence: under
//     overload, probes time out, and a node that left for that would add
//     to the load it left behind.
// Neither check acts during the node's first EvictAfter, while peers admit
// it.

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

// probeResult is one peer's answer, or that none came in time.
type probeResult struct {
	addr     string
	answered bool
	listed   bool
}

// leave is the outcome of one round of automanaged checks: whether this
// node should leave, and because of which peer.
type leave struct {
	yes  bool
	peer string
}

// evictionStrikes tracks, per peer, since when a check has kept failing.
type evictionStrikes map[string]time.Time

// strike records a failed check at now and returns how long they have failed.
func (e evictionStrikes) strike(peer string, now time.Time) time.Duration {
	since, ok := e[peer]
	if !ok {
		e[peer], since = now, now
	}
	return now.Sub(since)
}

// watchEviction runs until stop is closed or the node finds itself evicted.
func (n *Node) watchEviction(stop <-chan struct{}) {
	t := time.NewTicker(n.cfg.ProbeInterval)
	defer t.Stop()
	started := time.Now()
	refused := evictionStrikes{}   // per peer: since when it has answered that it does not list us
	outOfView := evictionStrikes{} // this node: since when its own view has not listed it
	split := evictionStrikes{}     // per peer: since when this node should leave because of it
	results := make(chan probeResult)
	leaves := make(chan leave)
	evicted := func(peer string, d time.Duration, why string) {
		n.log.Error("evicted: the cluster will not let this member id back in", "peer", peer,
			"for", d.Round(time.Millisecond).String(), "why", why)
		n.cfg.OnEvicted(peer)
	}
	for {
		select {
		case <-stop:
			return
		case r := <-results:
			switch {
			case !r.answered: // slow or unreachable: no evidence either way
			case r.listed:
				delete(refused, r.addr)
			default:
				if d := refused.strike(r.addr, time.Now()); d > n.cfg.EvictAfter {
					evicted(r.addr, d, "a peer in this node's view answers that it does not list this node")
					return
				}
			}
		case l := <-leaves:
			if !l.yes {
				clear(split)
			} else if d := split.strike(l.peer, time.Now()); d > n.cfg.SplitAfter {
				evicted(l.peer, d, "this node and a live peer do not both list each other, and this node is the one to leave")
				return
			}
		case now := <-t.C:
			if now.Sub(started) < n.cfg.EvictAfter {
				continue // peers are still admitting us
			}
			if n.cfg.Provider == ProviderAutoManaged {
				go n.checkViews(leaves, stop)
				continue
			}
			if d, gone := n.probePeers(now, outOfView, refused, results, stop); gone {
				evicted(n.System.Address(), d, "this node's own view no longer lists it")
				return
			}
		}
	}
}

// probePeers is one etcd round of the watch: gone when this node's own view
// has not listed it for SplitAfter (d: for how long); otherwise it asks
// every peer in its view, answers coming to results.
func (n *Node) probePeers(now time.Time, outOfView, refused evictionStrikes, results chan<- probeResult,
	stop <-chan struct{}) (d time.Duration, gone bool) {
	self := n.memberID()
	if self == "" {
		return 0, false // not yet in its own view: nothing to ask about
	}
	if n.lists(self) {
		clear(outOfView)
	} else if d := outOfView.strike(self, now); d > n.cfg.SplitAfter {
		return d, true
	}
	peers := map[string]bool{}
	for _, addr := range n.Members() {
		peers[addr] = addr != n.System.Address()
	}
	for addr := range refused {
		if !peers[addr] {
			delete(refused, addr) // it left our view: nothing to ask
		}
	}
	for addr, peer := range peers {
		if peer {
			go n.probe(addr, self, results, stop)
		}
	}
	return 0, false
}

// memberID is this node's member id as its view listed it last: not always
// the actor system's id (the etcd provider registers "<cluster name>@<system
// id>"); "" until its view has listed it. A node whose own view dropped it
// (its etcd lease expired: it saw its own key deleted, and Proto.Actor
// blocked the id even here) keeps asking under that id, and its peers,
// which dropped it too, answer no.
func (n *Node) memberID() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.selfID
}

// probe asks one peer whether it lists this node (by the id this node's
// own view gives it, which is what the peer's view holds too).
func (n *Node) probe(addr, self string, results chan<- probeResult, stop <-chan struct{}) {
	select {
	case results <- n.ask(addr, self):
	case <-stop:
	}
}

// ask asks the peer at addr whether its view lists the member id self.
func (n *Node) ask(addr, self string) probeResult {
	res, err := n.System.Root.RequestFuture(actor.NewPID(addr, MembersActor),
		&actors.MemberProbe{MemberId: self}, n.cfg.RequestTimeout).Result()
	r, _ := res.(*actors.MemberProbeResult)
	return probeResult{addr: addr, answered: err == nil && r != nil, listed: err == nil && r != nil && r.Listed}
}

// checkViews reads every configured peer's health endpoint and decides
// whether this node should leave (see the watch's doc above).
func (n *Node) checkViews(out chan<- leave, stop <-chan struct{}) {
	me := HealthModel{View: n.view()}
	me.ID = n.System.ID
	models := []HealthModel{me}
	var mu sync.Mutex
	var wg sync.WaitGroup
	client := http.Client{Timeout: n.cfg.RequestTimeout}
	for _, endpoint := range n.cfg.Peers {
		wg.Go(func() {
			res, err := client.Get("http://" + endpoint + "/_health")
			if err != nil {
				return // down or paused: no view to weigh
			}
			defer res.Body.Close()
			var m HealthModel
			if res.StatusCode == http.StatusOK && json.NewDecoder(res.Body).Decode(&m) == nil && m.ID != "" && m.ID != me.ID {
				mu.Lock()
				models = append(models, m)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	l := decideLeave(models)
	select {
	case out <- l:
	case <-stop:
	}
}

// decideLeave weighs the live nodes' views; models[0] is this node. For
// every peer that this node and that do not both list each other, the node
// listed by fewer live views leaves; then the one listing fewer; then the
// greater id.
func decideLeave(models []HealthModel) leave {
	listedBy := map[string]int{}
	for _, m := range models {
		for _, id := range m.View {
			listedBy[id]++
		}
	}
	me := models[0]
	rank := func(m HealthModel) [2]int { return [2]int{listedBy[m.ID], len(m.View)} }
	for _, p := range models[1:] {
		if slices.Contains(me.View, p.ID) && slices.Contains(p.View, me.ID) {
			continue
		}
		mine, theirs := rank(me), rank(p)
		if mine[0] < theirs[0] || (mine[0] == theirs[0] && (mine[1] < theirs[1] || (mine[1] == theirs[1] && me.ID > p.ID))) {
			return leave{yes: true, peer: p.Address + ":" + strconv.Itoa(p.Port)}
		}
	}
	return leave{}
}
