package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// onTyping forwards a member's typing signal to every hub, at most once per
// TypingInterval per member (whichever of the member's devices types).
// Typing is soft state: it is never stored, never queued behind writes, and
// dropped when the grain cannot check membership yet.
func (g *conversation) onTyping(ctx actor.Context, m *Typing) {
	if !g.loaded || !g.exists {
		return
	}
	if _, ok := g.members[m.UserId]; !ok {
		return
	}
	now := g.deps.Now()
	if last, ok := g.typingAt[m.UserId]; ok && now.Sub(last) < g.deps.Config.TypingInterval {
		return
	}
	if g.typingAt == nil {
		g.typingAt = map[string]time.Time{}
	}
	g.typingAt[m.UserId] = now
	g.broadcast(ctx, &TypingPosted{ConversationId: g.id, UserId: m.UserId})
}
