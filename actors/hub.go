package actors

import (
	"fmt"
	"slices"

	"github.com/asynkron/protoactor-go/actor"
)

// hub is the per-node fan-out point. Grains broadcast persisted batches and
// membership changes to every node's hub; the hub knows which of its node's
// sessions follow which conversation and which user each belongs to.
// A message is encoded to its wire frame once per node, here, and the same
// bytes go to every local receiver.
type hub struct {
	deps     *Deps
	byConv   map[string]map[string]*actor.PID // conversation -> session id -> session
	byUser   map[string]map[string]*actor.PID // user -> session id -> session
	sessions map[string]*hubEntry             // session id -> what it follows
	seen     map[string]int64                 // conversation -> highest seq delivered to its sessions (while it has some)
	presence hubPresence
}

type hubEntry struct {
	user   string
	convs  []string // its conversations (a slice: most sessions follow a few, and an idle connection's bytes count)
	direct *session // the session itself: live messages and membership go straight to it
}

// registerSession asks the hub to route a session's conversations to it.
type registerSession struct {
	session *actor.PID
	direct  *session
	userID  string
	convs   []string
}

// sessionRegistered confirms registerSession: live delivery has begun.
type sessionRegistered struct{}

// unregisterSession removes a session from every index.
type unregisterSession struct{ session *actor.PID }

// SpawnHub starts this node's hub under the name HubName.
func SpawnHub(sys *actor.ActorSystem, deps *Deps) (*actor.PID, error) {
	props := actor.PropsFromProducer(func() actor.Actor {
		return &hub{
			deps:     deps,
			byConv:   map[string]map[string]*actor.PID{},
			byUser:   map[string]map[string]*actor.PID{},
			sessions: map[string]*hubEntry{},
			seen:     map[string]int64{},
		}
	}, mailboxOptions(deps)...)
	pid, err := sys.Root.SpawnNamed(props, HubName)
	if err != nil {
		return nil, fmt.Errorf("spawn hub: %w", err)
	}
	return pid, nil
}

// Receive dispatches on the message type.
func (h *hub) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		h.startPresence(ctx)
	case *actor.Stopped:
		h.stopPresence()
	case *registerSession:
		h.onRegister(ctx, msg)
		h.report(ctx, msg.userID)
	case *unregisterSession:
		if e := h.sessions[msg.session.Id]; e != nil {
			h.onUnregister(msg)
			h.report(ctx, e.user)
		}
	case *MessagesPosted:
		h.onPosted(ctx, msg)
	case *ConversationHead:
		h.onHead(ctx, msg)
	case *MembershipChanged:
		h.onMembership(msg)
	case *ReceiptPosted:
		h.toConversation(msg.ConversationId, &ReceiptEvent{ConversationID: msg.ConversationId, UserID: msg.UserId, Seq: msg.Seq})
	case *TypingPosted:
		h.onTyping(msg)
	case *PresenceChanged:
		h.onPresence(ctx, msg)
	case *ProfileChanged:
		h.onProfile(ctx, msg)
	case *NotificationPosted:
		ev := &NotificationEvent{N: msg.Notification}
		for _, s := range h.byUser[msg.UserId] {
			ctx.Send(s, ev)
		}
	case *renewTick:
		h.onRenew(ctx)
	}
}

// onTyping hands a typing event to the local sessions of the conversation
// whose user is not the one typing. Like messages, conversation events go
// to sessions by a direct call, so they keep their order with the messages
// (a typing signal sent before a message arrives before it).
func (h *hub) onTyping(m *TypingPosted) {
	ev := &TypingEvent{ConversationID: m.ConversationId, UserID: m.UserId}
	for id := range h.byConv[m.ConversationId] {
		if e := h.sessions[id]; e != nil && e.user != m.UserId {
			e.direct.eventFromHub(m.ConversationId, ev)
		}
	}
}

