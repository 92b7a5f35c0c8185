package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// receiveFeature handles the session's messages beyond plain messaging:
// client requests (held until ready like the others) and hub events.
func (s *session) receiveFeature(ctx actor.Context, msg any) {
	switch m := msg.(type) {
	case *ClientRead, *ClientTyping, *ClientEvent, *ClientNotifications:
		s.onClient(ctx, m)
	case *NotificationEvent:
		s.onNotification(ctx, m)
	case *notificationsDone:
		s.onNotificationsDone(ctx, m)
	case *PresenceEvent:
		s.emit(ctx, m)
	case *ProfileEvent:
		s.emit(ctx, m)
	}
}

// onFeatureRequest dispatches a client request once the session is ready.
func (s *session) onFeatureRequest(ctx actor.Context, req any) {
	switch r := req.(type) {
	case *ClientRead:
		s.onRead(ctx, r)
	case *ClientTyping:
		s.onTyping(ctx, r)
	case *ClientEvent:
		s.onEvent(ctx, r)
	case *ClientNotifications:
		s.onNotifications(ctx, r)
	}
}

// onRead asks the conversation's grain to move the read marker; the grain
// stores it and broadcasts the receipt.
func (s *session) onRead(ctx actor.Context, r *ClientRead) {
	s.withMemberGrain(ctx, r.ConversationID, r.RequestID, retryPlain, func(pid *actor.PID) {
		msg := &MarkRead{UserId: s.userID, Seq: r.Seq}
		s.requestGrain(ctx, r.ConversationID, pid, r.RequestID, msg, func(res any) {
			out, ok := res.(*MarkReadResult)
			switch {
			case !ok:
				s.refuse(ctx, r.RequestID, CodeInternal, "unexpected reply")
			case out.ErrorCode != "":
				s.refuse(ctx, r.RequestID, out.ErrorCode, readRefusal.text(out.ErrorCode))
			default:
				s.emit(ctx, &ReadMarked{RequestID: r.RequestID, ConversationID: r.ConversationID, LastReadSeq: out.LastReadSeq})
			}
		})
	})
}

// requestGrain sends msg to a grain and hands the reply to done on the
// session's mailbox (ReenterAfter: the mailbox never blocks). A timeout or
// a dead grain answers unavailable and forgets the PID.
func (s *session) requestGrain(ctx actor.Context, conv string, pid *actor.PID, reqID string, msg any, done func(res any)) {
	f := ctx.RequestFuture(pid, msg, s.deps.Config.RequestTimeout)
	ctx.ReenterAfter(f, func(res any, err error) {
		// A continuation runs on the mailbox but outside Receive, so it
		// takes the lock Receive holds (the hub calls in under it too).
		s.mu.Lock()
		defer s.mu.Unlock()
		if err != nil {
			s.forgetGrain(conv, pid)
			s.refuse(ctx, reqID, CodeUnavailable, "outcome unknown; retry (sends and events: with the same clientMsgId)")
			return
		}
		done(res)
	})
}

// onTyping forwards a typing signal to the conversation's grain, which
// throttles it per member across devices. The session drops signals of its
// own connection inside the same interval, so a chatty client costs no
// cross-node traffic.
func (s *session) onTyping(ctx actor.Context, r *ClientTyping) {
	if !s.isMember(r.ConversationID) {
		s.refuse(ctx, r.RequestID, CodeForbidden, "not a member of this conversation")
		return
	}
	now := s.deps.Now()
	if last, ok := s.typedAt[r.ConversationID]; ok && now.Sub(last) < s.deps.Config.TypingInterval {
		return
	}
	if s.typedAt == nil {
		s.typedAt = map[string]time.Time{}
	}
	s.typedAt[r.ConversationID] = now
	user := s.userID
	s.withGrain(ctx, r.ConversationID, func(pid *actor.PID) {
		if pid != nil {
			ctx.Send(pid, &Typing{UserId: user})
		}
	})
}

// onEvent forwards an edit, delete or reaction to the conversation's grain,
// in order with the connection's sends, and acknowledges the stored event.
func (s *session) onEvent(ctx actor.Context, r *ClientEvent) {
	s.withMemberGrain(ctx, r.ConversationID, r.RequestID, retrySameID, func(pid *actor.PID) {
		msg := &PostEvent{SenderId: s.userID, ClientMsgId: r.ClientMsgID, Kind: r.Kind, TargetSeq: r.TargetSeq, Body: r.Body}
		s.requestGrain(ctx, r.ConversationID, pid, r.RequestID, msg, func(res any) {
			out, ok := res.(*PostMessageResult)
			switch {
			case !ok:
				s.refuse(ctx, r.RequestID, CodeInternal, "unexpected reply")
			case out.ErrorCode != "":
				s.refuse(ctx, r.RequestID, out.ErrorCode, eventRefusal.text(out.ErrorCode))
			default:
				s.emit(ctx, &Ack{RequestID: r.RequestID, Msg: out.Message, Duplicate: out.Duplicate})
			}
		})
	})
}
