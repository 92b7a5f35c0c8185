package actors

import (
	"sort"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorchat/engine/persistence"
)

// fillDone brings the messages of a gap repair back to the session.
type fillDone struct {
	conversationID string
	msgs           []*ChatMessage
	err            error
}

// repairGap asks the session to repair a gap the hub found.
type repairGap struct{ conversationID string }

// deliverFromHub is the hub's path for a live message (called on the hub's
// goroutine, under the session's lock).
func (s *session) deliverFromHub(hubCtx actor.Context, d *Delivery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return
	}
	conv := d.Msg.ConversationId
	st, ok := s.convs[conv]
	if !ok {
		return // not (or no longer) a member
	}
	if st.filling {
		st.pending = append(st.pending, d)
		return
	}
	if s.advance(st, d) {
		hubCtx.Send(s.self, &repairGap{conversationID: conv})
	}
}

// headFromHub tells the session the conversation's last stored seq (called
// on the hub's goroutine, after every batch the grain broadcast before it).
// A session still below it lost a broadcast that no later message revealed:
// it repairs the tail from the store.
func (s *session) headFromHub(hubCtx actor.Context, conv string, seq int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.convs[conv]
	if s.closing || !ok || seq <= st.head {
		return
	}
	st.head = seq
	if !st.filling && st.head > st.last {
		st.filling = true
		hubCtx.Send(s.self, &repairGap{conversationID: conv})
	}
}

// eventFromHub hands a conversation event (typing, receipt) to the session
// if its user is a member (called on the hub's goroutine).
func (s *session) eventFromHub(conv string, ev Outbound) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closing && s.isMember(conv) {
		s.emitNoCtx(ev)
	}
}

// advance sends d if it is the next seq and drops it if already delivered.
// When seqs are missing before it, it holds d, marks the conversation as
// filling and reports that a repair must start.
func (s *session) advance(st *convState, d *Delivery) (repair bool) {
	seq := d.Msg.Seq
	switch {
	case seq <= st.last:
		return false
	case seq == st.last+1:
		st.last = seq
		s.emitNoCtx(d)
		return false
	}
	st.filling = true
	st.pending = append([]*Delivery{d}, st.pending...)
	return true
}

// onRepairGap starts the repair of a gap the hub found.
func (s *session) onRepairGap(ctx actor.Context, r *repairGap) {
	st, ok := s.convs[r.conversationID]
	if !ok || !st.filling {
		return
	}
	sortPending(st)
	if st.gapEnd() > st.last {
		s.startRepair(ctx, r.conversationID, st)
		return
	}
	// What was missing arrived meanwhile (a sync's tail): go on.
	st.filling = false
	s.flush(ctx, r.conversationID, st)
}

// gapEnd is the last seq a repair must fetch: the one before the first held
// delivery, else the head the grain announced (at most last: no gap).
func (st *convState) gapEnd() int64 {
	if len(st.pending) > 0 {
		return st.pending[0].Msg.Seq - 1
	}
	return max(st.head, st.last)
}

// startRepair loads the seqs missing before the first held delivery.
func (s *session) startRepair(ctx actor.Context, conv string, st *convState) {
	s.deps.Metrics.GapRepairs.Inc()
	after, limit := st.last, int(st.gapEnd()-st.last)
	if limit > s.deps.Config.SyncLimit {
		limit = s.deps.Config.SyncLimit
	}
	deps := s.deps
	runAsync(ctx, func() any {
		c, cancel := deps.storeCtx()
		defer cancel()
		msgs, err := loadPage(c, deps.Store, conv, persistence.MessageQuery{After: after, FromStart: true, Limit: limit})
		return &fillDone{conversationID: conv, msgs: msgs, err: err}
	})
}

// onFillDone delivers a repaired gap, then what was held meanwhile.
func (s *session) onFillDone(ctx actor.Context, f *fillDone) {
	st, ok := s.convs[f.conversationID]
	if !ok {
		return
	}
	st.filling = false
	before := st.last
	if f.err != nil {
		s.logger().Warn("gap repair failed", "conv_id", f.conversationID, "err", f.err)
	}
	for _, m := range f.msgs {
		if m.Seq == st.last+1 {
			st.last = m.Seq
			s.emit(ctx, &Delivery{Msg: m})
		}
	}
	sortPending(st)
	if st.last == before && st.gapEnd() > st.last {
		s.retryRepair(ctx, f.conversationID, st)
		return
	}
	st.repairFailures = 0
	s.flush(ctx, f.conversationID, st)
}

// maxRepairFailures is how many gap repairs in a row may find nothing
// before the session gives up on its connection.
const maxRepairFailures = 3

// retryRepair tries a repair that found nothing (the store was unreachable)
// again after a pause, holding live deliveries meanwhile. After
// maxRepairFailures it closes the connection instead of sending across the
// gap: the client reconnects and syncs from what it has, so no connection
// ever skips a seq.
func (s *session) retryRepair(ctx actor.Context, conv string, st *convState) {
	st.repairFailures++
	if st.repairFailures >= maxRepairFailures {
		s.logger().Warn("gap repair keeps failing: closing the connection for a resync", "conv_id", conv)
		s.closing = true
		s.conn.Close(CloseResync)
		ctx.Stop(ctx.Self())
		return
	}
	st.filling = true // hold live deliveries until the retry
	self, sys := ctx.Self(), ctx.ActorSystem()
	time.AfterFunc(time.Duration(st.repairFailures)*300*time.Millisecond, func() {
		sys.Root.Send(self, &retryFill{conversationID: conv})
	})
}

// retryFill restarts a held gap repair.
type retryFill struct{ conversationID string }

func (s *session) onRetryFill(ctx actor.Context, r *retryFill) {
	st, ok := s.convs[r.conversationID]
	if !ok || !st.filling {
		return
	}
	st.filling = false
	s.flush(ctx, r.conversationID, st)
}

// flush delivers held deliveries in seq order until one needs a repair,
// then repairs up to the announced head if live delivery is still below it.
func (s *session) flush(ctx actor.Context, conv string, st *convState) {
	sortPending(st)
	for len(st.pending) > 0 && !st.filling {
		d := st.pending[0]
		st.pending = st.pending[1:]
		if s.advance(st, d) {
			s.startRepair(ctx, conv, st)
		}
	}
	if !st.filling && st.head > st.last {
		st.filling = true
		s.startRepair(ctx, conv, st)
	}
}

func sortPending(st *convState) {
	sort.SliceStable(st.pending, func(i, j int) bool { return st.pending[i].Msg.Seq < st.pending[j].Msg.Seq })
}
