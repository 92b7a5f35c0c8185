package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// The hub's part in presence: it reports the node's session count of each
// user to the user's grain when it changes and renews every report each
// Config.PresenceRenew (a lease; see the user grain); it hands presence
// changes to the local sessions that share a conversation with the user;
// and when a node leaves the cluster it probes the users it last heard were
// online, so that a user grain lost with that node is re-activated and
// re-announces. Profile changes (a new avatar) travel the same way.

// hubPresence is the hub's presence state. Owned by the hub actor.
type hubPresence struct {
	version     int64               // last SessionsReport version; starts at the hub's start time
	timer       *time.Timer         // the next renewal
	knownOnline map[string]struct{} // users last announced online to a local session
	nodes       map[string]struct{} // cluster members at the last renewal
}

// renewTick makes the hub renew its reports (sent by its own timer).
type renewTick struct{}

// reportsSent ends a batch of reports sent off the mailbox.
type reportsSent struct{}

func (h *hub) startPresence(ctx actor.Context) {
	h.presence = hubPresence{version: time.Now().UnixNano(), knownOnline: map[string]struct{}{}, nodes: h.memberSet()}
	h.armRenewal(ctx)
}

func (h *hub) stopPresence() {
	if h.presence.timer != nil {
		h.presence.timer.Stop()
	}
}

func (h *hub) armRenewal(ctx actor.Context) {
	self, root := ctx.Self(), ctx.ActorSystem().Root
	h.presence.timer = time.AfterFunc(h.deps.Config.PresenceRenew, func() { root.Send(self, &renewTick{}) })
}

// onRenew renews the report of every user with local sessions and probes
// after a member left.
func (h *hub) onRenew(ctx actor.Context) {
	users := make([]string, 0, len(h.byUser))
	for u := range h.byUser {
		users = append(users, u)
	}
	h.report(ctx, users...)
	now := h.memberSet()
	for addr := range h.presence.nodes {
		if _, ok := now[addr]; !ok {
			h.probe(ctx)
			break
		}
	}
	h.presence.nodes = now
	h.armRenewal(ctx)
}

// report sends the node's current session count of each user to the user's
// grain. Lookups may block, so they run off the mailbox; versions keep a
// late report from undoing a newer one.
func (h *hub) report(ctx actor.Context, users ...string) {
	lookup := h.deps.User
	if lookup == nil || len(users) == 0 {
		return
	}
	node, lease := ctx.Self().Address, h.deps.Config.PresenceLease.Milliseconds()
	type pending struct {
		user string
		msg  *SessionsReport
	}
	batch := make([]pending, 0, len(users))
	for _, u := range users {
		h.presence.version++
		batch = append(batch, pending{u, &SessionsReport{Node: node, Count: int32(len(h.byUser[u])), LeaseMs: lease, Version: h.presence.version}})
	}
	root := ctx.ActorSystem().Root
	runAsync(ctx, func() any {
		for _, p := range batch {
			if pid := lookup(p.user); pid != nil {
				root.Send(pid, p.msg)
			}
		}
		return &reportsSent{}
	})
}

// probe re-activates the grains of the users last announced online.
func (h *hub) probe(ctx actor.Context) {
	lookup := h.deps.User
	if lookup == nil || len(h.presence.knownOnline) == 0 {
		return
	}
	users := make([]string, 0, len(h.presence.knownOnline))
	for u := range h.presence.knownOnline {
		users = append(users, u)
	}
	root := ctx.ActorSystem().Root
	runAsync(ctx, func() any {
		for _, u := range users {
			if pid := lookup(u); pid != nil {
				root.Send(pid, &PresenceProbe{})
			}
		}
		return &reportsSent{}
	})
}

// onPresence hands a presence change to every local session that follows
// one of the user's conversations, once each, except the user's own.
func (h *hub) onPresence(ctx actor.Context, p *PresenceChanged) {
	ev := &PresenceEvent{UserID: p.UserId, Online: p.Online}
	if p.LastSeenMs > 0 {
		ev.LastSeen = time.UnixMilli(p.LastSeenMs).UTC()
	}
	told := map[string]bool{}
	for _, conv := range p.ConversationIds {
		for id, s := range h.byConv[conv] {
			if told[id] || h.sessions[id] == nil || h.sessions[id].user == p.UserId {
				continue
			}
			told[id] = true
			ctx.Send(s, ev)
		}
	}
	if p.Online && len(told) > 0 {
		h.presence.knownOnline[p.UserId] = struct{}{}
	} else if !p.Online {
		delete(h.presence.knownOnline, p.UserId)
	}
}

// onProfile hands a profile change to every local session that follows one
// of the user's (small) conversations and to every session of the user,
// once each.
func (h *hub) onProfile(ctx actor.Context, p *ProfileChanged) {
	ev := &ProfileEvent{UserID: p.UserId, AvatarVersion: p.AvatarVersion}
	told := map[string]bool{}
	for id, s := range h.byUser[p.UserId] {
		told[id] = true
		ctx.Send(s, ev)
	}
	for _, conv := range p.ConversationIds {
		for id, s := range h.byConv[conv] {
			if told[id] || h.sessions[id] == nil {
				continue
			}
			told[id] = true
			ctx.Send(s, ev)
		}
	}
}

// memberSet returns the addresses of the cluster's hubs now.
func (h *hub) memberSet() map[string]struct{} {
	set := map[string]struct{}{}
	for _, pid := range h.deps.Hubs() {
		set[pid.Address] = struct{}{}
	}
	return set
}