// toConversation hands ev to every local session following conv.
func (h *hub) toConversation(conv string, ev Outbound) {
	for id := range h.byConv[conv] {
		if e := h.sessions[id]; e != nil {
			e.direct.eventFromHub(conv, ev)
		}
	}
}

func (h *hub) onRegister(ctx actor.Context, r *registerSession) {
	e := &hubEntry{user: r.userID, convs: slices.Clone(r.convs), direct: r.direct}
	h.sessions[r.session.Id] = e
	addIndex(h.byUser, r.userID, r.session)
	for _, c := range r.convs {
		addIndex(h.byConv, c, r.session)
	}
	ctx.Send(r.session, &sessionRegistered{})
}

func (h *hub) onUnregister(u *unregisterSession) {
	e, ok := h.sessions[u.session.Id]
	if !ok {
		return
	}
	delete(h.sessions, u.session.Id)
	removeIndex(h.byUser, e.user, u.session.Id)
	for _, c := range e.convs {
		h.unfollow(c, u.session.Id)
	}
}

// onPosted hands each message, encoded once, straight to every local
// session following its conversation: a delivery is a call under the
// session's lock, not a message through its mailbox (at 10,000 members the
// mailbox hop was a quarter of the CPU per delivery).
func (h *hub) onPosted(ctx actor.Context, p *MessagesPosted) {
	for _, m := range p.Messages {
		subs := h.byConv[m.ConversationId]
		if len(subs) == 0 {
			continue
		}
		h.seen[m.ConversationId] = max(h.seen[m.ConversationId], m.Seq)
		d := &Delivery{Msg: m}
		if h.deps.Encode != nil {
			d.Frame = h.deps.Encode(m)
		}
		for id := range subs {
			if e := h.sessions[id]; e != nil {
				e.direct.deliverFromHub(ctx, d)
			}
		}
	}
}

// onHead passes a grain's head to the conversation's sessions, unless this
// hub delivered that seq itself: then every session got it (or holds it
// behind a repair of its own), and only a lost broadcast needs the call.
func (h *hub) onHead(ctx actor.Context, m *ConversationHead) {
	if h.seen[m.ConversationId] >= m.LastSeq {
		return
	}
	for id := range h.byConv[m.ConversationId] {
		if e := h.sessions[id]; e != nil {
			e.direct.headFromHub(ctx, m.ConversationId, m.LastSeq)
		}
	}
}

// unfollow removes a session from a conversation's index.
func (h *hub) unfollow(conv, id string) {
	removeIndex(h.byConv, conv, id)
	if h.byConv[conv] == nil {
		delete(h.seen, conv)
	}
}

// onMembership updates the indexes and the sessions of the user at once,
// so a message the hub routes next is already accepted (or refused) by them.
func (h *hub) onMembership(m *MembershipChanged) {
	for id, s := range h.byUser[m.UserId] {
		e := h.sessions[id]
		if m.Added {
			if !slices.Contains(e.convs, m.ConversationId) {
				e.convs = append(e.convs, m.ConversationId)
			}
			addIndex(h.byConv, m.ConversationId, s)
			e.direct.joinedFromHub(m.ConversationId, m.LastSeq)
			continue
		}
		e.convs = slices.DeleteFunc(e.convs, func(c string) bool { return c == m.ConversationId })
		h.unfollow(m.ConversationId, id)
		e.direct.leftFromHub(m.ConversationId)
	}
}

func addIndex(idx map[string]map[string]*actor.PID, key string, pid *actor.PID) {
	set := idx[key]
	if set == nil {
		set = map[string]*actor.PID{}
		idx[key] = set
	}
	set[pid.Id] = pid
}

func removeIndex(idx map[string]map[string]*actor.PID, key, id string) {
	set := idx[key]
	delete(set, id)
	if len(set) == 0 {
		delete(idx, key)
	}
}

func (a *hub) dependencies() *Deps { return a.deps }
