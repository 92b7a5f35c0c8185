package actors

import (
	"sort"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorchat/engine/persistence"
)

// fillDone brings the messages of a gap repair back to the session.
type fillDone struct {
	conversationID string
	msgs           []*ChatMessage
	err            error
}

// onDelivery handles a live message from the hub.
func (s *session) onDelivery(ctx actor.Context, d *Delivery) {
	st, ok := s.convs[d.Msg.ConversationId]
	if !ok {
		return // not (or no longer) a member
	}
	if st.filling {
		st.pending = append(st.pending, d)
		return
	}
	s.deliverLive(ctx, d.Msg.ConversationId, st, d)
}

// deliverLive sends d if it is the next seq, drops it if already delivered,
// and starts a gap repair if seqs are missing before it.
func (s *session) deliverLive(ctx actor.Context, conv string, st *convState, d *Delivery) {
	seq := d.Msg.Seq
	switch {
	case seq <= st.last:
		return
	case seq == st.last+1 || st.acceptGap:
		st.acceptGap = false
		st.last = seq
		s.emit(ctx, d)
		return
	}
	st.filling = true
	st.pending = append([]*Delivery{d}, st.pending...)
	s.deps.Metrics.GapRepairs.Inc()
	after, limit := st.last, int(seq-st.last-1)
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
		s.log.Warn("gap repair failed", "conv_id", f.conversationID, "err", f.err)
	}
	for _, m := range f.msgs {
		if m.Seq == st.last+1 {
			st.last = m.Seq
			s.emit(ctx, &Delivery{Msg: m})
		}
	}
	// A repair that found nothing must not loop: let the next jump through,
	// the client sees the seq jump and can sync.
	st.acceptGap = st.last == before
	s.flush(ctx, f.conversationID, st)
}

// flush delivers held deliveries in seq order until one needs a repair.
func (s *session) flush(ctx actor.Context, conv string, st *convState) {
	sort.SliceStable(st.pending, func(i, j int) bool { return st.pending[i].Msg.Seq < st.pending[j].Msg.Seq })
	for len(st.pending) > 0 && !st.filling {
		d := st.pending[0]
		st.pending = st.pending[1:]
		s.deliverLive(ctx, conv, st, d)
	}
}
