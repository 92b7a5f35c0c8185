package actors

import (
	"log/slog"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"golang.org/x/sync/errgroup"
)

// session is the actor of one WebSocket connection. It follows every
// conversation its user belongs to and guarantees, per conversation and per
// connection, that live messages go out in seq order and never twice:
// it remembers the highest seq delivered, drops what is at or below it, and
// repairs a jump from the store before going on.
//
// The hub calls into a session directly for live messages and membership
// changes (deliverFromHub, joinedFromHub, leftFromHub); mu serialises those
// calls with the actor, which holds it while it handles any message and
// while it runs a ReenterAfter continuation (requestGrain).
type session struct {
	mu     sync.Mutex
	deps   *Deps
	userID string
	conn   Conn
	connID string
	self   *actor.PID

	ready   bool
	waiting []any // client requests received before ready, in order
	convs   map[string]*convState
	grains  map[string]*actor.PID         // resolved grain PIDs (nil until the first)
	parked  map[string][]func(*actor.PID) // requests waiting for their grain's PID (nil until the first)
	closing bool

	typedAt    map[string]time.Time // when this connection last forwarded typing, per conversation
	notifySent int64                // highest notification seq sent on this connection
}

// convState is what a session tracks for one conversation.
//
// The messages delivered on this connection are exactly the seqs in (low, last]:
// live delivery extends last, sync replay lowers low.
type convState struct {
	low, last      int64
	head           int64         // the highest seq the grain said it stored (ConversationHead); 0 until then
	filling        bool          // a gap repair (or the initial baseline) is in flight
	pending        []*Delivery   // live deliveries held while filling
	repairFailures int           // gap repairs in a row that found nothing
	syncing        bool          // a sync replay is in flight
	syncQueue      []*ClientSync // syncs waiting for it, in order
}

// SpawnSession starts the session actor of one authenticated connection.
func SpawnSession(sys *actor.ActorSystem, deps *Deps, userID, connID string, conn Conn) *actor.PID {
	s := &session{deps: deps, userID: userID, conn: conn, connID: connID, convs: map[string]*convState{}}
	spawnMu.Lock()
	defer spawnMu.Unlock()
	spawning = s
	if deps.Config.PooledMailboxes {
		return sys.Root.Spawn(sessionPropsPooled)
	}
	return sys.Root.Spawn(sessionProps)
}

// Every session is spawned from one Props: an actor keeps its Props for
// life, and one per connection was 240 bytes of each idle connection's
// memory. Proto.Actor calls the producer synchronously inside Spawn, so
// SpawnSession hands it the session through spawning, under spawnMu.
//
// A session that panics is stopped, not restarted (its delivered intervals
// would be lost): its Stopped handler ends the connection, and the client
// reconnects and syncs. The lock-free mailbox allocates nothing until a
// message arrives (the default one starts with a ring of ten slots).
var (
	spawnMu            sync.Mutex
	spawning           *session
	sessionProps       = newSessionProps()
	sessionPropsPooled = newSessionProps(actor.WithDispatcher(mailboxDispatcher))
)

func newSessionProps(opts ...actor.PropsOption) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor {
		s := spawning
		spawning = nil
		return s
	}, append(opts,
		actor.WithMailbox(actor.UnboundedLockfree()),
		actor.WithGuardian(actor.NewOneForOneStrategy(0, 0, func(any) actor.Directive { return actor.StopDirective })))...)
}

type membershipsLoaded struct {
	convs []string
	err   error
}

type baselinesLoaded struct {
	last map[string]int64
	err  error
}

// Receive dispatches on the message type.
func (s *session) Receive(ctx actor.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		s.self = ctx.Self()
		s.deps.Metrics.Sessions.Inc()
		s.loadMemberships(ctx)
	case *actor.Stopped:
		s.closing = true            // the hub may still call in until it unregisters us
		s.conn.Close(CloseInternal) // a no-op unless the session failed: the connection ends first
		s.deps.Metrics.Sessions.Dec()
		ctx.Send(s.hub(ctx), &unregisterSession{session: ctx.Self()})
	case *membershipsLoaded:
		s.onMemberships(ctx, msg)
	case *sessionRegistered:
		s.loadBaselines(ctx)
	case *baselinesLoaded:
		s.onBaselines(ctx, msg)
	case *repairGap:
		s.onRepairGap(ctx, msg)
	case *fillDone:
		s.onFillDone(ctx, msg)
	case *retryFill:
		s.onRetryFill(ctx, msg)
	case *ClientSend, *ClientSync, *ClientHistory:
		s.onClient(ctx, msg)
	case *grainResolved:
		s.onGrainResolved(ctx, msg)
	case *syncDone:
		s.onSyncDone(ctx, msg)
	case *historyDone:
		s.onHistoryDone(ctx, msg)
	case *ConnClosed:
		ctx.Stop(ctx.Self())
	default:
		s.receiveFeature(ctx, msg)
	}
}

