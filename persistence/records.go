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
	Successor string    // hash of the token issued when this one was rotated; "" if none
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

// MemberKey is a position in a conversation's member list, ordered by
// (JoinedAt, UserID): MembersPage continues after it. The zero key is
// before the first member.
type MemberKey struct {
	JoinedAt time.Time
	UserID   string
}

// Key returns m's position in its conversation's member list.
func (m Member) Key() MemberKey { return MemberKey{JoinedAt: m.JoinedAt, UserID: m.UserID} }

// MessageKind tells chat messages from other sequenced events.
type MessageKind string

// Message kinds. KindMessage is a chat message; every other kind is a
// sequenced event about the conversation or about one of its messages
// (TargetSeq), sharing the conversation's sequence so that sync replays it.
const (
	KindMessage MessageKind = "message"
	// KindEdit replaces the body of the message at TargetSeq with Body.
	KindEdit MessageKind = "edit"
	// KindDelete deletes the message at TargetSeq (its body is cleared).
	KindDelete MessageKind = "delete"
	// KindReact adds the reaction Body (an emoji) of SenderID to TargetSeq.
	KindReact MessageKind = "react"
	// KindUnreact removes the reaction Body of SenderID from TargetSeq.
	KindUnreact MessageKind = "unreact"
	// KindRename sets the conversation's title to Body.
	KindRename MessageKind = "rename"
	// KindJoin: SenderID added SubjectID with role Body.
	KindJoin MessageKind = "join"
	// KindLeave: SenderID left.
	KindLeave MessageKind = "leave"
	// KindRemove: SenderID removed SubjectID.
	KindRemove MessageKind = "remove"
	// KindRole: SenderID changed SubjectID's role to Body.
	KindRole MessageKind = "role"
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

	// TargetSeq is the message an edit, delete or reaction acts on; 0 otherwise.
	TargetSeq int64
	// SubjectID is the user a membership event acts on; "" otherwise.
	SubjectID string
	// The current state of a chat message, kept by the store as events apply
	// (see persistence.Events): EditedAt is when its body last changed (zero:
	// never), Deleted that it was deleted (Body is then empty), UpdatedSeq
	// the seq of the last event applied to it (0: none).
	EditedAt   time.Time
	Deleted    bool
	UpdatedSeq int64
	// Attachments are the ids of the blobs a chat message carries (see Blobs).
	Attachments []string
}

// MessageQuery selects a page of a conversation's messages. At most one of
// After and Before is non-zero. Results are always in ascending seq order:
//   - After > 0, or FromStart: the first Limit messages with seq > After;
//   - Before > 0: the last Limit messages with seq < Before;
//   - neither: the last Limit messages.
//
// Limit <= 0 means 50; adapters cap it at MaxPageLimit.
type MessageQuery struct {
	After  int64
	Before int64
	Limit  int
	// FromStart reads forward from After even when After is 0 (the
	// beginning of the conversation), instead of returning the last page.
	FromStart bool
}

// Forward reports whether q reads forward from After.
func (q MessageQuery) Forward() bool { return q.After > 0 || q.FromStart }

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
