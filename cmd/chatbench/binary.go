package main

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/actorchat/engine/gateway/wirepb"
)

// subprotocolProto asks the server for binary `message` and `ack` frames
// (docs/protocol.md, "Binary frames"; schema gateway/wirepb/wire.proto, the
// only thing this tool takes from the server's code base).
const subprotocolProto = "chat.proto"

// decodeBinary turns a binary frame into the event its JSON twin decodes to.
func decodeBinary(data []byte) (*event, error) {
	var f wirepb.ServerFrame
	if err := proto.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("decode binary frame: %w", err)
	}
	switch {
	case f.GetMessage() != nil:
		m := f.GetMessage()
		return &event{Type: "message", ConversationID: m.ConversationId, Seq: m.Seq, ClientMsgID: m.ClientMsgId, Body: m.Body}, nil
	case f.GetAck() != nil:
		a := f.GetAck()
		return &event{Type: "ack", ID: a.Id, ConversationID: a.ConversationId, Seq: a.Seq, ClientMsgID: a.ClientMsgId, Duplicate: a.Duplicate}, nil
	}
	return nil, fmt.Errorf("binary frame with no known content")
}