// logger returns the session's logger. It is built when needed: a logger
// with attributes costs about 1 KB, and most sessions never log.
func (s *session) logger() *slog.Logger {
	return s.deps.Log.With("user_id", s.userID, "conn_id", s.connID)
}

func (s *session) hub(ctx actor.Context) *actor.PID {
	return actor.NewPID(ctx.ActorSystem().Address(), HubName)
}

func (s *session) loadMemberships(ctx actor.Context) {
	deps, user := s.deps, s.userID
	runAsync(ctx, func() any {
		c, cancel := deps.storeCtx()
		defer cancel()
		ms, err := deps.Store.UserMemberships(c, user)
		out := &membershipsLoaded{err: err}
		for _, m := range ms {
			out.convs = append(out.convs, m.ConversationID)
		}
		return out
	})
}

// onMemberships registers with the hub first and reads the baselines only
// once the hub confirms, so no message persisted in between goes unseen:
// it is either at or below the baseline or delivered live.
func (s *session) onMemberships(ctx actor.Context, m *membershipsLoaded) {
	if m.err != nil {
		s.fail(ctx, "load memberships", m.err)
		return
	}
	for _, c := range m.convs {
		s.convs[c] = &convState{filling: true}
	}
	ctx.Send(s.hub(ctx), &registerSession{session: ctx.Self(), direct: s, userID: s.userID, convs: m.convs})
}

func (s *session) loadBaselines(ctx actor.Context) {
	ids := make([]string, 0, len(s.convs))
	for id := range s.convs {
		ids = append(ids, id)
	}
	deps := s.deps
	runAsync(ctx, func() any { return loadBaselines(deps, ids) })
}

// baselineReads is how many LastSeq reads one session runs at once.
const baselineReads = 4

// loadBaselines reads the last seq of every conversation, a few at a time,
// each read with its own store deadline (a user in many conversations must
// not share one deadline among all of them).
func loadBaselines(deps *Deps, ids []string) *baselinesLoaded {
	lasts := make([]int64, len(ids)) // each reader writes its own index
	var g errgroup.Group
	g.SetLimit(baselineReads)
	for i, id := range ids {
		g.Go(func() error {
			c, cancel := deps.storeCtx()
			defer cancel()
			var err error
			lasts[i], err = deps.Store.LastSeq(c, id)
			return err
		})
	}
	out := &baselinesLoaded{last: make(map[string]int64, len(ids)), err: g.Wait()}
	for i, id := range ids {
		out.last[id] = lasts[i]
	}
	return out
}

func (s *session) onBaselines(ctx actor.Context, b *baselinesLoaded) {
	if b.err != nil {
		s.fail(ctx, "load baselines", b.err)
		return
	}
	for id, last := range b.last {
		if st, ok := s.convs[id]; ok && st.filling {
			st.low, st.last, st.filling = last, last, false
			s.flush(ctx, id, st)
		}
	}
	s.ready = true
	s.emit(ctx, &Ready{UserID: s.userID})
	waiting := s.waiting
	s.waiting = nil
	for _, req := range waiting {
		s.onClient(ctx, req)
	}
}

// joinedFromHub: the session's user became a member of conv (called by the hub).
func (s *session) joinedFromHub(conv string, lastSeq int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return
	}
	if _, ok := s.convs[conv]; !ok {
		s.convs[conv] = &convState{low: lastSeq, last: lastSeq}
	}
	s.emitNoCtx(&MembershipEvent{ConversationID: conv, Joined: true, LastSeq: lastSeq})
}

// leftFromHub: the session's user is no longer a member of conv (called by the hub).
func (s *session) leftFromHub(conv string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return
	}
	delete(s.convs, conv)
	delete(s.grains, conv)
	s.emitNoCtx(&MembershipEvent{ConversationID: conv})
}

// emit hands ev to the connection; a full queue ends the session.
func (s *session) emit(ctx actor.Context, ev Outbound) {
	if s.closing {
		return
	}
	if !s.conn.Send(ev) {
		s.closing = true
		s.logger().Info("slow consumer: closing connection")
		s.conn.Close(CloseSlowConsumer)
		ctx.Stop(ctx.Self())
	}
}

// emitNoCtx is emit for handlers that do not stop the actor themselves; a
// full queue still closes the connection, whose reader then sends ConnClosed.
func (s *session) emitNoCtx(ev Outbound) {
	if s.closing {
		return
	}
	if !s.conn.Send(ev) {
		s.closing = true
		s.conn.Close(CloseSlowConsumer)
	}
}

// fail ends a session that cannot go on; the client reconnects.
func (s *session) fail(ctx actor.Context, what string, err error) {
	s.logger().Warn("session failed", "step", what, "err", err)
	s.closing = true
	s.conn.Close(CloseUnavailable)
	ctx.Stop(ctx.Self())
}

// isMember reports whether the session's user belongs to conv (as the hub
// last told it). Grains re-check on every write.
func (s *session) isMember(conv string) bool {
	_, ok := s.convs[conv]
	return ok
}

func (a *session) dependencies() *Deps { return a.deps }
