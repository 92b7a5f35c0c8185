package actors

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorchat/engine/persistence"
)

// adminDone reports a membership write back to its grain.
type adminDone struct {
	op       queuedOp
	code     string
	created  *persistence.Conversation
	added    []persistence.Member
	removed  string
	promoted string // user made owner because the last owner left
	epoch    int64  // claimed after creating the conversation
	title    string // the new title of a rename
	roleUser string // a member whose role was set to role
	role     persistence.Role
	events   *commitResult // the change's history events, appended after it
}

// startAdmin checks a membership request against the grain's state and, when
// allowed, writes it off the mailbox.
func (g *conversation) startAdmin(ctx actor.Context, op queuedOp) {
	var work func(context.Context) *adminDone
	var code string
	switch m := op.msg.(type) {
	case *CreateConversation:
		work, code = g.planCreate(m)
	case *AddMember:
		work, code = g.planAdd(m)
	case *RemoveMember:
		work, code = g.planRemove(m)
	case *RenameConversation:
		work, code = g.planRename(m)
	case *SetMemberRole:
		work, code = g.planSetRole(m)
	}
	if code != "" {
		g.replyError(ctx, op, code)
		return
	}
	if work == nil { // already so: a retried request succeeds again
		if op.sender != nil {
			ctx.Send(op.sender, &AdminResult{ConversationId: g.id})
		}
		return
	}
	g.busy = true
	deps, id, last := g.deps, g.id, g.lastSeq
	runAsync(ctx, func() any {
		c, cancel := deps.storeCtx()
		defer cancel()
		d := work(c)
		d.op = op
		recordEvents(c, deps.Store, id, op, d, last)
		return d
	})
}

func (g *conversation) planCreate(m *CreateConversation) (func(context.Context) *adminDone, string) {
	if g.exists {
		return nil, CodeConflict
	}
	if len(m.Members) == 0 || len(m.Members) > g.deps.Config.MaxMembers {
		return nil, CodeInvalid
	}
	now := g.deps.Now()
	conv := persistence.Conversation{
		ID: g.id, Kind: persistence.ConversationKind(m.Kind), Title: m.Title,
		DMKey: m.DmKey, CreatedBy: m.CreatedBy, CreatedAt: now,
	}
	members := make([]persistence.Member, 0, len(m.Members))
	for i, spec := range m.Members {
		members = append(members, persistence.Member{
			ConversationID: g.id, UserID: spec.UserId, Role: persistence.Role(spec.Role),
			JoinedAt: now.Add(time.Duration(i) * time.Millisecond), // keeps the listed order
		})
	}
	st := g.deps.Store
	return func(c context.Context) *adminDone {
		err := st.CreateConversation(c, conv, members)
		if err != nil {
			return &adminDone{code: storeCode(err)}
		}
		epoch, err := st.ClaimConversation(c, conv.ID)
		if err != nil {
			// Created, but unclaimed: epoch 0 gives way to any later activation.
			epoch = 0
		}
		return &adminDone{created: &conv, added: members, epoch: epoch}
	}, ""
}

func (g *conversation) planAdd(m *AddMember) (func(context.Context) *adminDone, string) {
	if !g.exists {
		return nil, CodeNotFound
	}
	actorRole, ok := g.members[m.ActorId]
	if !ok {
		return nil, CodeForbidden
	}
	role := persistence.Role(m.Role)
	if role == "" {
		role = persistence.RoleMember
	}
	switch {
	case g.conv.Kind == persistence.KindDirect:
		return nil, CodeForbidden
	case !canGrant(actorRole.Role, role):
		return nil, CodeForbidden
	}
	if cur, dup := g.members[m.UserId]; dup {
		if cur.Role == role {
			return nil, "" // idempotent: a retry of an add that took effect
		}
		return nil, CodeConflict
	}
	if len(g.members) >= g.deps.Config.MaxMembers {
		return nil, CodeConflict // full (Config.MaxMembers)
	}
	member := persistence.Member{ConversationID: g.id, UserID: m.UserId, Role: role, JoinedAt: g.deps.Now()}
	st := g.deps.Store
	return func(c context.Context) *adminDone {
		if _, err := st.UserByID(c, m.UserId); err != nil {
			return &adminDone{code: storeCode(err)}
		}
		if err := st.AddMember(c, member); err != nil {
			return &adminDone{code: storeCode(err)}
		}
		return &adminDone{added: []persistence.Member{member}}
	}, ""
}

