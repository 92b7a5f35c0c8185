package actors

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
)

// userGrain is the grain of one user (cluster kind UserKind). It derives the
// user's presence from the hubs' reports of how many of the user's sessions
// each node holds, and tells the members of the user's conversations when
// the user comes online or goes offline.
//
// Reports are leases: a node that stops renewing (crashed, cut off) has its
// sessions expire after Config.PresenceLease. Presence is soft state: only
// lastSeen is stored, when the user goes offline. A grain that starts
// (first use, or moved after its node died) knows no sessions until the
// hubs' next renewal, so after one lease it announces whatever it then
// believes, once, even without a change: an observer that was told "online"
// by a grain that died learns the truth from its successor.
type userGrain struct {
	deps *Deps
	id   string
	log  *slog.Logger

	nodes    map[string]nodeLease // node address -> its last live report
	versions map[string]int64     // node address -> its newest report's version, kept after expiry
	online   bool
	lastSeen time.Time // when the user last went offline; zero: never seen

	announcing bool // a membership load for an announcement is in flight
	dirty      bool // presence changed while announcing: announce again
	announced  bool // announced at least once since activation
	warmUntil  time.Time
	timer      *time.Timer
	armed      bool // a presenceTick is scheduled

	notifyQueue []*Notify // notifications to store, in arrival order
	notifying   bool      // a notification write is in flight
	notifyReady bool      // notifyLast is loaded
	notifyLast  int64     // the user's last notification seq

	profile userProfile
}

// nodeLease is one node's report of the user's sessions.
type nodeLease struct {
	count   int32
	expires time.Time
}

// presenceTick makes a user grain expire leases (sent by its own timer).
type presenceTick struct{}

// lastSeenLoaded brings the stored lastSeen back at activation.
type lastSeenLoaded struct {
	at  time.Time
	err error
}

// presenceAudience brings the user's conversations back for an announcement.
type presenceAudience struct {
	convs []string
	err   error
}

// lastSeenStored reports the write of lastSeen.
type lastSeenStored struct{ err error }

// NewUserProps returns the props of the user grain kind.
func NewUserProps(deps *Deps) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor { return &userGrain{deps: deps} }, mailboxOptions(deps)...)
}

// newUserWithID returns props for a user grain spawned outside the cluster (tests).
func newUserWithID(deps *Deps, id string) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor { return &userGrain{deps: deps, id: id} }, mailboxOptions(deps)...)
}

// Receive dispatches on the message type.
func (u *userGrain) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		if u.id != "" {
			u.activate(ctx)
		}
	case *cluster.ClusterInit:
		u.id = msg.Identity.Identity
		u.activate(ctx)
	case *actor.Stopped:
		if u.timer != nil {
			u.timer.Stop()
		}
	case *lastSeenLoaded:
		u.onLastSeenLoaded(msg)
	case *SessionsReport:
		u.onReport(ctx, msg)
	case *presenceTick:
		u.armed = false
		u.onTick(ctx)
	case *PresenceProbe:
		// Activation is the point: see the type's comment.
	case *GetPresence:
		ctx.Respond(&PresenceState{Online: u.online, LastSeenMs: unixMillis(u.lastSeen)})
	case *presenceAudience:
		u.onAudience(ctx, msg)
	case *lastSeenStored:
		if msg.err != nil {
			u.log.Warn("store last seen failed", "err", msg.err)
		}
	case *actor.ReceiveTimeout:
		if !u.online && !u.announcing && !u.armed && !u.notifying && len(u.notifyQueue) == 0 && !u.profile.loading {
			ctx.Stop(ctx.Self())
		}
	default:
		u.receiveFeature(ctx, msg)
	}
}

func (u *userGrain) activate(ctx actor.Context) {
	u.log = u.deps.Log.With("user_id", u.id)
	u.nodes = map[string]nodeLease{}
	u.versions = map[string]int64{}
	u.warmUntil = u.deps.Now().Add(u.deps.Config.PresenceLease)
	ctx.SetReceiveTimeout(u.deps.Config.GrainIdleTimeout)
	deps, id := u.deps, u.id
	runAsync(ctx, func() any {
		c, cancel := deps.storeCtx()
		defer cancel()
		at, err := deps.Store.LastSeen(c, id)
		return &lastSeenLoaded{at: at, err: err}
	})
	u.loadNotifySeq(ctx)
	u.schedule(ctx)
}

func (u *userGrain) onLastSeenLoaded(l *lastSeenLoaded) {
	if l.err != nil {
		u.log.Warn("load last seen failed", "err", l.err)
		return
	}
	if l.at.After(u.lastSeen) {
		u.lastSeen = l.at
	}
}

