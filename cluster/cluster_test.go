package cluster_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorchat/engine/actors"
	"github.com/actorchat/engine/cluster"
	"github.com/actorchat/engine/persistence"
	"github.com/actorchat/engine/persistence/mongo"
	"github.com/actorchat/engine/persistence/mongo/mongotest"
)

// testConn collects what a session sends to its connection.
type testConn struct {
	mu     sync.Mutex
	events []actors.Outbound
}

func (c *testConn) Send(ev actors.Outbound) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, ev)
	return true
}

func (c *testConn) Close(actors.CloseReason) {}

func (c *testConn) snapshot() []actors.Outbound {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]actors.Outbound(nil), c.events...)
}

// waitFor polls until ok holds for the events so far.
func (c *testConn) waitFor(t *testing.T, what string, ok func([]actors.Outbound) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if ok(c.snapshot()) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; got %d events", what, len(c.snapshot()))
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type testNode struct {
	node *cluster.Node
	deps *actors.Deps
}

func startNode(t *testing.T, cfg cluster.Config, storeCfg mongo.Config) *testNode {
	t.Helper()
	st, err := mongo.Open(context.Background(), storeCfg)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	deps, err := actors.NewDeps(actors.Deps{Store: st, Log: log})
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

// waitMembers waits until every node sees n members.
func waitMembers(t *testing.T, n int, nodes ...*testNode) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		all := true
		for _, tn := range nodes {
			if len(tn.node.Members()) != n {
				all = false
			}
		}
		if all {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("cluster did not reach %d members", n)
}

// checkCrossNodeDelivery creates conversations through one node, connects
// alice to the first node and bob to the second, and checks that every
// message alice sends is acked on her node and delivered on bob's, in order,
// wherever its grain lives.
func checkCrossNodeDelivery(t *testing.T, a, b *testNode) {
	const convs, perConv = 6, 5
	ids := make([]string, convs)
	for i := range ids {
		ids[i] = fmt.Sprintf("conv-%d", i)
		res, err := a.node.Request(ids[i], &actors.CreateConversation{Kind: "group", Title: ids[i], CreatedBy: "alice",
			Members: []*actors.MemberSpec{{UserId: "alice", Role: "owner"}, {UserId: "bob", Role: "member"}}})
		if err != nil || res.(*actors.AdminResult).ErrorCode != "" {
			t.Fatalf("create %s: %v %v", ids[i], res, err)
		}
	}
	aliceConn, bobConn := &testConn{}, &testConn{}
	alice := actors.SpawnSession(a.node.System, a.deps, "alice", "a1", aliceConn)
	actors.SpawnSession(b.node.System, b.deps, "bob", "b1", bobConn)
	ready := func(evs []actors.Outbound) bool {
		for _, ev := range evs {
			if _, ok := ev.(*actors.Ready); ok {
				return true
			}
		}
		return false
	}
	aliceConn.waitFor(t, "alice ready", ready)
	bobConn.waitFor(t, "bob ready", ready)
	for i := 0; i < perConv; i++ {
		for _, id := range ids {
			a.node.System.Root.Send(alice, &actors.ClientSend{RequestID: id + strconv.Itoa(i), ConversationID: id, ClientMsgID: strconv.Itoa(i), Body: "hi"})
		}
	}
	count := func(evs []actors.Outbound, want func(actors.Outbound) bool) int {
		n := 0
		for _, ev := range evs {
			if want(ev) {
				n++
			}
		}
		return n
	}
	isAck := func(ev actors.Outbound) bool { _, ok := ev.(*actors.Ack); return ok }
	isDelivery := func(ev actors.Outbound) bool { _, ok := ev.(*actors.Delivery); return ok }
	aliceConn.waitFor(t, "acks", func(evs []actors.Outbound) bool { return count(evs, isAck) == convs*perConv })
	bobConn.waitFor(t, "deliveries on the other node", func(evs []actors.Outbound) bool { return count(evs, isDelivery) == convs*perConv })
	next := map[string]int64{}
	for _, ev := range bobConn.snapshot() {
		if d, ok := ev.(*actors.Delivery); ok {
			c := d.Msg.ConversationId
			if d.Msg.Seq != next[c]+1 {
				t.Fatalf("%s: seq %d after %d", c, d.Msg.Seq, next[c])
			}
			next[c] = d.Msg.Seq
		}
	}
	for _, ev := range aliceConn.snapshot() {
		if f, ok := ev.(*actors.Failure); ok {
			t.Fatalf("send refused: %+v", f)
		}
	}
}

// autoManagedPair returns the configs of two automanaged nodes on free
// loopback ports that list each other as peers.
func autoManagedPair(t *testing.T) [2]cluster.Config {
	t.Helper()
	p1, p2 := freePort(t), freePort(t)
	peers := []string{fmt.Sprintf("127.0.0.1:%d", p1), fmt.Sprintf("127.0.0.1:%d", p2)}
	var cfgs [2]cluster.Config
	for i, am := range []int{p1, p2} {
		cfgs[i] = cluster.Config{Provider: cluster.ProviderAutoManaged, Port: freePort(t), AutoManagedPort: am, Peers: peers}
	}
	return cfgs
}

func TestAutoManagedClusterDeliversAcrossNodes(t *testing.T) {
	storeCfg := mongotest.Config(t, mongotest.URI(t))
	cfgs := autoManagedPair(t)
	a := startNode(t, cfgs[0], storeCfg)
	b := startNode(t, cfgs[1], storeCfg)
	waitMembers(t, 2, a, b)
	checkCrossNodeDelivery(t, a, b)
}

func TestEtcdClusterDeliversAcrossNodes(t *testing.T) {
	endpoint := startEtcd(t)
	storeCfg := mongotest.Config(t, mongotest.URI(t))
	cfg := cluster.Config{Provider: cluster.ProviderEtcd, EtcdEndpoints: []string{endpoint}, Name: "etcdtest"}
	a := startNode(t, cfg, storeCfg)
	b := startNode(t, cfg, storeCfg)
	waitMembers(t, 2, a, b)
	checkCrossNodeDelivery(t, a, b)
}

// startEtcd runs Debian's etcd on loopback ports for this test. A missing
// etcd fails the test: `make test` installs it (etcd-server).
func startEtcd(t *testing.T) string {
	t.Helper()
	endpoint, _ := startEtcdProcess(t)
	return endpoint
}

// startEtcdProcess is startEtcd that also returns the etcd process.
func startEtcdProcess(t *testing.T) (string, *os.Process) {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		t.Fatalf("etcd not found (Debian package etcd-server; `make deps` installs it): %v", err)
	}
	client, peer := freePort(t), freePort(t)
	clientURL := fmt.Sprintf("http://127.0.0.1:%d", client)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peer)
	dir := t.TempDir()
	cmd := exec.Command(bin, "--name", "test", "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "test="+peerURL, "--log-level", "error")
	logf, _ := os.Create(filepath.Join(dir, "etcd.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", client)); err == nil {
			c.Close()
			return fmt.Sprintf("127.0.0.1:%d", client), cmd.Process
		}
		time.Sleep(50 * time.Millisecond)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "etcd.log"))
	t.Fatalf("etcd did not start: %s", raw)
	return "", nil
}

