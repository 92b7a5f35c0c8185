package persistence

import (
	"context"
	"time"
)

// Reaction is one user's emoji on one chat message. (ConversationID, Seq,
// Emoji, UserID) is unique.
type Reaction struct {
	ConversationID string
	Seq            int64
	Emoji          string
	UserID         string
	At             time.Time
}

// Reactions keeps the reactions on chat messages, applied from the
// conversation's react and unreact events.
type Reactions interface {
	// SetReaction adds (on) or removes r and raises the target's UpdatedSeq
	// to eventSeq. Adding an existing or removing an absent reaction only
	// raises UpdatedSeq. ErrNotFound when there is no chat message at r.Seq
	// or it is deleted.
	SetReaction(ctx context.Context, r Reaction, on bool, eventSeq int64) error
	// Reactions returns the reactions on the messages of the conversation
	// with fromSeq <= seq <= toSeq, ordered by seq, then emoji, then time.
	Reactions(ctx context.Context, conversationID string, fromSeq, toSeq int64) ([]Reaction, error)
}
