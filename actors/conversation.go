package actors

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"

	"github.com/actorchat/engine/persistence"
)

// conversation is the grain of one conversation. It owns the conversation's
// members and last seq, and runs at most one store write at a time: sends
// that arrive while a write is in flight queue up and go out together as the
// next group commit, so a busy conversation writes in batches while every
// sender is still acknowledged only after its message is stored.
type conversation struct {
	deps *Deps
	id   string
	log  *slog.Logger

	loaded  bool
	exists  bool
	conv    persistence.Conversation
	members map[string]persistence.Member
	lastSeq int64
	epoch   int64 // this activation's claim (persistence.Fencing)

	queue    []queuedOp           // requests not yet started, in arrival order
	busy     bool                 // a store write is in flight
	stale    bool                 // a newer activation claimed the conversation: finish the write in flight, then stop
	typingAt map[string]time.Time // when each member's last typing signal was forwarded

	postedSeq int64 // the highest seq broadcast (MessagesPosted)
	headSeq   int64 // the highest seq announced (ConversationHead)
	headArmed bool  // a headTick is scheduled
}

// headTick makes the grain announce its head (see Config.HeadDelay); a
// repeat announces it once more, later, unless a newer burst followed (a
// batch and its first announcement can be lost together while a link is
// down). It does not keep an idle grain alive.
type headTick struct{ repeat bool }

// headRepeatAfter is how many HeadDelays after the first announcement the
// repeat goes out.
const headRepeatAfter = 5

func (*headTick) NotInfluenceReceiveTimeout() {}

// queuedOp is a request waiting for the grain's single writer.
type queuedOp struct {
	sender *actor.PID
	msg    any
	at     time.Time
}

// loadedState is the grain's state read from the store at activation.
type loadedState struct {
	conv    persistence.Conversation
	members []persistence.Member
	lastSeq int64
	epoch   int64
	err     error
}

// fenceChecked brings the stored epoch back after a seq conflict.
type fenceChecked struct {
	epoch int64
	err   error
}

// NewConversationProps returns the props of the conversation grain kind.
func NewConversationProps(deps *Deps) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor { return &conversation{deps: deps} }, mailboxOptions(deps)...)
}

// newConversationWithID returns props for a grain spawned outside the
// cluster (tests that simulate a double activation).
func newConversationWithID(deps *Deps, id string) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor { return &conversation{deps: deps, id: id} }, mailboxOptions(deps)...)
}

// Receive dispatches on the message type.
func (g *conversation) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		if g.id != "" {
			g.activate(ctx)
		}
	case *cluster.ClusterInit:
		g.id = msg.Identity.Identity
		g.activate(ctx)
	case *loadedState:
		g.onLoaded(ctx, msg)
	case *PostMessage, *CreateConversation, *AddMember, *RemoveMember:
		g.queue = append(g.queue, queuedOp{sender: ctx.Sender(), msg: msg, at: g.deps.Now()})
		g.next(ctx)
	case *commitDone:
		g.onCommitDone(ctx, msg)
	case *adminDone:
		g.onAdminDone(ctx, msg)
	case *fenceChecked:
		g.onFenceChecked(ctx, msg)
	case *headTick:
		g.onHeadTick(ctx, msg)
	case *actor.ReceiveTimeout:
		if !g.busy && len(g.queue) == 0 {
			ctx.Stop(ctx.Self())
		}
	default:
		g.receiveFeature(ctx, msg)
	}
}

func (g *conversation) activate(ctx actor.Context) {
	g.log = g.deps.Log.With("conv_id", g.id)
	g.deps.Metrics.GrainActivations.Inc()
	ctx.SetReceiveTimeout(g.deps.Config.GrainIdleTimeout)
	id, st, deps := g.id, g.deps.Store, g.deps
	runAsync(ctx, func() any { return loadConversation(deps, st, id) })
}

func loadConversation(deps *Deps, st persistence.Store, id string) *loadedState {
	c, cancel := deps.storeCtx()
	defer cancel()
	var out loadedState
	out.conv, out.err = st.Conversation(c, id)
	if out.err != nil {
		return &out
	}
	if out.members, out.err = st.Members(c, id); out.err != nil {
		return &out
	}
	if out.lastSeq, out.err = st.LastSeq(c, id); out.err != nil {
		return &out
	}
	out.epoch, out.err = st.ClaimConversation(c, id)
	return &out
}

