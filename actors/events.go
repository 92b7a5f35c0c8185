package actors

import "sync"

// Conn is a session's connection, implemented by the gateway. Send must not
// block: it queues ev for the connection's writer and returns false when the
// queue is full or closed, and the session then closes the connection as a
// slow consumer.
type Conn interface {
	Send(ev Outbound) bool
	Close(code CloseReason)
}

// CloseReason tells the gateway why a session ends its connection.
type CloseReason int

// Close reasons.
const (
	CloseSlowConsumer CloseReason = iota + 1 // outbound queue full
	CloseInternal                            // the session cannot go on (its store is down)
	CloseResync                              // a gap could not be repaired: reconnect and sync
	CloseUnavailable                         // the store did not answer in time: try again later
)

// Outbound is an event a session hands to its connection.
type Outbound interface{ outbound() }

// Ready tells the client that live delivery for all its conversations is set up.
type Ready struct{ UserID string }

// Delivery is a live or replayed message. Frame, when set, is its wire
// encoding, shared by every receiver on the node; treat it as read-only.
type Delivery struct {
	Msg   *ChatMessage
	Frame []byte

	binOnce sync.Once
	bin     []byte
}

// Binary returns the message's binary frame, encoded by encode on first
// use: a Delivery is shared by every receiver on the node, so the binary
// form is built once, and only if a connection asked for it.
func (d *Delivery) Binary(encode func(*ChatMessage) []byte) []byte {
	d.binOnce.Do(func() { d.bin = encode(d.Msg) })
	return d.bin
}

// Ack answers a send with the stored message.
type Ack struct {
	RequestID string
	Msg       *ChatMessage
	Duplicate bool
}

// Failure answers a request with an error code from the closed set.
type Failure struct {
	RequestID string
	Code      string
	Message   string
}

// Synced ends the replay that answers a sync: every message after the
// request's afterSeq up to LastSeq was sent, except, when HasMore, those at or
// below FromSeq (replay them with history or another sync).
type Synced struct {
	RequestID      string
	ConversationID string
	AfterSeq       int64 // the request's afterSeq, echoed
	FromSeq        int64
	LastSeq        int64
	HasMore        bool
}

// HistoryPage answers a history request.
type HistoryPage struct {
	RequestID      string
	ConversationID string
	Messages       []*ChatMessage
	HasMore        bool
}

// MembershipEvent tells the client it joined or left a conversation.
type MembershipEvent struct {
	ConversationID string
	Joined         bool
	LastSeq        int64
}

func (*Ready) outbound()           {}
func (*Delivery) outbound()        {}
func (*Ack) outbound()             {}
func (*Failure) outbound()         {}
func (*Synced) outbound()          {}
func (*HistoryPage) outbound()     {}
func (*MembershipEvent) outbound() {}

// ClientSend asks to post a message (from the gateway's reader).
type ClientSend struct {
	RequestID      string
	ConversationID string
	ClientMsgID    string
	Body           string
	Attachments    []string // ids of files the user uploaded
}

// ClientSync asks to replay what the client missed after AfterSeq, then live.
type ClientSync struct {
	RequestID      string
	ConversationID string
	AfterSeq       int64
}

// ClientHistory asks for a page of messages before BeforeSeq (0: the latest).
type ClientHistory struct {
	RequestID      string
	ConversationID string
	BeforeSeq      int64
	Limit          int
}

// ConnClosed tells a session its connection is gone; the session stops.
type ConnClosed struct{}