// onReport records a node's report unless a newer one from that node is known.
func (u *userGrain) onReport(ctx actor.Context, r *SessionsReport) {
	if v, ok := u.versions[r.Node]; ok && r.Version < v {
		return
	}
	u.versions[r.Node] = r.Version
	lease := time.Duration(r.LeaseMs) * time.Millisecond
	if lease <= 0 || lease > u.deps.Config.PresenceLease {
		lease = u.deps.Config.PresenceLease
	}
	u.nodes[r.Node] = nodeLease{count: r.Count, expires: u.deps.Now().Add(lease)}
	u.update(ctx)
	u.schedule(ctx)
}

// onTick expires leases, announces once after warm-up (and what a failed
// load left pending), and reschedules while there is anything to watch.
func (u *userGrain) onTick(ctx actor.Context) {
	u.update(ctx)
	switch {
	case !u.announced && !u.deps.Now().Before(u.warmUntil):
		u.announce(ctx)
	case u.dirty && !u.announcing:
		u.dirty = false
		u.announce(ctx)
	}
	u.schedule(ctx)
}

// update recomputes presence from the live leases and announces a change.
func (u *userGrain) update(ctx actor.Context) {
	now := u.deps.Now()
	online := false
	for node, l := range u.nodes {
		switch {
		case !now.Before(l.expires):
			delete(u.nodes, node)
		case l.count > 0:
			online = true
		}
	}
	if online == u.online {
		return
	}
	u.online = online
	if !online {
		u.lastSeen = now
		deps, id := u.deps, u.id
		runAsync(ctx, func() any {
			c, cancel := deps.storeCtx()
			defer cancel()
			return &lastSeenStored{err: deps.Store.SetLastSeen(c, id, now)}
		})
	}
	u.announce(ctx)
}

// announce loads the user's conversations and then broadcasts the presence
// current at that moment; changes while it loads are announced after.
func (u *userGrain) announce(ctx actor.Context) {
	u.announced = true
	if u.announcing {
		u.dirty = true
		return
	}
	u.announcing = true
	deps, id := u.deps, u.id
	runAsync(ctx, func() any {
		convs, err := smallConversations(deps, id)
		return &presenceAudience{convs: convs, err: err}
	})
}

// smallConversations loads the user's conversations of at most
// PresenceMaxMembers members: those whose members hear of the user's
// presence and profile changes. Called off the mailbox.
func smallConversations(deps *Deps, user string) ([]string, error) {
	c, cancel := deps.storeCtx()
	defer cancel()
	ms, err := deps.Store.UserMemberships(c, user)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ConversationID
	}
	counts, err := deps.counts.get(c, deps, ids)
	var out []string
	for _, id := range ids {
		if counts[id] <= deps.Config.PresenceMaxMembers {
			out = append(out, id)
		}
	}
	return out, err
}

func (u *userGrain) onAudience(ctx actor.Context, a *presenceAudience) {
	u.announcing = false
	if a.err != nil {
		u.log.Warn("load memberships for presence failed", "err", a.err)
		u.dirty = true // retried at the next tick
	} else if len(a.convs) > 0 {
		msg := &PresenceChanged{UserId: u.id, Online: u.online, LastSeenMs: unixMillis(u.lastSeen), ConversationIds: a.convs}
		for _, hub := range u.deps.Hubs() {
			ctx.Send(hub, msg)
		}
	}
	if u.dirty && a.err == nil {
		u.dirty = false
		u.announce(ctx)
	}
}

// schedule arms the next tick, unless one is armed or there is nothing to
// watch (no lease, warm-up announced, nothing pending). Ticks come every
// quarter lease, so an expired lease is noticed within 1.25 leases of the
// node's last report.
func (u *userGrain) schedule(ctx actor.Context) {
	if u.armed || (len(u.nodes) == 0 && u.announced && !u.dirty) {
		return
	}
	u.armed = true
	self, root := ctx.Self(), ctx.ActorSystem().Root
	u.timer = time.AfterFunc(u.deps.Config.PresenceLease/4, func() { root.Send(self, &presenceTick{}) })
}

// receiveFeature handles the user grain's messages beyond presence.
func (u *userGrain) receiveFeature(ctx actor.Context, msg any) {
	switch m := msg.(type) {
	case *notifySeqLoaded:
		u.onNotifySeqLoaded(ctx, m)
	case *Notify:
		u.onNotify(ctx, m)
	case *notifyDone:
		u.onNotifyDone(ctx, m)
	case *AvatarChanged:
		ctx.Respond(&AvatarChangedResult{})
		u.onAvatarChanged(ctx, m)
	case *profileAudience:
		u.onProfileAudience(ctx, m)
	}
}

func unixMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func (u *userGrain) String() string { return fmt.Sprintf("user(%s)", u.id) }

func (u *userGrain) dependencies() *Deps { return u.deps }
