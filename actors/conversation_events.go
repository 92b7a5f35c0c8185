package actors

import (
	"context"
	"errors"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorchat/engine/persistence"
)

func (*PostEvent) errorReply(code string) any { return &PostMessageResult{ErrorCode: code} }

// startEvent appends an event about one message (edit, delete, react,
// unreact) and applies it to its target, through the single writer: one
// event per store round, so each sees the target as every earlier event
// left it. Acknowledgement and broadcast are the group commit's
// (onCommitDone): the event is a sequenced entry like any message.
func (g *conversation) startEvent(ctx actor.Context, op queuedOp, m *PostEvent) {
	if code := g.checkEvent(m); code != "" {
		g.replyError(ctx, op, code)
		return
	}
	ev := persistence.Message{
		ConversationID: g.id, ID: newID(), Kind: persistence.MessageKind(m.Kind), SenderID: m.SenderId,
		ClientMsgID: m.ClientMsgId, Body: m.Body, CreatedAt: op.at, TargetSeq: m.TargetSeq,
	}
	g.busy = true
	deps, id, last, role := g.deps, g.id, g.lastSeq, g.members[m.SenderId].Role
	runAsync(ctx, func() any {
		c, cancel := deps.storeCtx()
		defer cancel()
		res, applyErr := applyEvent(c, deps.Store, id, ev, role, last)
		return &commitDone{ops: []queuedOp{op}, result: res, applyErr: applyErr}
	})
}

// checkEvent returns the code an event request is refused with before any
// store call, or "".
func (g *conversation) checkEvent(m *PostEvent) string {
	if !g.exists {
		return CodeNotFound
	}
	if _, ok := g.members[m.SenderId]; !ok {
		return CodeForbidden
	}
	if m.ClientMsgId == "" || m.TargetSeq <= 0 {
		return CodeInvalid
	}
	if m.TargetSeq > g.lastSeq {
		return CodeNotFound
	}
	switch persistence.MessageKind(m.Kind) {
	case persistence.KindEdit:
		if m.Body == "" {
			return CodeInvalid
		}
	case persistence.KindReact, persistence.KindUnreact:
		if !ValidEmoji(m.Body) {
			return CodeInvalid
		}
	case persistence.KindDelete:
	default:
		return CodeInvalid
	}
	return ""
}

// applyEvent runs off the mailbox. A retried clientMsgId answers the stored
// original. Otherwise it checks the target (a chat message, not deleted) and
// the sender's right (edit: the author; delete: the author, or an owner or
// admin of a group), then appends the event with commitBatch and applies it
// to the target. A delete clears the target before its event is appended,
// so a deleted body is never served again even if the append fails (the
// client retries; the delete is idempotent). An error applying an edit or
// reaction after its event was stored is returned for the grain to log:
// the event stands, and clients apply it.
func applyEvent(ctx context.Context, st persistence.Store, conv string, ev persistence.Message, role persistence.Role, last int64) (commitResult, error) {
	start := time.Now()
	res := commitResult{outcomes: make([]outcome, 1), lastSeq: last}
	refuse := func(code string) (commitResult, error) {
		res.outcomes[0] = outcome{code: code}
		res.elapsed = time.Since(start)
		return res, nil
	}
	orig, err := st.MessageByClientID(ctx, conv, ev.SenderID, ev.ClientMsgID)
	switch {
	case err == nil:
		res.outcomes[0] = outcome{msg: orig, duplicate: true}
		return res, nil
	case !errors.Is(err, persistence.ErrNotFound):
		return refuse(CodeUnavailable)
	}
	target, err := st.MessageBySeq(ctx, conv, ev.TargetSeq)
	switch {
	case errors.Is(err, persistence.ErrNotFound) || (err == nil && (target.Kind != persistence.KindMessage || target.Deleted)):
		return refuse(CodeNotFound)
	case err != nil:
		return refuse(CodeUnavailable)
	}
	if code := eventAllowed(ev, target, role); code != "" {
		return refuse(code)
	}
	if ev.Kind == persistence.KindDelete {
		if err := st.DeleteMessage(ctx, conv, ev.TargetSeq, 0); err != nil {
			return refuse(storeCode(err))
		}
	}
	res = commitBatch(ctx, st, conv, []persistence.Message{ev}, last)
	o := res.outcomes[0]
	if o.code != "" || o.duplicate {
		return res, nil
	}
	return res, applyToTarget(ctx, st, o.msg)
}

// eventAllowed returns forbidden when the sender may not do ev to target.
func eventAllowed(ev, target persistence.Message, role persistence.Role) string {
	switch ev.Kind {
	case persistence.KindEdit:
		if target.SenderID != ev.SenderID {
			return CodeForbidden
		}
	case persistence.KindDelete:
		if target.SenderID != ev.SenderID && role != persistence.RoleOwner && role != persistence.RoleAdmin {
			return CodeForbidden
		}
	}
	return ""
}

// applyToTarget updates the target of a stored event.
func applyToTarget(ctx context.Context, st persistence.Store, ev persistence.Message) error {
	switch ev.Kind {
	case persistence.KindEdit:
		return st.EditMessage(ctx, ev.ConversationID, ev.TargetSeq, ev.Body, ev.CreatedAt, ev.Seq)
	case persistence.KindDelete:
		return st.DeleteMessage(ctx, ev.ConversationID, ev.TargetSeq, ev.Seq)
	case persistence.KindReact, persistence.KindUnreact:
		r := persistence.Reaction{ConversationID: ev.ConversationID, Seq: ev.TargetSeq, Emoji: ev.Body, UserID: ev.SenderID, At: ev.CreatedAt}
		return st.SetReaction(ctx, r, ev.Kind == persistence.KindReact, ev.Seq)
	}
	return nil
}
