package gateway

import (
	"encoding/json"

	"github.com/actorchat/engine/actors"
)

// Frames of the features beyond plain messaging (docs/protocol.md).

// validateFeatureFrame validates the frame types wire.go does not know.
func validateFeatureFrame(f *inFrame, maxBody int) *frameError {
	bad := func(msg string) *frameError { return &frameError{code: CodeInvalid, msg: msg} }
	switch f.Type {
	case "read", "typing", "edit", "delete", "react", "unreact":
	case "notifications":
		if f.ID == "" || f.AfterSeq < 0 || f.ConversationID != "" {
			return bad("notifications needs an id and afterSeq >= 0, and no conversationId")
		}
		return nil
	default:
		return bad("unknown frame type")
	}
	if f.ID == "" && f.Type != "typing" {
		return bad("id is required")
	}
	if f.ConversationID == "" || len(f.ConversationID) > maxIDLen {
		return bad("conversationId is required (at most 64 bytes)")
	}
	switch f.Type {
	case "read":
		if f.Seq < 0 {
			return bad("seq must be >= 0")
		}
	case "edit", "delete":
		if f.ClientMsgID == "" || len(f.ClientMsgID) > maxIDLen {
			return bad("clientMsgId is required (at most 64 bytes)")
		}
		if f.TargetSeq <= 0 {
			return bad("targetSeq must be > 0")
		}
		if f.Type == "delete" && f.Body != "" {
			return bad("a delete carries no body")
		}
		if f.Type == "edit" && f.Body == "" {
			return bad("body is empty")
		}
		if len(f.Body) > maxBody {
			return &frameError{code: CodeTooLarge, msg: "body too large"}
		}
	case "react", "unreact":
		if f.ClientMsgID == "" || len(f.ClientMsgID) > maxIDLen {
			return bad("clientMsgId is required (at most 64 bytes)")
		}
		if f.TargetSeq <= 0 {
			return bad("targetSeq must be > 0")
		}
		if !actors.ValidEmoji(f.Emoji) || f.Body != "" {
			return bad("emoji must be 1 to 16 bytes without control characters or spaces")
		}
	}
	return nil
}

// featureToActor turns a validated feature frame into the session's request.
func (f *inFrame) featureToActor() any {
	switch f.Type {
	case "read":
		return &actors.ClientRead{RequestID: f.ID, ConversationID: f.ConversationID, Seq: f.Seq}
	case "typing":
		return &actors.ClientTyping{RequestID: f.ID, ConversationID: f.ConversationID}
	case "edit", "delete":
		return &actors.ClientEvent{RequestID: f.ID, ConversationID: f.ConversationID, ClientMsgID: f.ClientMsgID,
			Kind: f.Type, TargetSeq: f.TargetSeq, Body: f.Body}
	case "notifications":
		return &actors.ClientNotifications{RequestID: f.ID, AfterSeq: f.AfterSeq}
	case "react", "unreact":
		return &actors.ClientEvent{RequestID: f.ID, ConversationID: f.ConversationID, ClientMsgID: f.ClientMsgID,
			Kind: f.Type, TargetSeq: f.TargetSeq, Body: f.Emoji}
	}
	return nil
}

type outMarked struct {
	Type           string `json:"type"`
	ID             string `json:"id"`
	ConversationID string `json:"conversationId"`
	LastReadSeq    int64  `json:"lastReadSeq"`
}

type outReceipt struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversationId"`
	UserID         string `json:"userId"`
	Seq            int64  `json:"seq"`
}

type outTyping struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversationId"`
	UserID         string `json:"userId"`
}

type outPresence struct {
	Type     string `json:"type"`
	UserID   string `json:"userId"`
	Status   string `json:"status"`
	LastSeen string `json:"lastSeen,omitempty"`
}

type outProfile struct {
	Type          string `json:"type"`
	UserID        string `json:"userId"`
	AvatarVersion string `json:"avatarVersion"`
}

type outNotification struct {
	Type           string `json:"type"`
	Seq            int64  `json:"seq"`
	Kind           string `json:"kind"`
	ConversationID string `json:"conversationId"`
	ActorID        string `json:"actorId"`
	MessageSeq     int64  `json:"messageSeq,omitempty"`
	Title          string `json:"title,omitempty"`
	CreatedAt      string `json:"createdAt"`
}

type outNotificationsSynced struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	LastSeq int64  `json:"lastSeq"`
	HasMore bool   `json:"hasMore"`
}

// encodeFeature encodes the outbound events encodeOutbound does not know.
func encodeFeature(ev any) ([]byte, error) {
	switch e := ev.(type) {
	case *actors.ReadMarked:
		return json.Marshal(outMarked{Type: "marked", ID: e.RequestID, ConversationID: e.ConversationID, LastReadSeq: e.LastReadSeq})
	case *actors.ReceiptEvent:
		return json.Marshal(outReceipt{Type: "receipt", ConversationID: e.ConversationID, UserID: e.UserID, Seq: e.Seq})
	case *actors.PresenceEvent:
		status := "offline"
		if e.Online {
			status = "online"
		}
		return json.Marshal(outPresence{Type: "presence", UserID: e.UserID, Status: status, LastSeen: presenceLastSeen(e.LastSeen)})
	case *actors.ProfileEvent:
		return json.Marshal(outProfile{Type: "profile", UserID: e.UserID, AvatarVersion: e.AvatarVersion})
	case *actors.NotificationEvent:
		n := e.N
		return json.Marshal(outNotification{Type: "notification", Seq: n.Seq, Kind: n.Kind, ConversationID: n.ConversationId,
			ActorID: n.ActorId, MessageSeq: n.MessageSeq, Title: n.Title, CreatedAt: formatMillis(n.CreatedAtMs)})
	case *actors.NotificationsSynced:
		return json.Marshal(outNotificationsSynced{Type: "notificationsSynced", ID: e.RequestID, LastSeq: e.LastSeq, HasMore: e.HasMore})
	case *actors.TypingEvent:
		return json.Marshal(outTyping{Type: "typing", ConversationID: e.ConversationID, UserID: e.UserID})
	}
	return nil, errUnknownOutbound
}

// validateAttachments checks the attachment ids of a send.
func validateAttachments(ids []string) *frameError {
	if len(ids) > actors.MaxAttachments {
		return &frameError{code: CodeInvalid, msg: "at most 10 attachments"}
	}
	for _, id := range ids {
		if id == "" || len(id) > maxIDLen {
			return &frameError{code: CodeInvalid, msg: "attachment ids are 1 to 64 bytes"}
		}
	}
	return nil
}
