package actors

import (
	"context"
	"unicode"
	"unicode/utf8"

	"github.com/actorchat/engine/persistence"
)

// MaxEmojiBytes caps a reaction's emoji.
const MaxEmojiBytes = 16

// ValidEmoji reports whether s may be a reaction: 1 to MaxEmojiBytes bytes
// of UTF-8 without control characters or spaces.
func ValidEmoji(s string) bool {
	if s == "" || len(s) > MaxEmojiBytes || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// loadPage reads a page of a conversation's entries with the reactions of
// its chat messages, in their current state, as every read path serves them.
func loadPage(ctx context.Context, st persistence.Store, conv string, q persistence.MessageQuery) ([]*ChatMessage, error) {
	msgs, err := st.Messages(ctx, conv, q)
	if err != nil || len(msgs) == 0 {
		return nil, err
	}
	return WithReactions(ctx, st, msgs)
}

// ReactionReader reads reactions (a persistence.Store, or the gateway's Directory).
type ReactionReader interface {
	Reactions(ctx context.Context, conversationID string, fromSeq, toSeq int64) ([]persistence.Reaction, error)
}

// WithReactions converts stored entries (ascending, one conversation) and
// attaches the reactions of the chat messages among them; deleted messages
// show none.
func WithReactions(ctx context.Context, st ReactionReader, msgs []persistence.Message) ([]*ChatMessage, error) {
	out := make([]*ChatMessage, len(msgs))
	bySeq := make(map[int64]*ChatMessage, len(msgs))
	for i, m := range msgs {
		out[i] = ChatMessageOf(m)
		if m.Kind == persistence.KindMessage && !m.Deleted {
			bySeq[m.Seq] = out[i]
		}
	}
	if len(bySeq) == 0 {
		return out, nil
	}
	rs, err := st.Reactions(ctx, msgs[0].ConversationID, msgs[0].Seq, msgs[len(msgs)-1].Seq)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		cm := bySeq[r.Seq]
		if cm == nil {
			continue
		}
		if n := len(cm.Reactions); n > 0 && cm.Reactions[n-1].Emoji == r.Emoji {
			cm.Reactions[n-1].UserIds = append(cm.Reactions[n-1].UserIds, r.UserID)
			continue
		}
		cm.Reactions = append(cm.Reactions, &Reaction{Emoji: r.Emoji, UserIds: []string{r.UserID}})
	}
	return out, nil
}