var _ persistence.Store = (*mongo.Store)(nil)

// TestEvictedNodeFindsOut: a peer that drops a node from its view for good
// (Proto.Actor's block list: here set by hand, as a failed health check or
// an expired heartbeat would) makes the eviction watch fire on one of the
// two, naming the other. While both list each other, it never fires.
func TestEvictedNodeFindsOut(t *testing.T) {
	storeCfg := mongotest.Config(t, mongotest.URI(t))
	type report struct{ node, peer string }
	evicted := make(chan report, 2)
	cfgs := autoManagedPair(t)
	for i, name := range []string{"a", "b"} {
		cfgs[i].ProbeInterval, cfgs[i].EvictAfter = 100*time.Millisecond, 3*time.Second
		cfgs[i].OnEvicted = func(peer string) { evicted <- report{name, peer} }
	}
	a := startNode(t, cfgs[0], storeCfg)
	b := startNode(t, cfgs[1], storeCfg)
	waitMembers(t, 2, a, b)
	select {
	case r := <-evicted:
		t.Fatalf("eviction reported by a healthy cluster: %+v", r)
	case <-time.After(6 * time.Second):
	}
	a.node.Cluster.Remote.BlockList().Block(b.node.System.ID)
	select {
	case r := <-evicted:
		t.Logf("eviction reported: %+v", r)
		switch {
		case r.node == "b" && r.peer == a.node.Address():
		case r.node == "a" && r.peer == b.node.Address():
		default:
			t.Fatalf("eviction reported as %+v; a is %s (%s), b is %s (%s)", r,
				a.node.Address(), a.node.System.ID, b.node.Address(), b.node.System.ID)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("b was dropped from a's view (a sees %v, b sees %v) but no node found out", a.node.Members(), b.node.Members())
	}
}

// TestEtcdEvictedNodeFindsOut: a node cut off from etcd past its lease (3 s)
// without pausing (its traffic to etcd stalls in a proxy, as in a network
// partition) is dropped by its peer for good; when the link heals it
// registers again under the same member id, which the peer (and its own
// view) keeps out. The eviction watch fires on it, naming the peer or
// itself. While the link is healthy it never fires.
func TestEtcdEvictedNodeFindsOut(t *testing.T) {
	endpoint := startEtcd(t)
	link := newStallProxy(t, endpoint)
	storeCfg := mongotest.Config(t, mongotest.URI(t))
	type report struct{ node, peer string }
	evicted := make(chan report, 2)
	cfg := func(name, etcd string) cluster.Config {
		return cluster.Config{Provider: cluster.ProviderEtcd, EtcdEndpoints: []string{etcd}, Name: "etcdevict",
			ProbeInterval: 200 * time.Millisecond, EvictAfter: 3 * time.Second,
			OnEvicted: func(peer string) { evicted <- report{name, peer} }}
	}
	a := startNode(t, cfg("a", endpoint), storeCfg)
	b := startNode(t, cfg("b", link.addr()), storeCfg)
	waitMembers(t, 2, a, b)
	select {
	case r := <-evicted:
		t.Fatalf("eviction reported by a healthy cluster: %+v", r)
	case <-time.After(5 * time.Second):
	}
	link.stall(true)
	deadline := time.Now().Add(15 * time.Second)
	for len(a.node.Members()) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("a still lists b after b's link to etcd stalled: %v", a.node.Members())
		}
		time.Sleep(50 * time.Millisecond)
	}
	link.stall(false)
	select {
	case r := <-evicted:
		if r.node != "b" || (r.peer != a.node.Address() && r.peer != b.node.Address()) {
			t.Fatalf("eviction reported as %+v; want b naming a (%s) or itself (%s)", r, a.node.Address(), b.node.Address())
		}
		t.Logf("eviction reported: %+v", r)
	case <-time.After(20 * time.Second):
		t.Fatalf("b was dropped by a (a sees %v, b sees %v) but b never found out", a.node.Members(), b.node.Members())
	}
}

