package gateway_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/actorchat/engine/gateway"
	"github.com/actorchat/engine/gateway/wirepb"
)

// TestBinaryFrames: a client that opens the socket with the "chat.proto"
// subprotocol gets its acks and messages as binary protobuf frames with the
// same content a JSON client gets; every other frame stays JSON text, and a
// client without the subprotocol gets JSON only.
func TestBinaryFrames(t *testing.T) {
	s := sqliteStack(t)
	alice, bob := s.register("alice"), s.register("bob")
	conv := s.createGroup(alice, "room", bob)
	cb := s.connect(bob) // JSON

	ws, resp, err := websocket.DefaultDialer.Dial("ws"+s.URL[len("http"):]+"/ws", http.Header{"Sec-WebSocket-Protocol": {gateway.SubprotocolProto}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != gateway.SubprotocolProto {
		t.Fatalf("server chose subprotocol %q, want %q", got, gateway.SubprotocolProto)
	}
	_ = ws.SetReadDeadline(time.Now().Add(15 * time.Second))
	write := func(v any) {
		t.Helper()
		if err := ws.WriteJSON(v); err != nil {
			t.Fatal(err)
		}
	}
	// next returns the next frame: binary ones decoded, text ones as their
	// type. Presence events (text) may come at any point and are skipped.
	next := func() (*wirepb.ServerFrame, string) {
		t.Helper()
		for {
			typ, data, err := ws.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if typ == websocket.BinaryMessage {
				f := &wirepb.ServerFrame{}
				if err := proto.Unmarshal(data, f); err != nil {
					t.Fatalf("binary frame does not decode: %v", err)
				}
				return f, ""
			}
			var f struct{ Type string }
			if err := json.Unmarshal(data, &f); err != nil {
				t.Fatalf("text frame is not JSON: %s", data)
			}
			if f.Type != "presence" {
				return nil, f.Type
			}
		}
	}
	write(map[string]any{"type": "auth", "token": alice.Token})
	if _, typ := next(); typ != "ready" {
		t.Fatalf("first frame %q, want the ready text frame", typ)
	}
	write(map[string]any{"type": "send", "id": "s1", "conversationId": conv, "clientMsgId": "k1", "body": "binary hello"})
	var ack *wirepb.Ack
	var msg *wirepb.Message
	for ack == nil || msg == nil {
		f, typ := next()
		switch {
		case f.GetAck() != nil:
			ack = f.GetAck()
		case f.GetMessage() != nil:
			msg = f.GetMessage()
		default:
			t.Fatalf("unexpected frame %q %v", typ, f)
		}
	}
	if ack.Id != "s1" || ack.Seq != 1 || ack.ClientMsgId != "k1" || ack.ConversationId != conv || ack.CreatedAtMs == 0 {
		t.Fatalf("binary ack %+v", ack)
	}
	want := cb.waitMessages(conv, 1)[0]
	if msg.Seq != want.Seq || msg.Body != "binary hello" || msg.Body != want.Body || msg.MessageId != want.MessageID ||
		msg.SenderId != alice.ID || msg.Kind != "message" || msg.ClientMsgId != "k1" {
		t.Fatalf("binary message %+v, JSON client got %+v", msg, want)
	}
	// Frames other than messages and acks stay text.
	write(map[string]any{"type": "sync", "id": "y1", "conversationId": conv, "afterSeq": 1})
	if f, typ := next(); f != nil || typ != "synced" {
		t.Fatalf("sync answered %v %q, want a synced text frame", f, typ)
	}
}
