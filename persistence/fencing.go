package persistence

import "context"

// Fencing stores the activation epoch of each conversation. Proto.Actor can
// run two activations of one grain at once (a node that rejoined with a
// stale view, a paused node); each activation claims a new epoch when it
// starts, and one that finds a higher epoch than its own knows it is stale
// and stops. Seq uniqueness does not depend on this: the unique index on
// (conversation, seq) already fences every write. The epoch tells a writer
// which of two activations should give way.
type Fencing interface {
	// ClaimConversation increments the conversation's epoch and returns the
	// new value; ErrNotFound when the conversation does not exist.
	ClaimConversation(ctx context.Context, conversationID string) (int64, error)
	// ConversationEpoch returns the current epoch; ErrNotFound when absent.
	ConversationEpoch(ctx context.Context, conversationID string) (int64, error)
}
