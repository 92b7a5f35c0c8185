package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/automanaged"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/actorchat/engine/actors"
)

// Config configures this node's cluster member. The zero value is a
// single-node cluster on a random loopback port.
type Config struct {
	// Name of the cluster; every member must agree. Default "chat".
	Name string
	// Host the remoting server (and the automanaged endpoint) binds and
	// advertises. Default "127.0.0.1".
	Host string
	// Port of the remoting server; 0 picks a free one (single node only).
	Port int
	// Provider is the membership provider; default ProviderLocal.
	Provider string
	// Peers are the automanaged endpoints ("host:port") of every node,
	// this one included.
	Peers []string
	// AutoManagedPort is this node's automanaged endpoint port.
	AutoManagedPort int
	// EtcdEndpoints are the etcd servers for ProviderEtcd.
	EtcdEndpoints []string
	// RefreshInterval is how often membership is polled (automanaged). Default 500ms.
	RefreshInterval time.Duration
	// RequestTimeout bounds one grain lookup and one grain request. Default 1s:
	// after a node dies, its conversations answer on another node within
	// about RefreshInterval + RequestTimeout.
	RequestTimeout time.Duration
	// HeartbeatExpiration is when gossip gives up on a silent member. Default 3s.
	HeartbeatExpiration time.Duration
	// OnEvicted, when set on a node of several, runs once when the node
	// finds that its peers dropped it for good (see evict.go); peer is the
	// address of the peer that showed it (this node's own address when its
	// own view dropped it). chatd exits so that a fresh member starts.
	OnEvicted func(peer string)
	// EvictAfter: a node checks nothing in its first EvictAfter, and (etcd)
	// leaves when a peer in its view has not listed it for that long.
	// Default 10s.
	EvictAfter time.Duration
	// ProbeInterval is how often a node checks. Default 1s.
	ProbeInterval time.Duration
	// SplitAfter is how long a node that knows it was dropped waits before
	// it leaves: automanaged, a node and a live peer not both listing each
	// other (the one to leave leaves); etcd, the node's own view not
	// listing it (its lease expired: every node, itself included, blocks
	// its id). Proto.Actor never mends either by itself, so this is short.
	// Default 3s.
	SplitAfter time.Duration
}

// ErrConfig reports an unusable Config.
var ErrConfig = errors.New("cluster: bad config")

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = "chat"
	}
	if c.Host == "" {
		c.Host = "127.0.0.1"
	}
	if c.Provider == "" {
		c.Provider = ProviderLocal
	}
	if c.RefreshInterval <= 0 {
		c.RefreshInterval = 500 * time.Millisecond
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = time.Second
	}
	if c.HeartbeatExpiration <= 0 {
		c.HeartbeatExpiration = 3 * time.Second
	}
	if c.EvictAfter <= 0 {
		c.EvictAfter = 10 * time.Second
	}
	if c.ProbeInterval <= 0 {
		c.ProbeInterval = time.Second
	}
	if c.SplitAfter <= 0 {
		c.SplitAfter = 3 * time.Second
	}
	return c
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch c.Provider {
	case ProviderLocal:
	case ProviderAutoManaged:
		if len(c.Peers) == 0 || c.AutoManagedPort <= 0 || c.Port <= 0 {
			return fmt.Errorf("%w: automanaged needs peers, an automanaged port and a fixed cluster port", ErrConfig)
		}
	case ProviderEtcd:
		if len(c.EtcdEndpoints) == 0 {
			return fmt.Errorf("%w: etcd needs endpoints", ErrConfig)
		}
	default:
		return fmt.Errorf("%w: unknown provider %q (local, automanaged, etcd)", ErrConfig, c.Provider)
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("%w: port %d", ErrConfig, c.Port)
	}
	return nil
}

// Multi reports whether the config forms a cluster of several nodes.
func (c Config) Multi() bool {
	p := c.withDefaults().Provider
	return p != ProviderLocal
}

