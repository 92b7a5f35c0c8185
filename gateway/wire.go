package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/actorchat/engine/actors"
)

// ProtocolVersion is the WebSocket protocol version (docs/protocol.md).
const ProtocolVersion = 1

// inFrame is every field a client frame may carry; which ones apply depends
// on Type. Unknown fields are rejected.
type inFrame struct {
	Type           string   `json:"type"`
	ID             string   `json:"id"`
	Token          string   `json:"token"`
	ConversationID string   `json:"conversationId"`
	ClientMsgID    string   `json:"clientMsgId"`
	Body           string   `json:"body"`
	AfterSeq       int64    `json:"afterSeq"`
	BeforeSeq      int64    `json:"beforeSeq"`
	Limit          int      `json:"limit"`
	Seq            int64    `json:"seq"`
	TargetSeq      int64    `json:"targetSeq"`
	Emoji          string   `json:"emoji"`
	Attachments    []string `json:"attachments"`
}

// frameError is a decoding or validation failure reported to the client.
type frameError struct {
	id   string
	code Code
	msg  string
}

func (e *frameError) Error() string { return e.msg }

// Limits on client-supplied identifiers.
const (
	maxIDLen      = 64
	maxHistoryLim = 100
)

// decodeFrame parses and validates one client text frame into an inFrame.
func decodeFrame(data []byte, maxBody int) (*inFrame, *frameError) {
	if !utf8.Valid(data) {
		return nil, &frameError{code: CodeInvalid, msg: "frame is not valid UTF-8"}
	}
	var f inFrame
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, &frameError{code: CodeInvalid, msg: "malformed frame: expected one JSON object with known fields"}
	}
	if dec.More() {
		return nil, &frameError{code: CodeInvalid, msg: "malformed frame: trailing data"}
	}
	if len(f.ID) > maxIDLen {
		return nil, &frameError{code: CodeInvalid, msg: "id too long"}
	}
	if fe := validateFrame(&f, maxBody); fe != nil {
		fe.id = f.ID
		return nil, fe
	}
	return &f, nil
}

func validateFrame(f *inFrame, maxBody int) *frameError {
	bad := func(msg string) *frameError { return &frameError{code: CodeInvalid, msg: msg} }
	switch f.Type {
	case "auth", "ping":
		return nil
	case "send", "sync", "history":
	default:
		return validateFeatureFrame(f, maxBody)
	}
	if f.ID == "" {
		return bad("id is required")
	}
	if f.ConversationID == "" || len(f.ConversationID) > maxIDLen {
		return bad("conversationId is required (at most 64 bytes)")
	}
	switch f.Type {
	case "send":
		if f.ClientMsgID == "" || len(f.ClientMsgID) > maxIDLen {
			return bad("clientMsgId is required (at most 64 bytes)")
		}
		if f.Body == "" && len(f.Attachments) == 0 {
			return bad("body is empty")
		}
		if len(f.Body) > maxBody {
			return &frameError{code: CodeTooLarge, msg: "body too large"}
		}
		if fe := validateAttachments(f.Attachments); fe != nil {
			return fe
		}
	case "sync":
		if f.AfterSeq < 0 {
			return bad("afterSeq must be >= 0")
		}
	case "history":
		if f.BeforeSeq < 0 || f.Limit < 0 || f.Limit > maxHistoryLim {
			return bad("beforeSeq must be >= 0 and limit 0..100")
		}
		if f.Limit == 0 {
			f.Limit = 50
		}
	}
	return nil
}

// toActor turns a validated frame into the session's request.
func (f *inFrame) toActor() any {
	switch f.Type {
	case "send":
		return &actors.ClientSend{RequestID: f.ID, ConversationID: f.ConversationID, ClientMsgID: f.ClientMsgID, Body: f.Body, Attachments: f.Attachments}
	case "sync":
		return &actors.ClientSync{RequestID: f.ID, ConversationID: f.ConversationID, AfterSeq: f.AfterSeq}
	case "history":
		return &actors.ClientHistory{RequestID: f.ID, ConversationID: f.ConversationID, BeforeSeq: f.BeforeSeq, Limit: f.Limit}
	}
	return f.featureToActor()
}

// wireMessage is a message as clients see it.
type wireMessage struct {
	Type           string `json:"type,omitempty"`
	ConversationID string `json:"conversationId"`
	Seq            int64  `json:"seq"`
	MessageID      string `json:"messageId"`
	SenderID       string `json:"senderId"`
	ClientMsgID    string `json:"clientMsgId"`
	Body           string `json:"body"`
	CreatedAt      string `json:"createdAt"`
	Kind           string `json:"kind"`
	// Events and the current state of chat messages; absent when empty.
	TargetSeq  int64  `json:"targetSeq,omitempty"`
	SubjectID  string `json:"subjectId,omitempty"`
	EditedAt   string `json:"editedAt,omitempty"`
	Deleted    bool   `json:"deleted,omitempty"`
	UpdatedSeq int64  `json:"updatedSeq,omitempty"`
	// Reactions of a chat message read from the store: emoji -> user ids.
	Reactions map[string][]string `json:"reactions,omitempty"`
	// Attachments: ids of uploaded files (GET /api/uploads/{id}).
	Attachments []string `json:"attachments,omitempty"`
}

