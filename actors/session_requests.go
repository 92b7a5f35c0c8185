package actors

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorchat/engine/persistence"
)

// grainResolved brings a grain PID looked up off the mailbox.
type grainResolved struct {
	conversationID string
	pid            *actor.PID
}

// syncDone brings the replay of a sync back to the session.
type syncDone struct {
	req  *ClientSync
	msgs []*ChatMessage // the replay below low (when asked)
	err  error
	head int64          // the store's last seq (0 if unread)
	tail []*ChatMessage // stored after the session's last, oldest first (up to SyncLimit)
}

// historyDone brings a history page back to the session.
type historyDone struct {
	req  *ClientHistory
	msgs []*ChatMessage
	err  error
}

// onClient handles a request decoded by the gateway.
func (s *session) onClient(ctx actor.Context, req any) {
	if !s.ready {
		s.waiting = append(s.waiting, req)
		return
	}
	switch r := req.(type) {
	case *ClientSend:
		s.onSend(ctx, r)
	case *ClientSync:
		s.onSync(ctx, r)
	case *ClientHistory:
		s.onHistory(ctx, r)
	default:
		s.onFeatureRequest(ctx, r)
	}
}

func (s *session) refuse(ctx actor.Context, reqID, code, msg string) {
	s.emit(ctx, &Failure{RequestID: reqID, Code: code, Message: msg})
}

// onSend forwards a send to the conversation's grain, in the order the
// client sent them (see withGrain).
func (s *session) onSend(ctx actor.Context, r *ClientSend) {
	s.withMemberGrain(ctx, r.ConversationID, r.RequestID, retrySameID, func(pid *actor.PID) {
		s.request(ctx, pid, r)
	})
}

// Retry hints of the unavailable refusal.
const (
	retrySameID = "retry with the same clientMsgId"
	retryPlain  = "retry"
)

// withMemberGrain is withGrain for a request of the session's user about
// conv: a non-member is refused with forbidden, and a grain that cannot be
// placed now with unavailable and retryHint.
func (s *session) withMemberGrain(ctx actor.Context, conv, reqID, retryHint string, use func(pid *actor.PID)) {
	if !s.isMember(conv) {
		s.refuse(ctx, reqID, CodeForbidden, "not a member of this conversation")
		return
	}
	s.withGrain(ctx, conv, func(pid *actor.PID) {
		if pid == nil {
			s.refuse(ctx, reqID, CodeUnavailable, "conversation temporarily unavailable; "+retryHint)
			return
		}
		use(pid)
	})
}

// withGrain runs use with the PID of a conversation's grain (nil when it
// cannot be placed now), in the order requests arrive: while a grain's PID
// is being looked up, later requests to that conversation wait behind the
// first.
func (s *session) withGrain(ctx actor.Context, conv string, use func(pid *actor.PID)) {
	if q, waiting := s.parked[conv]; waiting {
		s.parked[conv] = append(q, use)
		return
	}
	if pid := s.grains[conv]; pid != nil {
		if s.deps.Alive == nil || s.deps.Alive(pid.Address) {
			use(pid)
			return
		}
		s.forgetGrain(conv, pid) // its node left the cluster: look the grain up again
	}
	if s.parked == nil {
		s.parked = map[string][]func(*actor.PID){}
	}
	s.parked[conv] = []func(*actor.PID){use}
	lookup := s.deps.Grain
	runAsync(ctx, func() any {
		var pid *actor.PID
		if lookup != nil {
			pid = lookup(conv)
		}
		return &grainResolved{conversationID: conv, pid: pid}
	})
}

func (s *session) onGrainResolved(_ actor.Context, g *grainResolved) {
	q := s.parked[g.conversationID]
	delete(s.parked, g.conversationID)
	if g.pid != nil {
		if s.grains == nil {
			s.grains = map[string]*actor.PID{}
		}
		s.grains[g.conversationID] = g.pid
	}
	for _, use := range q {
		use(g.pid)
	}
}

