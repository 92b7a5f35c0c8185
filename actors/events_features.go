package actors

import "time"

// Outbound events and client requests of the features beyond plain
// messaging (read receipts, …). See events.go for the core ones.

// ReadMarked answers a read request with the read marker as stored now.
type ReadMarked struct {
	RequestID      string
	ConversationID string
	LastReadSeq    int64
}

// ReceiptEvent tells a session that a member of one of its conversations
// (possibly its own user, on another device) has read up to Seq. The hub
// shares one value among all its receivers; treat it as read-only.
type ReceiptEvent struct {
	ConversationID string
	UserID         string
	Seq            int64
}

// TypingEvent tells a session that another member of one of its
// conversations is typing. Clients show it for about 5 seconds.
type TypingEvent struct {
	ConversationID string
	UserID         string
}

// PresenceEvent tells a session that a user it shares a conversation with
// came online or went offline. LastSeen is zero when never seen (or unknown).
type PresenceEvent struct {
	UserID   string
	Online   bool
	LastSeen time.Time
}

func (*PresenceEvent) outbound() {}

// ProfileEvent tells a session that a user it shares a conversation with
// (or its own user) set a new avatar, identified by AvatarVersion. The hub
// shares one value among its receivers; treat it as read-only.
type ProfileEvent struct {
	UserID        string
	AvatarVersion string
}

func (*ProfileEvent) outbound() {}

// NotificationEvent is one entry of the user's notification stream, live
// or replayed. The hub shares one value among the user's sessions.
type NotificationEvent struct{ N *Notification }

// NotificationsSynced ends the replay that answers a notifications request:
// every notification after its afterSeq up to LastSeq was sent, except, when
// HasMore, those after LastSeq (ask again from LastSeq).
type NotificationsSynced struct {
	RequestID string
	LastSeq   int64
	HasMore   bool
}

// ClientNotifications asks to replay the user's notifications after AfterSeq.
type ClientNotifications struct {
	RequestID string
	AfterSeq  int64
}

func (*NotificationEvent) outbound()   {}
func (*NotificationsSynced) outbound() {}

func (*ReadMarked) outbound()   {}
func (*ReceiptEvent) outbound() {}
func (*TypingEvent) outbound()  {}

// ClientTyping tells that the user is typing in a conversation. RequestID
// may be empty: only a refusal is answered.
type ClientTyping struct {
	RequestID      string
	ConversationID string
}

// ClientEvent asks to edit, delete, react to or unreact to the message at
// TargetSeq (Kind: "edit", "delete", "react", "unreact"). Body is the new
// text of an edit, or the emoji of a reaction. Answered like a send (Ack).
type ClientEvent struct {
	RequestID      string
	ConversationID string
	ClientMsgID    string
	Kind           string
	TargetSeq      int64
	Body           string
}

// ClientRead asks to move the user's read marker of a conversation forward to Seq.
type ClientRead struct {
	RequestID      string
	ConversationID string
	Seq            int64
}
