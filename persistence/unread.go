package persistence

import "context"

// MaxUnread caps CountUnread: a client shows a larger backlog as "9999+".
const MaxUnread = 9999

// Unread counts what a member has not read yet.
type Unread interface {
	// CountUnread returns how many chat messages of the conversation (Kind
	// KindMessage, not Deleted) have a seq above afterSeq and were sent by
	// someone other than userID, at most MaxUnread. Other sequenced events
	// (edits, reactions, membership changes) never count.
	CountUnread(ctx context.Context, conversationID, userID string, afterSeq int64) (int64, error)
}