func toWireMessage(m *actors.ChatMessage, typ string) wireMessage {
	w := wireMessage{
		Type: typ, ConversationID: m.ConversationId, Seq: m.Seq, MessageID: m.MessageId,
		SenderID: m.SenderId, ClientMsgID: m.ClientMsgId, Body: m.Body, CreatedAt: formatMillis(m.CreatedAtMs),
		Kind: m.Kind, TargetSeq: m.TargetSeq, SubjectID: m.SubjectId, Deleted: m.Deleted, UpdatedSeq: m.UpdatedSeq,
		Attachments: m.Attachments,
	}
	if w.Kind == "" {
		w.Kind = "message"
	}
	if m.EditedAtMs > 0 {
		w.EditedAt = formatMillis(m.EditedAtMs)
	}
	if len(m.Reactions) > 0 {
		w.Reactions = make(map[string][]string, len(m.Reactions))
		for _, r := range m.Reactions {
			w.Reactions[r.Emoji] = r.UserIds
		}
	}
	return w
}

// timeLayout is every time on the wire: RFC 3339, UTC, milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

func formatMillis(ms int64) string {
	return time.UnixMilli(ms).UTC().Format(timeLayout)
}

// wireTime is a time.Time that encodes in timeLayout.
type wireTime time.Time

// MarshalJSON encodes t as an RFC 3339 UTC string with milliseconds.
func (t wireTime) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Time(t).UTC().Format(timeLayout))
}

// UnmarshalJSON decodes any RFC 3339 time.
func (t *wireTime) UnmarshalJSON(b []byte) error {
	var v time.Time
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*t = wireTime(v)
	return nil
}

// EncodeMessage is the wire frame of a live message. The hub calls it once per
// message per node; every receiver on the node gets the same bytes.
func EncodeMessage(m *actors.ChatMessage) []byte {
	b, _ := json.Marshal(toWireMessage(m, "message")) // plain strings and ints: cannot fail
	return b
}

type outAck struct {
	Type           string `json:"type"`
	ID             string `json:"id"`
	ConversationID string `json:"conversationId"`
	Seq            int64  `json:"seq"`
	MessageID      string `json:"messageId"`
	ClientMsgID    string `json:"clientMsgId"`
	CreatedAt      string `json:"createdAt"`
	Duplicate      bool   `json:"duplicate"`
}

type outError struct {
	Type    string `json:"type"`
	ID      string `json:"id,omitempty"`
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

type outSynced struct {
	Type           string `json:"type"`
	ID             string `json:"id"`
	ConversationID string `json:"conversationId"`
	AfterSeq       int64  `json:"afterSeq"`
	FromSeq        int64  `json:"fromSeq"`
	LastSeq        int64  `json:"lastSeq"`
	HasMore        bool   `json:"hasMore"`
}

type outHistory struct {
	Type           string        `json:"type"`
	ID             string        `json:"id"`
	ConversationID string        `json:"conversationId"`
	Messages       []wireMessage `json:"messages"`
	HasMore        bool          `json:"hasMore"`
}

type outReady struct {
	Type     string `json:"type"`
	UserID   string `json:"userId"`
	Protocol int    `json:"protocol"`
}

type outMembership struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversationId"`
	Joined         bool   `json:"joined"`
	LastSeq        int64  `json:"lastSeq"`
}

type outPong struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
}

// errUnknownOutbound means the writer got an event it cannot encode.
var errUnknownOutbound = errors.New("gateway: unknown outbound event")

// encodeOutbound returns the wire frame of one outbound event: an
// actors.Outbound from the session, or a *pong / *frameError from the reader.
func encodeOutbound(ev any) ([]byte, error) {
	switch e := ev.(type) {
	case *actors.Delivery:
		if e.Frame != nil {
			return e.Frame, nil
		}
		return EncodeMessage(e.Msg), nil
	case *actors.Ack:
		m := e.Msg
		return json.Marshal(outAck{Type: "ack", ID: e.RequestID, ConversationID: m.ConversationId, Seq: m.Seq,
			MessageID: m.MessageId, ClientMsgID: m.ClientMsgId, CreatedAt: formatMillis(m.CreatedAtMs), Duplicate: e.Duplicate})
	case *actors.Failure:
		return json.Marshal(outError{Type: "error", ID: e.RequestID, Code: Code(e.Code), Message: e.Message})
	case *actors.Synced:
		return json.Marshal(outSynced{Type: "synced", ID: e.RequestID, ConversationID: e.ConversationID, AfterSeq: e.AfterSeq,
			FromSeq: e.FromSeq, LastSeq: e.LastSeq, HasMore: e.HasMore})
	case *actors.HistoryPage:
		out := outHistory{Type: "history", ID: e.RequestID, ConversationID: e.ConversationID, HasMore: e.HasMore,
			Messages: make([]wireMessage, 0, len(e.Messages))}
		for _, m := range e.Messages {
			out.Messages = append(out.Messages, toWireMessage(m, ""))
		}
		return json.Marshal(out)
	case *actors.Ready:
		return json.Marshal(outReady{Type: "ready", UserID: e.UserID, Protocol: ProtocolVersion})
	case *actors.MembershipEvent:
		return json.Marshal(outMembership{Type: "membership", ConversationID: e.ConversationID, Joined: e.Joined, LastSeq: e.LastSeq})
	case *pong:
		return json.Marshal(outPong{Type: "pong", ID: e.id})
	case *frameError:
		return json.Marshal(outError{Type: "error", ID: e.id, Code: e.code, Message: e.msg})
	}
	return encodeFeature(ev)
}

// pong answers an application-level ping (queued by the reader).
type pong struct{ id string }
