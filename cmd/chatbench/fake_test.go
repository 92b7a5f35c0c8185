package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"
)

// fakeChat is a minimal in-memory server of the documented protocol, with
// an injectable delivery fault, so the tests can check that chatbench
// reports a healthy server as passing and a faulty one as failing.
type fakeChat struct {
	fault string // "", "drop" (member 1 of each room never gets seq 3), "dup" (seq 2 twice)

	mu      sync.Mutex
	members map[string][]string // conversation -> usernames
	lastSeq map[string]int64
	conns   map[string][]*fakeConn // username -> connections
}

type fakeConn struct {
	mu sync.Mutex
	ws *websocket.Conn
}

func (c *fakeConn) send(v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.ws.WriteJSON(v)
}

func newFakeChat(fault string) *httptest.Server {
	f := &fakeChat{fault: fault, members: map[string][]string{}, lastSeq: map[string]int64{}, conns: map[string][]*fakeConn{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/register", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Username, Password string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"user": map[string]string{"id": in.Username, "username": in.Username},
			"accessToken": in.Username, "refreshToken": "r"})
	})
	mux.HandleFunc("POST /api/conversations", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Members []string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		f.mu.Lock()
		id := "c" + strconv.Itoa(len(f.members))
		f.members[id] = append([]string{strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")}, in.Members...)
		f.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"id": id})
	})
	mux.HandleFunc("GET /ws", f.serveWS)
	return httptest.NewServer(mux)
}

func (f *fakeChat) serveWS(w http.ResponseWriter, r *http.Request) {
	ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer ws.Close()
	var auth request
	if ws.ReadJSON(&auth) != nil {
		return
	}
	c := &fakeConn{ws: ws}
	f.mu.Lock()
	f.conns[auth.Token] = append(f.conns[auth.Token], c)
	f.mu.Unlock()
	c.send(map[string]any{"type": "ready", "userId": auth.Token, "protocol": 1})
	for {
		var req request
		if ws.ReadJSON(&req) != nil {
			return
		}
		if req.Type == "send" {
			f.post(c, &req)
		}
	}
}

// post stores a message and fans it out, holding the lock so every member
// sees seqs in order (as the real server promises).
func (f *fakeChat) post(from *fakeConn, req *request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastSeq[req.ConversationID]++
	seq := f.lastSeq[req.ConversationID]
	from.send(map[string]any{"type": "ack", "id": req.ID, "conversationId": req.ConversationID, "seq": seq,
		"clientMsgId": req.ClientMsgID, "duplicate": false})
	msg := map[string]any{"type": "message", "conversationId": req.ConversationID, "seq": seq,
		"clientMsgId": req.ClientMsgID, "body": req.Body}
	for i, name := range f.members[req.ConversationID] {
		for _, c := range f.conns[name] {
			if f.fault == "drop" && i == 1 && seq == 3 {
				continue
			}
			c.send(msg)
			if f.fault == "dup" && seq == 2 {
				c.send(msg)
			}
		}
	}
}

func TestFanoutExitStatusFollowsInvariants(t *testing.T) {
	for _, tc := range []struct {
		fault string
		want  int
		in    string // expected in the JSON line
	}{
		{"", 0, `"lost":0,"duplicates":0,"out_of_order":0`},
		{"drop", 1, `"lost":1,`},
		{"dup", 1, `"duplicates":3,`},
	} {
		t.Run("fault="+tc.fault, func(t *testing.T) {
			srv := newFakeChat(tc.fault)
			defer srv.Close()
			var out, errOut strings.Builder
			code := run([]string{"fanout", "--url", srv.URL, "--rooms", "1", "--members", "3", "--messages", "30",
				"--duration", "5s", "--drain", "2s", "--json", "--quiet"}, &out, &errOut)
			if code != tc.want {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.want, out.String(), errOut.String())
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tc.in) || !strings.Contains(lines[0], `"sends":30,`) {
				t.Errorf("want one JSON line with %s and 30 sends, got:\n%s", tc.in, out.String())
			}
		})
	}
}
