package persistence

import (
	"context"
	"time"
)

// Events keeps the current state of chat messages as sequenced events (edits,
// deletes) apply to them. The events themselves are appended like any
// message (AppendMessages); these calls update their target. Each takes the
// seq of the event it applies, which becomes the target's UpdatedSeq.
type Events interface {
	// MessageBySeq returns the entry of the conversation at seq, or ErrNotFound.
	MessageBySeq(ctx context.Context, conversationID string, seq int64) (Message, error)
	// EditMessage sets the body and EditedAt of the chat message at seq,
	// unless an event at or after eventSeq was applied to it already (then
	// it changes nothing and returns nil). ErrNotFound when there is no chat
	// message at seq or it is deleted.
	EditMessage(ctx context.Context, conversationID string, seq int64, body string, at time.Time, eventSeq int64) error
	// DeleteMessage marks the chat message at seq deleted and clears its
	// body and attachments (and their references: see Blobs), and the bodies
	// of every edit event targeting it, so that no version of its text or
	// files is served again. It is idempotent; eventSeq 0
	// leaves UpdatedSeq as it is (a delete applied before its event is
	// appended). ErrNotFound when there is no chat message at seq.
	DeleteMessage(ctx context.Context, conversationID string, seq int64, eventSeq int64) error
}
