package persistence

import "time"

// User is an account. Username is stored normalised (lower case) and is unique.
type User struct {
	ID           string
	Username     string
	DisplayName  string
	PasswordHash string // bcrypt hash; never leaves the gateway
	CreatedAt    time.Time
}

// RefreshToken is a long-lived credential stored only as a hash.
// A token is active while RevokedAt is zero and ExpiresAt is in the future.
type RefreshToken struct {
	Hash      string // hex SHA-256 of the opaque token handed to the client
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt time.Time // zero while active
}

// ConversationKind tells groups from direct messages.
type ConversationKind string

// Conversation kinds.
const (
	KindGroup  ConversationKind = "group"
	KindDirect ConversationKind = "direct"
)

// Conversation is a chat room: a titled group, or a DM between two users.
type Conversation struct {
	ID        string
	Kind      ConversationKind
	Title     string // empty for DMs
	DMKey     string // "userA:userB" with the two ids sorted; unique; empty for groups
	CreatedBy string
	CreatedAt time.Time
}

// Role is a member's rights in a conversation.
type Role string

// Roles, from most to least privileged.
const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// Member is one user's membership of one conversation. (ConversationID,
// UserID) is unique.
type Member struct {
	ConversationID string
	UserID         string
	Role           Role
	JoinedAt       time.Time
	LastReadSeq    int64 // moves forward only
}

// MessageKind tells chat messages from other sequenced events.
type MessageKind string

// Message kinds. Only KindMessage is produced today; the field exists so that
// later sequenced events (edits, membership changes) share the sequence.
const (
	KindMessage MessageKind = "message"
)

// Message is one sequenced entry of a conversation. (ConversationID, Seq) is
// unique and gap-free from 1; (ConversationID, SenderID, ClientMsgID) is unique.
type Message struct {
	ConversationID string
	Seq            int64
	ID             string // server-assigned, globally unique
	Kind           MessageKind
	SenderID       string
	ClientMsgID    string
	Body           string
	CreatedAt      time.Time
}

// MessageQuery selects a page of a conversation's messages. At most one of
// After and Before is non-zero. Results are always in ascending seq order:
//   - After > 0: the first Limit messages with seq > After;
//   - Before > 0: the last Limit messages with seq < Before;
//   - neither: the last Limit messages.
//
// Limit <= 0 means 50; adapters cap it at MaxPageLimit.
type MessageQuery struct {
	After  int64
	Before int64
	Limit  int
}

// MaxPageLimit caps every MessageQuery.
const MaxPageLimit = 1000

// DefaultPageLimit applies when MessageQuery.Limit <= 0.
const DefaultPageLimit = 50

// EffectiveLimit returns the limit an adapter must apply for q.
func (q MessageQuery) EffectiveLimit() int {
	switch {
	case q.Limit <= 0:
		return DefaultPageLimit
	case q.Limit > MaxPageLimit:
		return MaxPageLimit
	default:
		return q.Limit
	}
}
