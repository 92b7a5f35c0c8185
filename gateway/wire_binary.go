package gateway

import (
	"google.golang.org/protobuf/proto"

	"github.com/actorchat/engine/actors"
	"github.com/actorchat/engine/gateway/wirepb"
)

// SubprotocolProto is the WebSocket subprotocol of the binary encoding: a
// connection opened with it gets `message` and `ack` frames as binary
// frames holding a wirepb.ServerFrame (docs/protocol.md, "Binary frames").
const SubprotocolProto = "chat.proto"

// EncodeMessageBinary returns the binary frame of a message.
func EncodeMessageBinary(m *actors.ChatMessage) []byte {
	w := &wirepb.Message{
		ConversationId: m.ConversationId, Seq: m.Seq, MessageId: m.MessageId, SenderId: m.SenderId,
		ClientMsgId: m.ClientMsgId, Body: m.Body, CreatedAtMs: m.CreatedAtMs, Kind: m.Kind,
		TargetSeq: m.TargetSeq, SubjectId: m.SubjectId, Deleted: m.Deleted, EditedAtMs: m.EditedAtMs,
		UpdatedSeq: m.UpdatedSeq, Attachments: m.Attachments,
	}
	if w.Kind == "" {
		w.Kind = "message"
	}
	for _, r := range m.Reactions {
		w.Reactions = append(w.Reactions, &wirepb.Reaction{Emoji: r.Emoji, UserIds: r.UserIds})
	}
	return marshalFrame(&wirepb.ServerFrame{Frame: &wirepb.ServerFrame_Message{Message: w}})
}

// encodeAckBinary returns the binary frame of an ack.
func encodeAckBinary(a *actors.Ack) []byte {
	m := a.Msg
	return marshalFrame(&wirepb.ServerFrame{Frame: &wirepb.ServerFrame_Ack{Ack: &wirepb.Ack{
		Id: a.RequestID, ConversationId: m.ConversationId, Seq: m.Seq, MessageId: m.MessageId,
		ClientMsgId: m.ClientMsgId, CreatedAtMs: m.CreatedAtMs, Duplicate: a.Duplicate,
	}}})
}

func marshalFrame(f *wirepb.ServerFrame) []byte {
	b, _ := proto.Marshal(f) // strings, ints and bools: cannot fail
	return b
}

// appendFrame appends ev's frame to buf: binary for messages and acks on a
// binary connection, JSON text otherwise. ok is false when ev has no frame.
func appendFrame(buf []byte, ev any, binary bool) (out []byte, ok bool) {
	if d, isDelivery := ev.(*actors.Delivery); isDelivery && !binary && d.Frame != nil {
		// The common case first, before encodeOutbound: its large stack frame
		// grew every fresh writer goroutine's stack (a tenth of the CPU of a
		// 10,000-member delivery went to copying stacks).
		return appendDataFrame(buf, opText, d.Frame), true
	}
	if binary {
		switch e := ev.(type) {
		case *actors.Delivery:
			return appendDataFrame(buf, opBinary, e.Binary(EncodeMessageBinary)), true
		case *actors.Ack:
			return appendDataFrame(buf, opBinary, encodeAckBinary(e)), true
		}
	}
	frame, err := encodeOutbound(ev)
	if err != nil {
		return buf, false
	}
	return appendDataFrame(buf, opText, frame), true
}
