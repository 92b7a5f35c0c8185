package actors

import (
	"github.com/asynkron/protoactor-go/actor"
)

// errorReplier is a grain request that knows the reply carrying an error code.
type errorReplier interface {
	errorReply(code string) any
}

func (*MarkRead) errorReply(code string) any { return &MarkReadResult{ErrorCode: code} }

// receiveFeature handles the grain's messages beyond posting and membership:
// requests are queued behind the single writer like every other request (so
// they see the state every earlier request left), results come back from
// runAsync.
func (g *conversation) receiveFeature(ctx actor.Context, msg any) {
	switch m := msg.(type) {
	case *MarkRead, *PostEvent, *RenameConversation, *SetMemberRole:
		g.queue = append(g.queue, queuedOp{sender: ctx.Sender(), msg: m, at: g.deps.Now()})
		g.next(ctx)
	case *readDone:
		g.onReadDone(ctx, m)
	case *Typing:
		g.onTyping(ctx, m)
	case *mentionsFound:
		g.onMentions(ctx, m)
	case *notificationsSent:
	}
}

// startOp starts a queued request that is not a chat message.
func (g *conversation) startOp(ctx actor.Context, op queuedOp) {
	switch m := op.msg.(type) {
	case *MarkRead:
		g.startRead(ctx, op, m)
	case *PostEvent:
		g.startEvent(ctx, op, m)
	default:
		g.startAdmin(ctx, op)
	}
}