func (g *conversation) onLoaded(ctx actor.Context, s *loadedState) {
	switch {
	case s.err == nil:
		g.exists = true
		g.conv = s.conv
		g.members = make(map[string]persistence.Member, len(s.members))
		for _, m := range s.members {
			g.members[m.UserID] = m
		}
		g.lastSeq = s.lastSeq
		g.epoch = s.epoch
	case errors.Is(s.err, persistence.ErrNotFound):
		g.members = map[string]persistence.Member{}
	default:
		// Without its state the grain cannot order anything: refuse what is
		// queued and stop, so the next request activates a fresh grain.
		g.log.Warn("conversation load failed", "err", s.err)
		for _, op := range g.queue {
			g.replyError(ctx, op, CodeUnavailable)
		}
		g.queue = nil
		ctx.Stop(ctx.Self())
		return
	}
	g.loaded = true
	g.next(ctx)
}

// checkFence reads the stored epoch after another writer took a seq.
func (g *conversation) checkFence(ctx actor.Context) {
	deps, id := g.deps, g.id
	runAsync(ctx, func() any {
		c, cancel := deps.storeCtx()
		defer cancel()
		e, err := deps.Store.ConversationEpoch(c, id)
		return &fenceChecked{epoch: e, err: err}
	})
}

// onFenceChecked stops this activation when a newer one has claimed the
// conversation: its clients' next requests reach the newer one.
func (g *conversation) onFenceChecked(ctx actor.Context, f *fenceChecked) {
	if f.err != nil || f.epoch <= g.epoch {
		return
	}
	g.deps.Metrics.StaleActivations.Inc()
	g.log.Warn("stale activation: a newer one claimed the conversation; stopping", "epoch", g.epoch, "current", f.epoch)
	g.stale = true
	g.next(ctx)
}

// next starts the next store write when none is in flight. A stale
// activation instead refuses what is queued (clients retry, and reach the
// current activation) and stops once its write in flight has answered.
func (g *conversation) next(ctx actor.Context) {
	if g.stale {
		for _, op := range g.queue {
			g.replyError(ctx, op, CodeUnavailable)
		}
		g.queue = nil
		if !g.busy {
			ctx.Stop(ctx.Self())
		}
		return
	}
	for g.loaded && !g.busy && len(g.queue) > 0 {
		if _, ok := g.queue[0].msg.(*PostMessage); ok {
			g.startCommit(ctx)
			continue
		}
		op := g.queue[0]
		g.queue = g.queue[1:]
		g.startOp(ctx, op)
	}
}

// replyError answers a queued request with an error code.
func (g *conversation) replyError(ctx actor.Context, op queuedOp, code string) {
	if op.sender == nil {
		return
	}
	if r, ok := op.msg.(errorReplier); ok {
		ctx.Send(op.sender, r.errorReply(code))
		return
	}
	switch op.msg.(type) {
	case *PostMessage:
		ctx.Send(op.sender, &PostMessageResult{ErrorCode: code})
	default:
		ctx.Send(op.sender, &AdminResult{ErrorCode: code, ConversationId: g.id})
	}
}

// broadcast sends msg to every node's hub.
func (g *conversation) broadcast(ctx actor.Context, msg any) {
	for _, hub := range g.deps.Hubs() {
		ctx.Send(hub, msg)
	}
}

// posted broadcasts a persisted batch (in seq order) and schedules the
// announcement of the head that follows it.
func (g *conversation) posted(ctx actor.Context, p *MessagesPosted) {
	g.broadcast(ctx, p)
	g.postedSeq = max(g.postedSeq, p.Messages[len(p.Messages)-1].Seq)
	if g.headArmed {
		return
	}
	g.headArmed = true
	self, sys := ctx.Self(), ctx.ActorSystem()
	time.AfterFunc(g.deps.Config.HeadDelay, func() { sys.Root.Send(self, &headTick{}) })
}

// onHeadTick announces the last seq broadcast, unless it was announced
// already, and schedules the repeat. Every hub gets it after the batches
// the grain sent before it; a hub that delivered that seq drops it at once.
func (g *conversation) onHeadTick(ctx actor.Context, t *headTick) {
	if t.repeat {
		if !g.headArmed && g.postedSeq == g.headSeq {
			g.broadcast(ctx, &ConversationHead{ConversationId: g.id, LastSeq: g.headSeq})
		}
		return
	}
	g.headArmed = false
	if g.postedSeq > g.headSeq {
		g.headSeq = g.postedSeq
		g.broadcast(ctx, &ConversationHead{ConversationId: g.id, LastSeq: g.headSeq})
		self, sys := ctx.Self(), ctx.ActorSystem()
		time.AfterFunc(headRepeatAfter*g.deps.Config.HeadDelay, func() { sys.Root.Send(self, &headTick{repeat: true}) })
	}
}

func (g *conversation) String() string { return fmt.Sprintf("conversation(%s)", g.id) }

func (a *conversation) dependencies() *Deps { return a.deps }
