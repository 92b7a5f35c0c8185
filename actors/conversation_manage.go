package actors

import (
	"context"
	"unicode/utf8"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorchat/engine/persistence"
)

// MaxTitleRunes caps a group's title.
const MaxTitleRunes = 100

// planRename checks a rename: groups only, by an owner or admin.
func (g *conversation) planRename(m *RenameConversation) (func(context.Context) *adminDone, string) {
	if !g.exists {
		return nil, CodeNotFound
	}
	actorM, ok := g.members[m.ActorId]
	switch {
	case !ok || g.conv.Kind == persistence.KindDirect:
		return nil, CodeForbidden
	case actorM.Role != persistence.RoleOwner && actorM.Role != persistence.RoleAdmin:
		return nil, CodeForbidden
	case m.Title == "" || !utf8.ValidString(m.Title) || utf8.RuneCountInString(m.Title) > MaxTitleRunes:
		return nil, CodeInvalid
	}
	st, id, title := g.deps.Store, g.id, m.Title
	return func(c context.Context) *adminDone {
		if err := st.SetTitle(c, id, title); err != nil {
			return &adminDone{code: storeCode(err)}
		}
		return &adminDone{title: title}
	}, ""
}

// planSetRole checks a role change: groups only, by an owner, of another
// member who is not an owner, to admin or member.
func (g *conversation) planSetRole(m *SetMemberRole) (func(context.Context) *adminDone, string) {
	if !g.exists {
		return nil, CodeNotFound
	}
	actorM, ok := g.members[m.ActorId]
	if !ok || g.conv.Kind == persistence.KindDirect || actorM.Role != persistence.RoleOwner {
		return nil, CodeForbidden
	}
	role := persistence.Role(m.Role)
	if role != persistence.RoleAdmin && role != persistence.RoleMember {
		return nil, CodeInvalid
	}
	target, ok := g.members[m.UserId]
	switch {
	case !ok:
		return nil, CodeNotFound
	case target.Role == persistence.RoleOwner:
		return nil, CodeForbidden
	case target.Role == role:
		return nil, CodeConflict
	}
	st, id, user := g.deps.Store, g.id, m.UserId
	return func(c context.Context) *adminDone {
		if err := st.SetRole(c, id, user, role); err != nil {
			return &adminDone{code: storeCode(err)}
		}
		return &adminDone{roleUser: user, role: role}
	}, ""
}

// membershipEvents returns the sequenced events recording a finished admin
// write (none for a create: its members are the conversation's start).
func membershipEvents(conv string, op queuedOp, d *adminDone) []persistence.Message {
	if d.code != "" || d.created != nil {
		return nil
	}
	actorID := adminActor(op.msg)
	ev := func(kind persistence.MessageKind, subject, body string) persistence.Message {
		return persistence.Message{ConversationID: conv, ID: newID(), Kind: kind, SenderID: actorID,
			ClientMsgID: "sys-" + newID(), SubjectID: subject, Body: body, CreatedAt: op.at}
	}
	var evs []persistence.Message
	for _, m := range d.added {
		evs = append(evs, ev(persistence.KindJoin, m.UserID, string(m.Role)))
	}
	switch {
	case d.removed != "" && d.removed == actorID:
		evs = append(evs, ev(persistence.KindLeave, "", ""))
	case d.removed != "":
		evs = append(evs, ev(persistence.KindRemove, d.removed, ""))
	}
	if d.promoted != "" {
		evs = append(evs, ev(persistence.KindRole, d.promoted, string(persistence.RoleOwner)))
	}
	if d.roleUser != "" {
		evs = append(evs, ev(persistence.KindRole, d.roleUser, string(d.role)))
	}
	if d.title != "" {
		evs = append(evs, ev(persistence.KindRename, "", d.title))
	}
	return evs
}

// adminActor returns who asked for an admin request.
func adminActor(msg any) string {
	switch m := msg.(type) {
	case *AddMember:
		return m.ActorId
	case *RemoveMember:
		return m.ActorId
	case *RenameConversation:
		return m.ActorId
	case *SetMemberRole:
		return m.ActorId
	}
	return ""
}

// recordEvents appends the events of a finished admin write (off the
// mailbox, after the write). A failure leaves the change in place without
// its history entry; the grain logs it.
func recordEvents(c context.Context, st persistence.Store, conv string, op queuedOp, d *adminDone, last int64) {
	evs := membershipEvents(conv, op, d)
	if len(evs) == 0 {
		return
	}
	r := commitBatch(c, st, conv, evs, last)
	d.events = &r
}

// postEvents applies the outcome of recordEvents: the grain's last seq, and
// the broadcast of what was stored.
func (g *conversation) postEvents(ctx actor.Context, r *commitResult) {
	if r == nil {
		return
	}
	if r.lastSeq > g.lastSeq {
		g.lastSeq = r.lastSeq
	}
	posted := &MessagesPosted{}
	for _, o := range r.outcomes {
		if o.code != "" {
			g.log.Warn("membership change stored without its history event", "code", o.code)
			continue
		}
		posted.Messages = append(posted.Messages, toChatMessage(o.msg))
	}
	if len(posted.Messages) > 0 {
		g.posted(ctx, posted)
	}
}