// Node is this process's cluster member.
type Node struct {
	System  *actor.ActorSystem
	Cluster *pcluster.Cluster
	Hub     *actor.PID
	cfg     Config
	log     *slog.Logger
	closer  func()

	// members is our copy of the topology, kept from ClusterTopology events:
	// upstream's MemberList.Members() reads its map without a lock.
	mu      sync.Mutex
	members []string        // member addresses
	ids     map[string]bool // member ids
	selfID  string          // this node's member id as its view last listed it ("" until it has)

	stopWatch chan struct{} // ends the eviction watch
}

// Start joins the cluster, registers the conversation and user kinds, spawns the hub,
// and wires deps to the cluster. Start blocks about a second while the
// member joins.
func Start(cfg Config, deps *actors.Deps, log *slog.Logger) (node *Node, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	quiet := log.With("component", "protoactor")
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quiet }))
	n := &Node{System: sys, cfg: cfg, log: log}
	provider, closer, err := newProvider(cfg, n.selfModel)
	if err != nil {
		return nil, err
	}
	n.closer = closer
	kind := pcluster.NewKind(actors.Kind, actors.NewConversationProps(deps))
	userKind := pcluster.NewKind(actors.UserKind, actors.NewUserProps(deps))
	ccfg := pcluster.Configure(cfg.Name, provider, disthash.New(),
		remote.Configure(cfg.Host, cfg.Port),
		pcluster.WithKinds(kind, userKind),
		pcluster.WithRequestTimeout(cfg.RequestTimeout),
		pcluster.WithHeartbeatExpiration(cfg.HeartbeatExpiration))
	ccfg.TimeoutTime = cfg.RequestTimeout
	n.Cluster = pcluster.New(sys, ccfg)
	sys.EventStream.Subscribe(func(evt any) {
		if topo, ok := evt.(*pcluster.ClusterTopology); ok {
			n.setMembers(topo.Members)
		}
	})
	deps.Hubs = n.hubs
	deps.Grain = n.grain
	deps.ForgetGrain = n.Forget
	deps.Alive = n.alive
	deps.User = n.userGrain

	defer func() {
		// Proto.Actor reports a failed start by panicking.
		if r := recover(); r != nil {
			closer()
			err = fmt.Errorf("cluster: start member: %v", r)
		}
	}()
	n.Cluster.StartMember()
	if n.Hub, err = actors.SpawnHub(sys, deps); err != nil {
		n.Stop(false)
		return nil, err
	}
	if err = n.spawnMembersActor(); err != nil {
		n.Stop(false)
		return nil, fmt.Errorf("spawn %s: %w", MembersActor, err)
	}
	if cfg.Multi() && cfg.OnEvicted != nil {
		n.stopWatch = make(chan struct{})
		go n.watchEviction(n.stopWatch)
	}
	return n, nil
}

// selfModel is what this node's automanaged endpoint answers.
func (n *Node) selfModel() (*HealthModel, error) {
	if n.Cluster == nil {
		return nil, errors.New("not started")
	}
	host, port, err := n.System.GetHostPort()
	if err != nil {
		return nil, err
	}
	return &HealthModel{
		NodeModel: *automanaged.NewNode(n.cfg.Name, n.System.ID, host, port, n.cfg.AutoManagedPort, []string{actors.Kind, actors.UserKind}),
		View:      n.view(),
	}, nil
}

func (n *Node) setMembers(ms []*pcluster.Member) {
	addrs := make([]string, 0, len(ms))
	ids := make(map[string]bool, len(ms))
	self := ""
	for _, m := range ms {
		addrs = append(addrs, m.Address())
		ids[m.Id] = true
		if m.Address() == n.System.Address() {
			self = m.Id
		}
	}
	n.mu.Lock()
	n.members, n.ids = addrs, ids
	if self != "" {
		n.selfID = self // kept when the view drops it: the id peers would list
	}
	n.mu.Unlock()
}