// TestEtcdUnansweredProbesDoNotEvict: a peer that does not answer probes
// (here its members actor is gone; under overload they time out) is no
// evidence of eviction: the prober must not leave. An overloaded cluster
// that shed nodes for slow answers would overload what is left.
func TestEtcdUnansweredProbesDoNotEvict(t *testing.T) {
	endpoint := startEtcd(t)
	storeCfg := mongotest.Config(t, mongotest.URI(t))
	evicted := make(chan string, 2)
	cfg := func(name string) cluster.Config {
		return cluster.Config{Provider: cluster.ProviderEtcd, EtcdEndpoints: []string{endpoint}, Name: "etcdsilent",
			ProbeInterval: 100 * time.Millisecond, EvictAfter: 2 * time.Second,
			OnEvicted: func(peer string) { evicted <- name + " named " + peer }}
	}
	a := startNode(t, cfg("a"), storeCfg)
	b := startNode(t, cfg("b"), storeCfg)
	waitMembers(t, 2, a, b)
	members := actor.NewPID(b.node.System.Address(), cluster.MembersActor)
	if _, err := a.node.System.Root.RequestFuture(members, &actors.MemberProbe{MemberId: "nobody"}, time.Second).Result(); err != nil {
		t.Fatalf("b's members actor does not answer before it is stopped: %v", err)
	}
	if err := b.node.System.Root.StopFuture(members).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.node.System.Root.RequestFuture(members, &actors.MemberProbe{MemberId: "nobody"}, time.Second).Result(); err == nil {
		t.Fatal("b's members actor still answers after it was stopped")
	}
	select {
	case r := <-evicted:
		t.Fatalf("eviction reported (%s) although every peer lists every node; only b does not answer", r)
	case <-time.After(3 * 2 * time.Second):
	}
}

