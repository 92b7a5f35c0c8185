package persistence

import (
	"context"
	"time"
)

// Store is the port every adapter implements. Methods are safe for
// concurrent use. Errors wrap the sentinels of this package.
type Store interface {
	Users
	Tokens
	Conversations
	Messages
	Fencing
	Features
	// Close releases the adapter's resources.
	Close(ctx context.Context) error
}

// Users stores accounts.
type Users interface {
	// CreateUser inserts u; ErrDuplicate when the username or id is taken.
	CreateUser(ctx context.Context, u User) error
	// UserByID returns the user or ErrNotFound.
	UserByID(ctx context.Context, id string) (User, error)
	// UserByUsername returns the user with that (normalised) username or ErrNotFound.
	UserByUsername(ctx context.Context, username string) (User, error)
	// UsersByIDs returns the users that exist among ids, in any order.
	UsersByIDs(ctx context.Context, ids []string) ([]User, error)
}

// Tokens stores hashed refresh tokens.
type Tokens interface {
	// CreateRefreshToken inserts t; ErrDuplicate when the hash exists.
	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// UseRefreshToken atomically revokes the active token with this hash and
	// returns it as it was. It returns ErrNotFound for an unknown hash and,
	// for a token already revoked, the token together with ErrRevoked (so the
	// caller can revoke the user's other tokens on reuse). Expiry is the
	// caller's check.
	UseRefreshToken(ctx context.Context, hash string, now time.Time) (RefreshToken, error)
	// RevokeUserRefreshTokens revokes every active token of the user.
	RevokeUserRefreshTokens(ctx context.Context, userID string, now time.Time) error
	// SetRefreshSuccessor records which token replaced hash at its rotation
	// (UseRefreshToken returns it); ErrNotFound for an unknown hash.
	SetRefreshSuccessor(ctx context.Context, hash, successor string) error
}

// Conversations stores conversations and memberships.
type Conversations interface {
	// CreateConversation inserts c, then its initial members. ErrDuplicate
	// when the id or (for DMs) the DMKey exists; then no member is written.
	CreateConversation(ctx context.Context, c Conversation, members []Member) error
	// Conversation returns the conversation or ErrNotFound.
	Conversation(ctx context.Context, id string) (Conversation, error)
	// ConversationByDMKey returns the DM with that key or ErrNotFound.
	ConversationByDMKey(ctx context.Context, dmKey string) (Conversation, error)
	// AddMember inserts m; ErrDuplicate when already a member.
	AddMember(ctx context.Context, m Member) error
	// RemoveMember deletes the membership; ErrNotFound when absent.
	RemoveMember(ctx context.Context, conversationID, userID string) error
	// SetRole changes a member's role; ErrNotFound when not a member.
	SetRole(ctx context.Context, conversationID, userID string, role Role) error
	// Member returns one membership or ErrNotFound.
	Member(ctx context.Context, conversationID, userID string) (Member, error)
	// Members returns every membership of a conversation, ordered by JoinedAt.
	Members(ctx context.Context, conversationID string) ([]Member, error)
	// MembersPage returns up to limit memberships of a conversation in
	// (JoinedAt, UserID) order, starting after the member after names (the
	// zero MemberKey: from the first). Its cost follows limit, not the
	// conversation's size.
	MembersPage(ctx context.Context, conversationID string, after MemberKey, limit int) ([]Member, error)
	// UserMemberships returns every membership of a user.
	UserMemberships(ctx context.Context, userID string) ([]Member, error)
	// MemberCounts returns the number of members of each given conversation
	// that has any (conversations without members are absent).
	MemberCounts(ctx context.Context, conversationIDs []string) (map[string]int, error)
	// MarkRead moves LastReadSeq forward to seq (never backward) and returns
	// the value now stored; ErrNotFound when not a member.
	MarkRead(ctx context.Context, conversationID, userID string, seq int64) (int64, error)
}

// Messages stores the sequenced entries of conversations.
type Messages interface {
	// AppendMessages inserts msgs in order, like an ordered insertMany: it
	// stops at the first failure and returns how many leading messages were
	// stored. When a unique index rejects msgs[n] it returns n and an error
	// wrapping ErrDuplicate; msgs[:n] are stored, msgs[n:] are not. Any other
	// error leaves the count uncertain (n is what is known to be stored).
	AppendMessages(ctx context.Context, msgs []Message) (int, error)
	// MessageByClientID returns the message a sender stored under a client id,
	// or ErrNotFound.
	MessageByClientID(ctx context.Context, conversationID, senderID, clientMsgID string) (Message, error)
	// LastSeq returns the highest stored seq of the conversation, 0 when empty.
	LastSeq(ctx context.Context, conversationID string) (int64, error)
	// Messages returns a page of messages in ascending seq order (see MessageQuery).
	Messages(ctx context.Context, conversationID string, q MessageQuery) ([]Message, error)
}