func (g *conversation) planRemove(m *RemoveMember) (func(context.Context) *adminDone, string) {
	if !g.exists {
		return nil, CodeNotFound
	}
	actorM, ok := g.members[m.ActorId]
	if !ok {
		return nil, CodeForbidden
	}
	target, ok := g.members[m.UserId]
	if !ok {
		return nil, "" // idempotent: gone already (a retry of a removal that took effect)
	}
	if m.ActorId != m.UserId && !outranks(actorM.Role, target.Role) {
		return nil, CodeForbidden
	}
	promote := g.successorIfLastOwner(target)
	st := g.deps.Store
	return func(c context.Context) *adminDone {
		if promote != "" {
			if err := st.SetRole(c, g.id, promote, persistence.RoleOwner); err != nil {
				return &adminDone{code: storeCode(err)}
			}
		}
		if err := st.RemoveMember(c, g.id, m.UserId); err != nil {
			return &adminDone{code: storeCode(err), promoted: promote}
		}
		return &adminDone{removed: m.UserId, promoted: promote}
	}, ""
}

// successorIfLastOwner returns who becomes owner when leaving removes the
// group's last owner: the longest-standing admin, else the longest-standing member.
func (g *conversation) successorIfLastOwner(leaving persistence.Member) string {
	if leaving.Role != persistence.RoleOwner || g.conv.Kind == persistence.KindDirect {
		return ""
	}
	var rest []persistence.Member
	for id, m := range g.members {
		if id == leaving.UserID {
			continue
		}
		if m.Role == persistence.RoleOwner {
			return ""
		}
		rest = append(rest, m)
	}
	if len(rest) == 0 {
		return ""
	}
	sort.Slice(rest, func(i, j int) bool {
		if rest[i].Role != rest[j].Role {
			return rest[i].Role == persistence.RoleAdmin
		}
		return rest[i].JoinedAt.Before(rest[j].JoinedAt)
	})
	return rest[0].UserID
}

// onAdminDone applies a finished membership write, answers its requester and
// tells every hub, so sessions start or stop receiving at once. A joining
// member's sessions start after the seq before the change's history event,
// so they receive it; a leaving member's get it before they stop.
func (g *conversation) onAdminDone(ctx actor.Context, d *adminDone) {
	g.busy = false
	if d.promoted != "" {
		if m, ok := g.members[d.promoted]; ok {
			m.Role = persistence.RoleOwner
			g.members[d.promoted] = m
		}
	}
	if d.roleUser != "" {
		if m, ok := g.members[d.roleUser]; ok {
			m.Role = d.role
			g.members[d.roleUser] = m
		}
	}
	if d.title != "" {
		g.conv.Title = d.title
	}
	if d.created != nil {
		g.exists = true
		g.conv = *d.created
		g.epoch = d.epoch
	}
	for _, m := range d.added {
		g.members[m.UserID] = m
		g.broadcast(ctx, &MembershipChanged{ConversationId: g.id, UserId: m.UserID, Added: true, LastSeq: g.lastSeq})
	}
	g.postEvents(ctx, d.events)
	g.notifyAdmin(ctx, d)
	if d.removed != "" {
		delete(g.members, d.removed)
		delete(g.typingAt, d.removed)
		g.broadcast(ctx, &MembershipChanged{ConversationId: g.id, UserId: d.removed, LastSeq: g.lastSeq})
	}
	if d.op.sender != nil {
		ctx.Send(d.op.sender, &AdminResult{ErrorCode: d.code, ConversationId: g.id})
	}
	g.next(ctx)
}

// storeCode maps a store error to a client error code.
func storeCode(err error) string {
	switch {
	case errors.Is(err, persistence.ErrNotFound):
		return CodeNotFound
	case errors.Is(err, persistence.ErrDuplicate):
		return CodeConflict
	default:
		return CodeUnavailable
	}
}

// canGrant reports whether a member with role actor may add someone as role.
func canGrant(actor, role persistence.Role) bool {
	switch actor {
	case persistence.RoleOwner:
		return role == persistence.RoleAdmin || role == persistence.RoleMember
	case persistence.RoleAdmin:
		return role == persistence.RoleMember
	}
	return false
}

// outranks reports whether actor may remove a member with role target.
func outranks(actor, target persistence.Role) bool {
	rank := map[persistence.Role]int{persistence.RoleOwner: 3, persistence.RoleAdmin: 2, persistence.RoleMember: 1}
	return rank[actor] > rank[target] && rank[actor] >= 2
}