// stallProxy forwards TCP connections to a target; stall(true) holds every
// byte in both directions (connections stay open, as across a partition)
// until stall(false).
type stallProxy struct {
	l       net.Listener
	target  string
	mu      sync.Mutex
	stalled bool
	resume  chan struct{} // closed when a stall ends
}

func newStallProxy(t *testing.T, target string) *stallProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{l: l, target: target, resume: make(chan struct{})}
	var conns sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	t.Cleanup(func() {
		p.stall(false)
		l.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		conns.Wait()
	})
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			mu.Lock()
			open = append(open, in, out)
			mu.Unlock()
			conns.Add(2)
			go func() { defer conns.Done(); p.pipe(out, in) }()
			go func() { defer conns.Done(); p.pipe(in, out) }()
		}
	}()
	return p
}

func (p *stallProxy) addr() string { return p.l.Addr().String() }

func (p *stallProxy) stall(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on == p.stalled {
		return
	}
	p.stalled = on
	if !on {
		close(p.resume)
		p.resume = make(chan struct{})
	}
}

// wait blocks while the proxy is stalled.
func (p *stallProxy) wait() {
	p.mu.Lock()
	stalled, resume := p.stalled, p.resume
	p.mu.Unlock()
	if stalled {
		<-resume
	}
}

// pipe copies src to dst, holding each chunk while the proxy is stalled.
func (p *stallProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.wait()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestDecideLeave: of two nodes that do not both list each other, the one
// fewer live views list leaves, then the one listing fewer, then the
// greater id; nodes that agree stay.
func TestDecideLeave(t *testing.T) {
	node := func(id string, view ...string) cluster.HealthModel {
		m := cluster.HealthModel{View: view}
		m.ID, m.Address, m.Port = id, "127.0.0.1", int(id[0])
		return m
	}
	n1, n2 := node("1", "1", "2"), node("2", "1", "2")
	cases := []struct {
		name   string
		models []cluster.HealthModel // [0] decides
		leave  bool
	}{
		{"healthy", []cluster.HealthModel{node("1", "1", "2", "3"), node("2", "1", "2", "3"), node("3", "1", "2", "3")}, false},
		{"paused node dropped everyone: it leaves", []cluster.HealthModel{node("3", "3"), n1, n2}, true},
		{"the majority stays", []cluster.HealthModel{n1, n2, node("3", "3")}, false},
		{"one-sided: the node that still lists the other stays", []cluster.HealthModel{node("1", "1", "2", "3"), node("2", "1", "2"), node("3", "2", "3")}, false},
		{"one-sided: the node that dropped a live peer leaves", []cluster.HealthModel{node("3", "2", "3"), node("1", "1", "2", "3"), node("2", "1", "2")}, true},
		{"two nodes apart: the greater id leaves", []cluster.HealthModel{node("2", "2"), node("1", "1")}, true},
		{"two nodes apart: the smaller id stays", []cluster.HealthModel{node("1", "1"), node("2", "2")}, false},
		{"a peer that is down is not weighed", []cluster.HealthModel{n1}, false},
	}
	for _, c := range cases {
		if got := cluster.DecideLeave(c.models); got != c.leave {
			t.Errorf("%s: leave %v, want %v", c.name, got, c.leave)
		}
	}
}
