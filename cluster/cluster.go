package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/actorchat/engine/actors"
)

// Provider names.
const (
	// ProviderLocal is an in-process membership: a one-member cluster.
	ProviderLocal = "local"
)

// Config configures this node's cluster member. The zero value is a
// single-node cluster on a random loopback port.
type Config struct {
	// Name of the cluster; every member must agree. Default "chat".
	Name string
	// Host the remoting server binds. Default "127.0.0.1".
	Host string
	// Port of the remoting server; 0 picks a free one.
	Port int
	// Provider is the membership provider; default ProviderLocal.
	Provider string
	// RequestTimeout bounds one grain request. Default 2s.
	RequestTimeout time.Duration
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
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 2 * time.Second
	}
	return c
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.Provider != ProviderLocal {
		return fmt.Errorf("%w: unknown provider %q", ErrConfig, c.Provider)
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("%w: port %d", ErrConfig, c.Port)
	}
	return nil
}

// Node is this process's cluster member.
type Node struct {
	System  *actor.ActorSystem
	Cluster *pcluster.Cluster
	Hub     *actor.PID
	cfg     Config
}

// Start joins the cluster, registers the conversation kind, spawns the hub,
// and wires deps to the cluster. Start blocks about a second while the
// member joins.
func Start(cfg Config, deps *actors.Deps, log *slog.Logger) (node *Node, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	quiet := log.With("component", "protoactor")
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quiet }))
	provider := test.NewTestProvider(test.NewInMemAgent())
	kind := pcluster.NewKind(actors.Kind, actors.NewConversationProps(deps))
	ccfg := pcluster.Configure(cfg.Name, provider, disthash.New(),
		remote.Configure(cfg.Host, cfg.Port),
		pcluster.WithKinds(kind),
		pcluster.WithRequestTimeout(cfg.RequestTimeout))
	c := pcluster.New(sys, ccfg)
	n := &Node{System: sys, Cluster: c, cfg: cfg}
	deps.Hubs = n.hubs
	deps.Grain = n.grain

	defer func() {
		// Proto.Actor reports a failed start by panicking.
		if r := recover(); r != nil {
			err = fmt.Errorf("cluster: start member: %v", r)
		}
	}()
	c.StartMember()
	if n.Hub, err = actors.SpawnHub(sys, deps); err != nil {
		c.Shutdown(false)
		return nil, err
	}
	return n, nil
}

// hubs returns the hub PID of every current member.
func (n *Node) hubs() []*actor.PID {
	members := n.Cluster.MemberList.Members().Members()
	pids := make([]*actor.PID, 0, len(members))
	for _, m := range members {
		pids = append(pids, actor.NewPID(m.Address(), actors.HubName))
	}
	if len(pids) == 0 {
		pids = append(pids, n.Hub)
	}
	return pids
}

// grain resolves the PID of a conversation's grain, activating it if needed.
func (n *Node) grain(conversationID string) *actor.PID {
	if pid, ok := n.Cluster.PidCache.Get(conversationID, actors.Kind); ok && pid != nil {
		return pid
	}
	pid := n.Cluster.Get(conversationID, actors.Kind)
	if pid != nil {
		n.Cluster.PidCache.Set(conversationID, actors.Kind, pid)
	}
	return pid
}

// Request sends msg to a conversation's grain and waits for its reply, with
// a bounded retry on a dead or moved grain.
func (n *Node) Request(conversationID string, msg any) (any, error) {
	res, err := n.Cluster.Request(conversationID, actors.Kind, msg,
		pcluster.WithTimeout(n.cfg.RequestTimeout),
		pcluster.WithRetryCount(3),
		pcluster.WithRetryAction(func(i int) int {
			time.Sleep(time.Duration(i+1) * 50 * time.Millisecond) // upstream's default sleeps nanoseconds
			return i + 1
		}))
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", conversationID, err)
	}
	return res, nil
}

// Address is this member's remoting address.
func (n *Node) Address() string { return n.System.Address() }

// Stop leaves the cluster. graceful waits for ownership hand-over.
func (n *Node) Stop(graceful bool) {
	n.Cluster.Shutdown(graceful)
}
