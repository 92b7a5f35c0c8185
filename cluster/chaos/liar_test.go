package chaos

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// liar is a WebSocket middlebox on loopback in front of one node. It
// forwards frames both ways, except that while lying it answers every
// every-th send itself with an ack (the seq the message would plausibly
// get: one above the highest it has seen) and never forwards it: an
// ack-before-persist bug, from the client's point of view.
type liar struct {
	upstream string
	every    int
	lying    atomic.Bool

	mu    sync.Mutex
	sends int
	lies  []string         // clientMsgIds acknowledged but never forwarded
	top   map[string]int64 // highest seq seen per conversation
	srv   *httptest.Server
}

func newLiar(upstream string, every int) *liar {
	l := &liar{upstream: upstream, every: every, top: map[string]int64{}}
	l.lying.Store(true)
	l.srv = httptest.NewServer(http.HandlerFunc(l.serve))
	return l
}

// URL is the proxy's WebSocket URL.
func (l *liar) URL() string { return "ws" + strings.TrimPrefix(l.srv.URL, "http") + "/ws" }

func (l *liar) Lies() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lies...)
}

func (l *liar) serve(w http.ResponseWriter, r *http.Request) {
	up, _, err := websocket.DefaultDialer.Dial(l.upstream, nil)
	if err != nil {
		http.Error(w, "upstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer up.Close()
	down, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer down.Close()
	var wmu sync.Mutex // down has two writers: the upstream pump and the liar
	toClient := func(data []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		return down.WriteMessage(websocket.TextMessage, data)
	}
	done := make(chan struct{})
	go func() { // server -> client
		defer close(done)
		defer down.Close()
		for {
			_, data, err := up.ReadMessage()
			if err != nil {
				return
			}
			l.observe(data)
			if toClient(data) != nil {
				return
			}
		}
	}()
	for { // client -> server
		_, data, err := down.ReadMessage()
		if err != nil {
			break
		}
		if ack := l.lie(data); ack != nil {
			if toClient(ack) != nil {
				break
			}
			continue
		}
		if up.WriteMessage(websocket.TextMessage, data) != nil {
			break
		}
	}
	up.Close()
	<-done
}

// observe tracks the highest seq per conversation in messages and acks.
func (l *liar) observe(data []byte) {
	var f inFrame
	if json.Unmarshal(data, &f) != nil || (f.Type != "message" && f.Type != "ack") {
		return
	}
	l.mu.Lock()
	l.top[f.ConversationID] = max(l.top[f.ConversationID], f.Seq)
	l.mu.Unlock()
}

// lie returns a fake ack for a send it swallows, or nil to forward.
func (l *liar) lie(data []byte) []byte {
	var f outFrame
	if !l.lying.Load() || json.Unmarshal(data, &f) != nil || f.Type != "send" {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sends++
	if l.sends%l.every != 0 {
		return nil
	}
	l.top[f.ConversationID]++
	l.lies = append(l.lies, f.ClientMsgID)
	ack, _ := json.Marshal(map[string]any{"type": "ack", "id": f.ID, "conversationId": f.ConversationID,
		"seq": l.top[f.ConversationID], "messageId": fmt.Sprintf("liar-%d", len(l.lies)), "clientMsgId": f.ClientMsgID,
		"createdAt": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "duplicate": false})
	return ack
}

// TestLiarProxyIsCaught is the negative control: clients talk to a node
// through a proxy that acknowledges some sends without forwarding them.
// The checker must report an I1 violation for exactly those sends, and for
// nothing else.
func TestLiarProxyIsCaught(t *testing.T) {
	var proxy *liar
	res := runChaos(t, Config{
		Duration: 10 * time.Second, Seed: 7, Nodes: 1, Clients: 6, Conversations: 3, Faults: []FaultKind{},
		Endpoints: func(ws []string) []string {
			proxy = newLiar(ws[0], 5)
			return []string{proxy.URL()}
		},
		BeforeHeal: func() { proxy.lying.Store(false) },
	})
	defer proxy.srv.Close()
	lies := proxy.Lies()
	if len(lies) == 0 {
		t.Fatal("the proxy told no lie: the control tests nothing")
	}
	by := ByInvariant(res.Violations)
	var caught []string
	for _, v := range by[I1] {
		caught = append(caught, v.ClientMsgID)
	}
	slices.Sort(lies)
	slices.Sort(caught)
	if !slices.Equal(caught, lies) {
		t.Fatalf("I1 flagged %v, the proxy lied about %v", caught, lies)
	}
	for name, vs := range by {
		if name != I1 {
			t.Errorf("unexpected %s violations: %v", name, vs)
		}
	}
	t.Logf("the proxy acknowledged %d sends it never forwarded; I1 caught all of them, e.g. %s", len(lies), by[I1][0])
}
