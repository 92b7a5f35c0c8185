package actors

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/uuid"

	"github.com/actorchat/engine/persistence"
)

// Kind is the cluster kind name of conversation grains.
const Kind = "conversation"

// UserKind is the cluster kind name of user grains.
const UserKind = "user"

// HubName is the actor name of the hub on every node.
const HubName = "hub"

// Config tunes the actors. The zero value of every field means the documented default.
type Config struct {
	// StoreTimeout bounds one store round (a batch write with its retries, a
	// load). Default 5s.
	StoreTimeout time.Duration
	// MaxBatch caps how many sends one group commit writes. Default 256.
	MaxBatch int
	// GrainIdleTimeout stops a grain that received nothing for this long. Default 10m.
	GrainIdleTimeout time.Duration
	// RequestTimeout bounds a session's request to a grain. Default 5s.
	RequestTimeout time.Duration
	// HeadDelay is how long after broadcasting a batch a grain announces its
	// last seq to every hub (ConversationHead), so a session that lost the
	// last broadcast of a burst repairs it from the store instead of waiting
	// for the next message. One announcement per burst. Default 1s.
	HeadDelay time.Duration
	// SyncLimit caps how many messages one sync replays. Default 500.
	SyncLimit int
	// MaxMembers caps a conversation's members. Default 10000.
	MaxMembers int
	// TypingInterval is the least time between two typing events of one
	// member of one conversation that are forwarded (per user, all devices
	// together). Default 2s.
	TypingInterval time.Duration
	// PresenceLease is how long a user grain trusts a hub's report of the
	// user's sessions on that node: a node that stops reporting (crashed,
	// cut off) has its sessions expire after at most this long. Default 30s.
	PresenceLease time.Duration
	// PresenceRenew is how often hubs renew their reports. Default a third
	// of PresenceLease.
	PresenceRenew time.Duration
	// PresenceMaxMembers: a user's presence and profile (avatar) changes
	// are pushed to the members of the conversations they share that have
	// at most this many members (every DM, small groups). Pushing them in big rooms costs
	// O(members) per change and O(members²) when a room reconnects at once;
	// clients ask GET /api/presence for the members they show. Default 100.
	PresenceMaxMembers int
	// PooledMailboxes runs this package's actors on a few long-lived
	// goroutines (see dispatcher.go). Only for a node without remoting:
	// Proto.Actor's send to a remote PID can block the sender while the
	// endpoint (re)connects, and on a shared pool that stalls every actor.
	PooledMailboxes bool
}

func (c Config) withDefaults() Config {
	if c.StoreTimeout <= 0 {
		c.StoreTimeout = 5 * time.Second
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 256
	}
	if c.GrainIdleTimeout <= 0 {
		c.GrainIdleTimeout = 10 * time.Minute
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 5 * time.Second
	}
	if c.HeadDelay <= 0 {
		c.HeadDelay = time.Second
	}
	if c.SyncLimit <= 0 {
		c.SyncLimit = 500
	}
	if c.MaxMembers <= 0 {
		c.MaxMembers = 10000
	}
	if c.TypingInterval <= 0 {
		c.TypingInterval = 2 * time.Second
	}
	if c.PresenceLease <= 0 {
		c.PresenceLease = 30 * time.Second
	}
	if c.PresenceMaxMembers <= 0 {
		c.PresenceMaxMembers = 100
	}
	if c.PresenceRenew <= 0 {
		c.PresenceRenew = c.PresenceLease / 3
	}
	return c
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	if c.PresenceRenew >= c.PresenceLease && c.PresenceLease > 0 {
		return fmt.Errorf("actors: PresenceRenew %v must be below PresenceLease %v", c.PresenceRenew, c.PresenceLease)
	}
	if c.SyncLimit > persistence.MaxPageLimit {
		return fmt.Errorf("actors: SyncLimit %d above the store's page cap %d", c.SyncLimit, persistence.MaxPageLimit)
	}
	return nil
}

