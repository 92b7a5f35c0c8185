package actors

import (
	"github.com/asynkron/protoactor-go/actor"
)

// readDone reports a read-marker write back to its grain.
type readDone struct {
	op     queuedOp
	user   string
	stored int64 // the marker as stored after the write
	code   string
}

// startRead moves a member's read marker forward. The write does not touch
// the sequence, so it runs beside the single writer rather than through it:
// the grain stays free for the next request while the marker is stored.
func (g *conversation) startRead(ctx actor.Context, op queuedOp, m *MarkRead) {
	member, ok := g.members[m.UserId]
	switch {
	case !g.exists:
		g.replyError(ctx, op, CodeNotFound)
		return
	case !ok:
		g.replyError(ctx, op, CodeForbidden)
		return
	case m.Seq < 0 || m.Seq > g.lastSeq:
		g.replyError(ctx, op, CodeInvalid)
		return
	case m.Seq <= member.LastReadSeq:
		// Already read that far: nothing to store, nobody to tell.
		if op.sender != nil {
			ctx.Send(op.sender, &MarkReadResult{LastReadSeq: member.LastReadSeq})
		}
		return
	}
	deps, id, user, seq := g.deps, g.id, m.UserId, m.Seq
	runAsync(ctx, func() any {
		c, cancel := deps.storeCtx()
		defer cancel()
		stored, err := deps.Store.MarkRead(c, id, user, seq)
		if err != nil {
			return &readDone{op: op, user: user, code: storeCode(err)}
		}
		return &readDone{op: op, user: user, stored: stored}
	})
}

// onReadDone answers the reader and, when the marker moved past what the
// grain knew, tells every hub so the conversation's sessions (the other
// members', and the reader's other devices) get a receipt. Concurrent marks
// of one member may finish in any order; only a forward move is broadcast,
// so receipts of one member only ever go up.
func (g *conversation) onReadDone(ctx actor.Context, d *readDone) {
	if d.code != "" {
		g.replyError(ctx, d.op, d.code)
		return
	}
	if m, ok := g.members[d.user]; ok && d.stored > m.LastReadSeq {
		m.LastReadSeq = d.stored
		g.members[d.user] = m
		g.broadcast(ctx, &ReceiptPosted{ConversationId: g.id, UserId: d.user, Seq: d.stored})
	}
	if d.op.sender != nil {
		ctx.Send(d.op.sender, &MarkReadResult{LastReadSeq: d.stored})
	}
}
