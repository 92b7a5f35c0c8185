package main

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestDecodeHotJSON: message and ack frames decode as encoding/json decodes
// them, whatever their bodies hold and whatever other fields come along;
// other frames and anything doubtful are left to encoding/json.
func TestDecodeHotJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "é", "😀", `"`, `\`, "/", "\n", "\t", "\x01", "<b>", "&", "\u2028", " ", "t=123 k=x", "\xff"}
	body := func() string {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	fast := 0
	for i := range 3000 {
		var frame map[string]any
		if i%3 == 0 {
			frame = map[string]any{"type": "ack", "id": body(), "conversationId": "c_1", "seq": rng.Int64N(1 << 50), "clientMsgId": body(),
				"messageId": "m", "createdAt": "2026-11-23T00:00:00.000Z", "duplicate": rng.IntN(2) == 0}
		} else {
			frame = map[string]any{"type": "message", "conversationId": "c_" + body(), "seq": rng.Int64N(1 << 50), "messageId": "m_1",
				"senderId": "u_1", "clientMsgId": body(), "body": body(), "createdAt": "2026-11-23T00:00:00.000Z", "kind": "message",
				"attachments": []map[string]any{{"id": "b1", "name": body(), "size": 12, "image": true}},
				"reactions":   []map[string]any{{"emoji": "👍", "count": 2, "userIds": []string{"u1", "u2"}}}, "editedAt": nil, "deleted": false}
		}
		data, err := json.Marshal(frame)
		if err != nil {
			t.Fatal(err)
		}
		var want event
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		got, ok := decodeHotJSON(data)
		if !ok {
			continue
		}
		fast++
		if got.Type != want.Type || got.ID != want.ID || got.ConversationID != want.ConversationID || got.Seq != want.Seq ||
			got.ClientMsgID != want.ClientMsgID || got.Body != want.Body || got.Duplicate != want.Duplicate {
			t.Fatalf("frame %s\nfast %+v\njson %+v", data, *got, want)
		}
	}
	if fast < 1000 {
		t.Fatalf("only %d of 3000 frames took the fast path", fast)
	}
	// A plain frame as chatd sends it takes the fast path.
	plain := `{"type":"message","conversationId":"c1","seq":7,"messageId":"m","senderId":"u","clientMsgId":"k","body":"t=1 k=x","createdAt":"2026-11-23T00:00:00Z","kind":"message"}`
	if ev, ok := decodeHotJSON([]byte(plain)); !ok || ev.Seq != 7 || ev.Body != "t=1 k=x" || ev.ConversationID != "c1" {
		t.Fatalf("plain message: %+v %v", ev, ok)
	}
	// Other frames, malformed or cut frames: left to encoding/json.
	for _, s := range []string{
		`{"type":"ready","userId":"u"}`, `{"type":"error","code":"forbidden"}`, `{}`, `[]`, `{"type":"message"`, `{"type":"message",}`,
		`{"type":"message","seq":1.5}`, `{"type":"ack","duplicate":1}`, `{"type":"message"} x`, `{"type":"message","body":"a\/b"}`,
		plain[:len(plain)-1], plain[:len(plain)/2],
	} {
		if ev, ok := decodeHotJSON([]byte(s)); ok {
			t.Errorf("%s decoded on the fast path: %+v", s, *ev)
		}
	}
}
