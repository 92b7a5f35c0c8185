package actors

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorchat/engine/persistence"
)

// commitDone reports a group commit back to its grain.
type commitDone struct {
	ops    []queuedOp
	result commitResult
	// applyErr: an event was stored but applying it to its target failed.
	applyErr error
	// refused: sends taken off the batch before it was written.
	refused []refusal
}

// startCommit takes the leading run of queued sends (up to MaxBatch), answers
// the ones it must refuse, and persists the rest as one group commit.
func (g *conversation) startCommit(ctx actor.Context) {
	var ops []queuedOp
	var msgs []persistence.Message
	n := 0
	for n < len(g.queue) && len(ops) < g.deps.Config.MaxBatch {
		op := g.queue[n]
		post, ok := op.msg.(*PostMessage)
		if !ok {
			break
		}
		n++
		if code := g.checkPost(post); code != "" {
			g.replyError(ctx, op, code)
			continue
		}
		ops = append(ops, op)
		msgs = append(msgs, persistence.Message{
			ConversationID: g.id,
			ID:             newID(),
			Kind:           persistence.KindMessage,
			SenderID:       post.SenderId,
			ClientMsgID:    post.ClientMsgId,
			Body:           post.Body,
			CreatedAt:      op.at,
			Attachments:    post.Attachments,
		})
	}
	g.queue = g.queue[n:]
	if len(ops) == 0 {
		return
	}
	g.busy = true
	deps, id, last := g.deps, g.id, g.lastSeq
	runAsync(ctx, func() any {
		c, cancel := deps.storeCtx()
		defer cancel()
		ops, msgs, refused := checkAttachments(c, deps.Store, ops, msgs)
		d := &commitDone{ops: ops, refused: refused}
		if len(msgs) > 0 {
			d.result = commitBatch(c, deps.Store, id, msgs, last)
			d.applyErr = refAttachments(c, deps.Store, d.result)
		} else {
			d.result = commitResult{lastSeq: last}
		}
		return d
	})
}

// checkPost returns the code a send is refused with, or "".
func (g *conversation) checkPost(p *PostMessage) string {
	if !g.exists {
		return CodeNotFound
	}
	if _, ok := g.members[p.SenderId]; !ok {
		return CodeForbidden
	}
	if p.ClientMsgId == "" || (p.Body == "" && len(p.Attachments) == 0) || len(p.Attachments) > MaxAttachments {
		return CodeInvalid
	}
	return ""
}

// onCommitDone acknowledges every sender of the batch, then broadcasts what
// was newly stored to the hubs, in seq order.
func (g *conversation) onCommitDone(ctx actor.Context, d *commitDone) {
	g.busy = false
	r := d.result
	if r.lastSeq > g.lastSeq {
		g.lastSeq = r.lastSeq
	}
	if r.conflicts > 0 {
		g.deps.Metrics.SeqConflicts.Add(float64(r.conflicts))
		g.log.Warn("seq taken by another writer: concurrent activation", "conflicts", r.conflicts, "last_seq", r.lastSeq)
		g.checkFence(ctx)
	}
	for _, r := range d.refused {
		g.replyError(ctx, r.op, r.code)
	}
	if d.applyErr != nil {
		g.log.Warn("event stored but not applied to its target", "err", d.applyErr)
	}
	// Metrics are counted before any ack leaves, so a client that reads
	// /metrics after its ack sees its own message counted.
	posted := &MessagesPosted{}
	acks := make([]*ChatMessage, len(r.outcomes))
	for i, o := range r.outcomes {
		if o.code != "" {
			continue
		}
		acks[i] = toChatMessage(o.msg)
		if !o.duplicate {
			posted.Messages = append(posted.Messages, acks[i])
		}
	}
	n := len(posted.Messages)
	if n > 0 {
		g.deps.Metrics.MessagesPersisted.Add(float64(n))
		g.deps.Metrics.BatchSize.Observe(float64(n))
		g.deps.Metrics.PersistLatency.Observe(r.elapsed.Seconds())
	}
	for i, o := range r.outcomes {
		op := d.ops[i]
		if o.code != "" {
			g.replyError(ctx, op, o.code)
		} else if op.sender != nil {
			ctx.Send(op.sender, &PostMessageResult{Message: acks[i], Duplicate: o.duplicate})
		}
	}
	if n > 0 {
		g.posted(ctx, posted)
		g.findMentions(ctx, posted.Messages)
	}
	g.next(ctx)
}

// toChatMessage converts a stored message to its actor-message form.
func toChatMessage(m persistence.Message) *ChatMessage { return ChatMessageOf(m) }

// ChatMessageOf converts a stored message (or event) to its actor-message form.
func ChatMessageOf(m persistence.Message) *ChatMessage {
	cm := &ChatMessage{
		ConversationId: m.ConversationID,
		Seq:            m.Seq,
		MessageId:      m.ID,
		SenderId:       m.SenderID,
		ClientMsgId:    m.ClientMsgID,
		Body:           m.Body,
		CreatedAtMs:    m.CreatedAt.UnixMilli(),
		Kind:           string(m.Kind),
		TargetSeq:      m.TargetSeq,
		SubjectId:      m.SubjectID,
		Deleted:        m.Deleted,
		UpdatedSeq:     m.UpdatedSeq,
		Attachments:    m.Attachments,
	}
	if !m.EditedAt.IsZero() {
		cm.EditedAtMs = m.EditedAt.UnixMilli()
	}
	return cm
}
