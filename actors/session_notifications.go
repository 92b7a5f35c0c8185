package actors

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorchat/engine/persistence"
)

// notificationReplayLimit caps one notifications replay.
const notificationReplayLimit = 100

// notificationsDone brings a notifications replay back to the session.
type notificationsDone struct {
	req *ClientNotifications
	ns  []persistence.Notification
	err error
}

// onNotification sends a live notification unless this connection sent
// that seq (or a later one) already.
func (s *session) onNotification(ctx actor.Context, ev *NotificationEvent) {
	if ev.N.Seq <= s.notifySent {
		return
	}
	s.notifySent = ev.N.Seq
	s.emit(ctx, ev)
}

// onNotifications replays the user's stored notifications after AfterSeq.
func (s *session) onNotifications(ctx actor.Context, r *ClientNotifications) {
	deps, user := s.deps, s.userID
	runAsync(ctx, func() any {
		c, cancel := deps.storeCtx()
		defer cancel()
		ns, err := deps.Store.Notifications(c, user, r.AfterSeq, notificationReplayLimit+1)
		return &notificationsDone{req: r, ns: ns, err: err}
	})
}

func (s *session) onNotificationsDone(ctx actor.Context, d *notificationsDone) {
	if d.err != nil {
		s.refuse(ctx, d.req.RequestID, CodeUnavailable, "store unavailable; retry")
		return
	}
	ns, more := d.ns, false
	if len(ns) > notificationReplayLimit {
		ns, more = ns[:notificationReplayLimit], true
	}
	last := d.req.AfterSeq
	for _, n := range ns {
		s.emit(ctx, &NotificationEvent{N: notificationOf(n)})
		last = n.Seq
	}
	s.notifySent = max(s.notifySent, last)
	s.emit(ctx, &NotificationsSynced{RequestID: d.req.RequestID, LastSeq: last, HasMore: more})
}