// alive reports whether addr is a member in this node's view (every
// address is, before the first topology arrives).
func (n *Node) alive(addr string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.members) == 0 || slices.Contains(n.members, addr)
}

// Members returns the addresses of the members this node currently sees.
func (n *Node) Members() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.members...)
}

// hubs returns the hub PID of every current member.
func (n *Node) hubs() []*actor.PID {
	members := n.Members()
	pids := make([]*actor.PID, 0, len(members))
	for _, addr := range members {
		pids = append(pids, actor.NewPID(addr, actors.HubName))
	}
	if len(pids) == 0 {
		pids = append(pids, n.Hub)
	}
	return pids
}

// grain resolves the PID of a conversation's grain, activating it if
// needed, within RequestTimeout.
func (n *Node) grain(conversationID string) *actor.PID {
	return n.lookup(conversationID, actors.Kind)
}

// userGrain resolves the PID of a user's grain like grain.
func (n *Node) userGrain(userID string) *actor.PID {
	return n.lookup(userID, actors.UserKind)
}

// lookup resolves the PID of a grain of kind, activating it if needed,
// within RequestTimeout. (Upstream's disthash lookup waits 5s whatever the
// caller's timeout; a lookup we give up on finishes in its goroutine and its
// result is dropped.)
func (n *Node) lookup(identity, kind string) *actor.PID {
	if pid, ok := n.Cluster.PidCache.Get(identity, kind); ok && pid != nil {
		return pid
	}
	found := make(chan *actor.PID, 1)
	go func() { found <- n.Cluster.Get(identity, kind) }()
	select {
	case pid := <-found:
		if pid != nil {
			n.Cluster.PidCache.Set(identity, kind, pid)
		}
		return pid
	case <-time.After(n.cfg.RequestTimeout):
		return nil
	}
}

// ErrUnreachable means no grain answered within the request deadline.
var ErrUnreachable = errors.New("cluster: conversation unreachable")

// Request sends msg to a conversation's grain and waits for its reply. A
// dead or moved grain is looked up again, with a short backoff, until
// 3×RequestTimeout have passed.
func (n *Node) Request(conversationID string, msg any) (any, error) {
	deadline := time.Now().Add(3 * n.cfg.RequestTimeout)
	for attempt := 0; time.Now().Before(deadline); attempt++ {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 50 * time.Millisecond)
		}
		pid := n.grain(conversationID)
		if pid == nil {
			continue
		}
		res, err := n.System.Root.RequestFuture(pid, msg, n.cfg.RequestTimeout).Result()
		if err == nil {
			return res, nil
		}
		n.Cluster.PidCache.Remove(conversationID, actors.Kind)
	}
	return nil, fmt.Errorf("request %s: %w", conversationID, ErrUnreachable)
}

// RequestUser sends msg to a user's grain and waits for its reply, like Request.
func (n *Node) RequestUser(userID string, msg any) (any, error) {
	deadline := time.Now().Add(3 * n.cfg.RequestTimeout)
	for attempt := 0; time.Now().Before(deadline); attempt++ {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 50 * time.Millisecond)
		}
		pid := n.userGrain(userID)
		if pid == nil {
			continue
		}
		res, err := n.System.Root.RequestFuture(pid, msg, n.cfg.RequestTimeout).Result()
		if err == nil {
			return res, nil
		}
		n.Cluster.PidCache.Remove(userID, actors.UserKind)
	}
	return nil, fmt.Errorf("request user %s: %w", userID, ErrUnreachable)
}

// Forget drops a cached grain PID (after a request to it failed).
func (n *Node) Forget(conversationID string) {
	n.Cluster.PidCache.Remove(conversationID, actors.Kind)
}

// Address is this member's remoting address.
func (n *Node) Address() string { return n.System.Address() }

// Stop shuts the node's actor system and remoting down; graceful waits for
// ownership hand-over. A node that drains calls Leave first.
func (n *Node) Stop(graceful bool) {
	n.stopWatching()
	n.Cluster.Shutdown(graceful)
	n.closer()
}