// Deps is what the actors of one node share. Build it once per node.
type Deps struct {
	Store   persistence.Store
	Log     *slog.Logger
	Metrics *Metrics
	Config  Config
	// Hubs returns the PIDs of every node's hub, this node's included. The
	// cluster bootstrap sets it from the member list.
	Hubs func() []*actor.PID
	// Grain returns a grain's PID for a conversation, or nil when the cluster
	// cannot place it now. It may block; sessions call it off their mailbox.
	Grain func(conversationID string) *actor.PID
	// ForgetGrain drops a grain PID that failed to answer from the lookup's
	// cache, so the next lookup finds where the grain lives now.
	ForgetGrain func(conversationID string)
	// Alive reports whether a node address is a cluster member in this
	// node's view. A session checks the grain PIDs it keeps with it before
	// each use, so that it stops sending to a node that left (a rolling
	// restart) at once instead of after a request timeout. Nil: every
	// address is alive.
	Alive func(address string) bool
	// User returns the PID of a user's grain (UserKind), or nil when the
	// cluster cannot place it now. It may block: call it off the mailbox.
	User func(userID string) *actor.PID
	// Encode turns a message into the wire frame every receiver on this node
	// gets; the hub calls it once per message. Nil: sessions' connections
	// encode deliveries themselves.
	Encode func(*ChatMessage) []byte
	// Now is the clock; default time.Now.
	Now func() time.Time

	inflight *storeCalls   // store calls started by runAsync and not yet returned
	counts   *memberCounts // member counts for presence (membercounts.go)
}

// NewDeps fills defaults and validates.
func NewDeps(d Deps) (*Deps, error) {
	if d.Store == nil {
		return nil, fmt.Errorf("actors: Deps.Store is required")
	}
	d.Config = d.Config.withDefaults()
	if err := d.Config.Validate(); err != nil {
		return nil, err
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Metrics == nil {
		d.Metrics = NewMetrics(nil)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	d.inflight = &storeCalls{}
	d.counts = &memberCounts{}
	if d.ForgetGrain == nil {
		d.ForgetGrain = func(string) {}
	}
	if d.Hubs == nil {
		d.Hubs = func() []*actor.PID { return nil }
	}
	return &d, nil
}

// storeCtx returns a context bounded by the store timeout.
func (d *Deps) storeCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d.Config.StoreTimeout)
}

// newID returns a new globally unique, time-ordered id.
func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

// runAsync runs work off the actor's mailbox and sends its result back to
// the actor as a message. work must not touch actor state.
func runAsync(ctx actor.Context, work func() any) {
	self := ctx.Self()
	sys := ctx.ActorSystem()
	deps := depsOf(ctx)
	var calls *atomic.Int64
	if deps != nil {
		calls = deps.inflight.start()
	}
	go func() {
		if calls != nil {
			defer calls.Add(-1)
		}
		sys.Root.Send(self, work())
	}()
}

// storeCalls counts the store calls in flight, those started before a
// drain began apart from those started since: a cluster node keeps getting
// requests for the grains it hosts until it leaves, so under load the count
// of all calls seldom reaches zero while it is still a member.
type storeCalls struct {
	draining      atomic.Bool
	before, after atomic.Int64
}

// start counts a new call and returns the counter its end must decrement.
func (c *storeCalls) start() *atomic.Int64 {
	n := &c.before
	if c.draining.Load() {
		n = &c.after
	}
	n.Add(1)
	return n
}

// waitZero polls until every counter is zero, or for ctx.
func waitZero(ctx context.Context, counters ...*atomic.Int64) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		busy := false
		for _, c := range counters {
			busy = busy || c.Load() > 0
		}
		if !busy {
			return nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("wait for store calls: %w", ctx.Err())
		}
	}
}

// WaitStarted begins a drain: it waits until every store call the actors
// had started when it was called has returned (so a write in flight
// completes, and its ack goes out, while the node is still a member), or
// for ctx. Calls started after it was called do not hold it up: leave the
// cluster next, then WaitIdle.
func (d *Deps) WaitStarted(ctx context.Context) error {
	d.inflight.draining.Store(true)
	return waitZero(ctx, &d.inflight.before)
}

// WaitIdle waits until every store call the actors started has returned (so a
// write in flight at shutdown completes before the store closes), or for ctx.
// Actors may start new calls while it waits (timers, late messages), so it
// polls counters: a sync.WaitGroup forbids Add from zero during Wait.
func (d *Deps) WaitIdle(ctx context.Context) error {
	return waitZero(ctx, &d.inflight.before, &d.inflight.after)
}

// depsOf finds the Deps of the actor running ctx.
func depsOf(ctx actor.Context) *Deps {
	if a, ok := ctx.Actor().(interface{ dependencies() *Deps }); ok {
		return a.dependencies()
	}
	return nil
}