// forgetGrain drops a grain PID that failed to answer, so the next request
// looks the grain up again.
func (s *session) forgetGrain(conv string, pid *actor.PID) {
	if s.grains[conv] == pid {
		delete(s.grains, conv)
		s.deps.ForgetGrain(conv)
	}
}

// request sends one PostMessage and acknowledges the stored message when
// the grain answers, without blocking the mailbox.
func (s *session) request(ctx actor.Context, pid *actor.PID, r *ClientSend) {
	post := &PostMessage{SenderId: s.userID, ClientMsgId: r.ClientMsgID, Body: r.Body, Attachments: r.Attachments}
	start := s.deps.Now()
	s.requestGrain(ctx, r.ConversationID, pid, r.RequestID, post, func(res any) {
		out, ok := res.(*PostMessageResult)
		switch {
		case !ok:
			s.refuse(ctx, r.RequestID, CodeInternal, "unexpected reply")
		case out.ErrorCode != "":
			s.refuse(ctx, r.RequestID, out.ErrorCode, postRefusal.text(out.ErrorCode))
		default:
			s.deps.Metrics.AckLatency.Observe(s.deps.Now().Sub(start).Seconds())
			s.emit(ctx, &Ack{RequestID: r.RequestID, Msg: out.Message, Duplicate: out.Duplicate})
		}
	})
}

// refusalTexts is the client-facing text of each error code a grain answers one
// kind of request with (the codes are the closed set; the texts are fixed).
type refusalTexts struct {
	forbidden, notFound, invalid, unavailable string
}

func (r refusalTexts) text(code string) string {
	switch code {
	case CodeForbidden:
		return r.forbidden
	case CodeNotFound:
		return r.notFound
	case CodeInvalid:
		return r.invalid
	case CodeUnavailable:
		return r.unavailable
	default:
		return "request failed"
	}
}

// The refusal texts of sends, edits/deletes/reactions and read markers.
var (
	postRefusal = refusalTexts{
		forbidden: "not a member of this conversation", notFound: "conversation not found",
		invalid: "invalid message", unavailable: "store unavailable; retry with the same clientMsgId"}
	eventRefusal = refusalTexts{
		forbidden: "not allowed on this message", notFound: "no such message (or it was deleted)",
		invalid: "invalid request", unavailable: "store unavailable; retry with the same clientMsgId"}
	readRefusal = refusalTexts{
		forbidden: "not a member of this conversation", notFound: "conversation not found",
		invalid: "seq must be between 0 and the conversation's last seq", unavailable: "store unavailable; retry"}
)

// onSync replays what the client missed. Messages in (low, last] were sent
// on this connection already; a sync below low replays up to SyncLimit of
// the newest missing ones, in ascending order, and lowers low. Every sync
// also reads the conversation's last seq from the store and first sends what
// is stored after last: a broadcast lost between nodes is otherwise only
// noticed when a later message arrives, and a sync must bring the client up
// to what was stored when it asked.
func (s *session) onSync(ctx actor.Context, r *ClientSync) {
	st, ok := s.convs[r.ConversationID]
	if !ok {
		s.refuse(ctx, r.RequestID, CodeForbidden, "not a member of this conversation")
		return
	}
	if st.syncing {
		st.syncQueue = append(st.syncQueue, r)
		return
	}
	if r.AfterSeq > st.last && !st.filling && len(st.pending) == 0 {
		st.last = r.AfterSeq // the client has these already
	}
	st.syncing = true
	deps, before, last, replay := s.deps, st.low+1, st.last, r.AfterSeq < st.low
	runAsync(ctx, func() any {
		d := &syncDone{req: r}
		d.head, d.tail = loadTail(deps, r.ConversationID, last)
		if replay {
			c, cancel := deps.storeCtx()
			defer cancel()
			d.msgs, d.err = loadPage(c, deps.Store, r.ConversationID, persistence.MessageQuery{Before: before, Limit: deps.Config.SyncLimit})
		}
		return d
	})
}

