package actors

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actorchat/engine/persistence"
)

// Notification kinds (docs/protocol.md).
const (
	NotifyAdded     = "added"
	NotifyRemoved   = "removed"
	NotifyMentioned = "mentioned"
	NotifyRenamed   = "renamed"
)

// maxMentions caps the users one message can notify.
const maxMentions = 10

// mentionPattern finds @username (usernames: 3-32 of a-z 0-9 _ . -,
// case-insensitive) not preceded by a word character (so no e-mail address).
var mentionPattern = regexp.MustCompile(`(?:^|[^A-Za-z0-9_.@-])@([A-Za-z0-9_.-]{3,32})`)

// notificationsSent ends a batch of Notify sends run off the mailbox.
type notificationsSent struct{}

// mentionsFound brings the users mentioned by posted messages back.
type mentionsFound struct {
	mentions []mention
}

type mention struct {
	seq     int64
	sender  string
	userIDs []string
}

// notify sends n to the grains of users, off the mailbox (lookups may block).
// Delivery to a user grain is best effort; once stored, a notification is
// never lost (the client replays its stream).
func (g *conversation) notify(ctx actor.Context, users []string, n *Notify) {
	lookup := g.deps.User
	if lookup == nil || len(users) == 0 {
		return
	}
	root := ctx.ActorSystem().Root
	runAsync(ctx, func() any {
		for _, u := range users {
			if pid := lookup(u); pid != nil {
				root.Send(pid, n)
			}
		}
		return &notificationsSent{}
	})
}

// notifyAdmin tells the users an admin change concerns: the member added or
// removed (not one who left), and every other member of a renamed group.
func (g *conversation) notifyAdmin(ctx actor.Context, d *adminDone) {
	if d.code != "" || d.created != nil {
		return
	}
	seqOf := map[string]int64{}
	if d.events != nil {
		for _, o := range d.events.outcomes {
			if o.code == "" {
				seqOf[string(o.msg.Kind)+":"+o.msg.SubjectID] = o.msg.Seq
			}
		}
	}
	actorID := adminActor(d.op.msg)
	n := func(kind string, seq int64, subject string) *Notify {
		key := fmt.Sprintf("%s:%s:%d", kind, g.id, seq)
		if seq == 0 { // its history event was not stored: key by the request's time
			key = fmt.Sprintf("%s:%s:%s:%d", kind, g.id, subject, d.op.at.UnixNano())
		}
		return &Notify{Kind: kind, ConversationId: g.id, ActorId: actorID, MessageSeq: seq, Title: g.conv.Title,
			Key: key, CreatedAtMs: d.op.at.UnixMilli()}
	}
	for _, m := range d.added {
		g.notify(ctx, []string{m.UserID}, n(NotifyAdded, seqOf[string(persistence.KindJoin)+":"+m.UserID], m.UserID))
	}
	if d.removed != "" && d.removed != actorID {
		g.notify(ctx, []string{d.removed}, n(NotifyRemoved, seqOf[string(persistence.KindRemove)+":"+d.removed], d.removed))
	}
	if d.title != "" {
		var others []string
		for id := range g.members {
			if id != actorID {
				others = append(others, id)
			}
		}
		g.notify(ctx, others, n(NotifyRenamed, seqOf[string(persistence.KindRename)+":"], ""))
	}
}

// findMentions resolves the @usernames of newly posted chat messages off
// the mailbox; onMentions notifies those who are members.
func (g *conversation) findMentions(ctx actor.Context, msgs []*ChatMessage) {
	type found struct {
		seq    int64
		sender string
		names  []string
	}
	var todo []found
	for _, m := range msgs {
		if m.Kind != string(persistence.KindMessage) || !strings.Contains(m.Body, "@") {
			continue
		}
		if names := mentionedNames(m.Body); len(names) > 0 {
			todo = append(todo, found{m.Seq, m.SenderId, names})
		}
	}
	if len(todo) == 0 {
		return
	}
	deps := g.deps
	runAsync(ctx, func() any {
		c, cancel := deps.storeCtx()
		defer cancel()
		out := &mentionsFound{}
		for _, f := range todo {
			out.mentions = append(out.mentions, mention{seq: f.seq, sender: f.sender, userIDs: resolveNames(c, deps.Store, f.names)})
		}
		return out
	})
}

// mentionedNames returns the distinct lower-cased usernames mentioned in
// body, at most maxMentions.
func mentionedNames(body string) []string {
	var names []string
	seen := map[string]bool{}
	for _, m := range mentionPattern.FindAllStringSubmatch(body, -1) {
		name := strings.ToLower(strings.TrimRight(m[1], ".-"))
		if len(name) < 3 || seen[name] {
			continue
		}
		seen[name] = true
		if names = append(names, name); len(names) == maxMentions {
			break
		}
	}
	return names
}

// resolveNames returns the ids of the users that exist among names.
func resolveNames(ctx context.Context, st persistence.Users, names []string) []string {
	var ids []string
	for _, name := range names {
		if u, err := st.UserByUsername(ctx, name); err == nil {
			ids = append(ids, u.ID)
		}
	}
	return ids
}

// onMentions notifies the mentioned users who are members now, never the sender.
func (g *conversation) onMentions(ctx actor.Context, f *mentionsFound) {
	for _, m := range f.mentions {
		var users []string
		for _, id := range m.userIDs {
			if _, ok := g.members[id]; ok && id != m.sender {
				users = append(users, id)
			}
		}
		g.notify(ctx, users, &Notify{Kind: NotifyMentioned, ConversationId: g.id, ActorId: m.sender, MessageSeq: m.seq,
			Title: g.conv.Title, Key: fmt.Sprintf("%s:%s:%d", NotifyMentioned, g.id, m.seq), CreatedAtMs: g.deps.Now().UnixMilli()})
	}
}
