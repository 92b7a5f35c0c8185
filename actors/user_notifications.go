package actors

import (
	"context"
	"errors"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorchat/engine/persistence"
)

// The user grain's notification stream: it is the single writer of the
// user's notification seqs. Notify requests queue up and are stored one at a
// time with seq = last+1 (a unique (user, seq) index fences a concurrent
// activation, a unique (user, key) index makes a repeated Notify store
// once), then broadcast to every hub, which hands them to the user's local
// sessions. A notification that finds no session stays stored: the client
// replays what it missed with a notifications request.

// notifyDone reports a notification write back to the user grain.
type notifyDone struct {
	n         persistence.Notification
	duplicate bool
	err       error
}

// notifySeqLoaded brings the user's last notification seq at activation.
type notifySeqLoaded struct {
	last int64
	err  error
}

func (u *userGrain) loadNotifySeq(ctx actor.Context) {
	deps, id := u.deps, u.id
	runAsync(ctx, func() any {
		c, cancel := deps.storeCtx()
		defer cancel()
		last, err := deps.Store.LastNotificationSeq(c, id)
		return &notifySeqLoaded{last: last, err: err}
	})
}

func (u *userGrain) onNotifySeqLoaded(ctx actor.Context, l *notifySeqLoaded) {
	if l.err != nil {
		u.log.Warn("load last notification seq failed", "err", l.err)
	}
	u.notifyLast, u.notifyReady = l.last, true // on failure, appends find the seq themselves
	u.nextNotify(ctx)
}

func (u *userGrain) onNotify(ctx actor.Context, n *Notify) {
	u.notifyQueue = append(u.notifyQueue, n)
	u.nextNotify(ctx)
}

// nextNotify starts storing the next queued notification.
func (u *userGrain) nextNotify(ctx actor.Context) {
	if !u.notifyReady || u.notifying || len(u.notifyQueue) == 0 {
		return
	}
	req := u.notifyQueue[0]
	u.notifyQueue = u.notifyQueue[1:]
	u.notifying = true
	n := persistence.Notification{
		UserID: u.id, ID: newID(), Key: req.Key, Kind: req.Kind, ConversationID: req.ConversationId,
		ActorID: req.ActorId, MessageSeq: req.MessageSeq, Title: req.Title, CreatedAt: time.UnixMilli(req.CreatedAtMs).UTC(),
	}
	if req.CreatedAtMs == 0 {
		n.CreatedAt = u.deps.Now()
	}
	deps, last := u.deps, u.notifyLast
	runAsync(ctx, func() any {
		c, cancel := deps.storeCtx()
		defer cancel()
		return appendNotification(c, deps.Store, n, last)
	})
}

// appendNotification stores n at the next seq, re-reading the last seq when
// another writer took it (bounded, like commitBatch).
func appendNotification(ctx context.Context, st persistence.Store, n persistence.Notification, last int64) *notifyDone {
	for round := 0; round < maxCommitRounds; round++ {
		n.Seq = last + 1
		err := st.AppendNotification(ctx, n)
		if err == nil {
			return &notifyDone{n: n}
		}
		if !errors.Is(err, persistence.ErrDuplicate) {
			return &notifyDone{n: n, err: err}
		}
		if orig, err := st.NotificationByKey(ctx, n.UserID, n.Key); err == nil {
			return &notifyDone{n: orig, duplicate: true}
		}
		if last, err = st.LastNotificationSeq(ctx, n.UserID); err != nil {
			return &notifyDone{n: n, err: err}
		}
	}
	return &notifyDone{n: n, err: errors.New("notification seq contended")}
}

func (u *userGrain) onNotifyDone(ctx actor.Context, d *notifyDone) {
	u.notifying = false
	switch {
	case d.err != nil:
		u.log.Warn("store notification failed", "kind", d.n.Kind, "err", d.err)
	case d.n.Seq > u.notifyLast:
		u.notifyLast = d.n.Seq
	}
	if d.err == nil && !d.duplicate {
		msg := &NotificationPosted{UserId: u.id, Notification: notificationOf(d.n)}
		for _, hub := range u.deps.Hubs() {
			ctx.Send(hub, msg)
		}
	}
	u.nextNotify(ctx)
}

// notificationOf converts a stored notification to its actor-message form.
func notificationOf(n persistence.Notification) *Notification {
	return &Notification{Seq: n.Seq, Kind: n.Kind, ConversationId: n.ConversationID, ActorId: n.ActorID,
		MessageSeq: n.MessageSeq, Title: n.Title, CreatedAtMs: n.CreatedAt.UnixMilli()}
}