// loadTail returns the store's last seq and, if it is above last, up to
// SyncLimit of the messages after last. A failed read returns nothing: the
// sync then answers from what the session knows, which stays true.
func loadTail(deps *Deps, conv string, last int64) (int64, []*ChatMessage) {
	c, cancel := deps.storeCtx()
	defer cancel()
	head, err := deps.Store.LastSeq(c, conv)
	if err != nil || head <= last {
		return 0, nil
	}
	limit := min(head-last, int64(deps.Config.SyncLimit))
	msgs, err := loadPage(c, deps.Store, conv, persistence.MessageQuery{After: last, FromStart: true, Limit: int(limit)})
	if err != nil {
		return 0, nil
	}
	return head, msgs
}

// onSyncDone sends a sync's replay, the stored messages live delivery
// missed, and the closing Synced.
func (s *session) onSyncDone(ctx actor.Context, d *syncDone) {
	r := d.req
	st, ok := s.convs[r.ConversationID]
	if !ok {
		s.refuse(ctx, r.RequestID, CodeForbidden, "not a member of this conversation")
		return
	}
	st.syncing = false
	defer s.nextSync(ctx, st)
	if d.err != nil {
		s.refuse(ctx, r.RequestID, CodeUnavailable, "store unavailable; retry")
		return
	}
	newLow := st.low
	if r.AfterSeq < st.low {
		for _, m := range d.msgs {
			if m.Seq > r.AfterSeq && m.Seq <= st.low {
				if newLow == st.low {
					newLow = m.Seq - 1
				}
				s.emit(ctx, &Delivery{Msg: m})
			}
		}
		if len(d.msgs) < s.deps.Config.SyncLimit || newLow <= r.AfterSeq {
			newLow = r.AfterSeq // everything after AfterSeq is now out
		}
		st.low = newLow
	} else {
		newLow = r.AfterSeq
	}
	s.catchUp(ctx, r.ConversationID, st, d.head, d.tail)
	s.emit(ctx, &Synced{RequestID: r.RequestID, ConversationID: r.ConversationID, AfterSeq: r.AfterSeq,
		FromSeq: newLow, LastSeq: st.last, HasMore: newLow > r.AfterSeq})
}

// catchUp sends the stored messages that continue last (a sync's tail). A
// tail longer than one page comes after Synced, by the gap repair up to the
// store's head. A repair in flight meanwhile finds its gap closed and goes
// on with what it held (onFillDone).
func (s *session) catchUp(ctx actor.Context, conv string, st *convState, head int64, tail []*ChatMessage) {
	for _, m := range tail {
		if m.Seq == st.last+1 {
			st.last = m.Seq
			s.emit(ctx, &Delivery{Msg: m})
		}
	}
	st.head = max(st.head, head)
	if !st.filling {
		s.flush(ctx, conv, st) // nothing is held: repairs up to the head if below it
	}
}

// nextSync starts the next queued sync of a conversation.
func (s *session) nextSync(ctx actor.Context, st *convState) {
	if len(st.syncQueue) > 0 && !st.syncing {
		r := st.syncQueue[0]
		st.syncQueue = st.syncQueue[1:]
		s.onSync(ctx, r)
	}
}

func (s *session) onHistory(ctx actor.Context, r *ClientHistory) {
	if !s.isMember(r.ConversationID) {
		s.refuse(ctx, r.RequestID, CodeForbidden, "not a member of this conversation")
		return
	}
	deps := s.deps
	runAsync(ctx, func() any {
		c, cancel := deps.storeCtx()
		defer cancel()
		msgs, err := loadPage(c, deps.Store, r.ConversationID, persistence.MessageQuery{Before: r.BeforeSeq, Limit: r.Limit + 1})
		return &historyDone{req: r, msgs: msgs, err: err}
	})
}

func (s *session) onHistoryDone(ctx actor.Context, d *historyDone) {
	if d.err != nil {
		s.refuse(ctx, d.req.RequestID, CodeUnavailable, "store unavailable; retry")
		return
	}
	msgs, more := d.msgs, false
	if len(msgs) > d.req.Limit {
		msgs, more = msgs[1:], true
	}
	page := &HistoryPage{RequestID: d.req.RequestID, ConversationID: d.req.ConversationID, HasMore: more, Messages: msgs}
	s.emit(ctx, page)
}
