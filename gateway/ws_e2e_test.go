package gateway_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"github.com/actorchat/engine/gateway"
	"github.com/actorchat/engine/persistence"
)

func sqliteStack(t *testing.T, opts ...stackOption) *stack {
	st, _ := adapters()[0].open(t)
	return startStack(t, st, opts...)
}

func signed(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestWSAuthFailures(t *testing.T) {
	s := sqliteStack(t, func(c *gateway.Config) { c.AuthTimeout = 300 * time.Millisecond })
	alice := s.register("alice")
	now := time.Now()
	claims := func(exp time.Time) jwt.MapClaims {
		return jwt.MapClaims{"sub": alice.ID, "usr": "alice", "iss": "chatd", "aud": "chat", "iat": now.Unix(), "exp": exp.Unix()}
	}
	b64 := base64.RawURLEncoding.EncodeToString
	algNone := b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + b64([]byte(fmt.Sprintf(`{"sub":%q,"iss":"chatd","aud":"chat","exp":%d}`, alice.ID, now.Add(time.Hour).Unix()))) + "."
	cases := []struct {
		name  string
		first any // nil: send nothing
		want  int
	}{
		{"no auth frame", nil, gateway.CloseAuthTimeout},
		{"not an auth frame", map[string]any{"type": "ping"}, gateway.CloseUnauthorized},
		{"empty token", map[string]any{"type": "auth", "token": ""}, gateway.CloseUnauthorized},
		{"garbage token", map[string]any{"type": "auth", "token": "not.a.jwt"}, gateway.CloseUnauthorized},
		{"expired", map[string]any{"type": "auth", "token": signed(t, jwt.SigningMethodHS256, testSecret, claims(now.Add(-time.Minute)))}, gateway.CloseUnauthorized},
		{"wrong signature", map[string]any{"type": "auth", "token": signed(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-xx"), claims(now.Add(time.Hour)))}, gateway.CloseUnauthorized},
		{"alg none", map[string]any{"type": "auth", "token": algNone}, gateway.CloseUnauthorized},
		{"HS384", map[string]any{"type": "auth", "token": signed(t, jwt.SigningMethodHS384, testSecret, claims(now.Add(time.Hour)))}, gateway.CloseUnauthorized},
		{"malformed json", "{not json", gateway.CloseUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws, _, err := dialWS(t, s.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			switch v := tc.first.(type) {
			case nil:
			case string:
				_ = ws.WriteMessage(websocket.TextMessage, []byte(v))
			default:
				_ = ws.WriteJSON(v)
			}
			_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, data, err := ws.ReadMessage()
			ce, ok := err.(*websocket.CloseError)
			if !ok || ce.Code != tc.want {
				t.Fatalf("got frame %q err %v, want close %d", data, err, tc.want)
			}
		})
	}
	// The valid token works, so the refusals above are about the tokens.
	c := s.connect(alice)
	if c == nil {
		t.Fatal("valid token refused")
	}
}

func TestWSOriginChecked(t *testing.T) {
	s := sqliteStack(t, func(c *gateway.Config) { c.AllowedOrigins = []string{"https://app.example.com"} })
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"https://evil.example.com", false},
		{"null", false},
		{"https://app.example.com", true},
		{s.URL, true},
	} {
		h := http.Header{"Origin": {tc.origin}}
		ws, resp, err := dialWS(t, s.URL, h)
		if tc.ok != (err == nil) {
			t.Errorf("origin %s: dial err %v, want ok=%v", tc.origin, err, tc.ok)
		}
		if !tc.ok && resp != nil && resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %s: status %d, want 403", tc.origin, resp.StatusCode)
		}
		if ws != nil {
			ws.Close()
		}
	}
}

// TestMessagesReachEverySessionInOrder: two users, three sessions, both
// users sending at once; every session gets every message once, in the same
// order, ascending, the sender's other tab included.
func TestMessagesReachEverySessionInOrder(t *testing.T) {
	for _, a := range adapters() {
		t.Run(a.name, func(t *testing.T) {
			st, _ := a.open(t)
			s := startStack(t, st)
			alice, bob := s.register("alice"), s.register("bob")
			conv := s.createGroup(alice, "room", bob)
			a1, a2, b1 := s.connect(alice), s.connect(alice), s.connect(bob)
			const perSender = 25
			acks := make(chan frame, 2*perSender)
			var wg sync.WaitGroup
			for _, sender := range []struct {
				c    *client
				name string
			}{{a1, "a"}, {b1, "b"}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < perSender; i++ {
						id := fmt.Sprintf("%s-%d", sender.name, i)
						sender.c.writeJSON(map[string]any{"type": "send", "id": id, "conversationId": conv, "clientMsgId": id, "body": "hello " + id})
					}
				}()
			}
			wg.Wait()
			for _, c := range []*client{a1, a2, b1} {
				msgs := c.waitMessages(conv, 2*perSender)
				if len(msgs) != 2*perSender {
					t.Fatalf("got %d messages, want %d", len(msgs), 2*perSender)
				}
				for i, m := range msgs {
					if m.Seq != int64(i+1) {
						t.Fatalf("message %d has seq %d: out of order, gap or duplicate", i, m.Seq)
					}
					if m.Body != "hello "+m.ClientMsgID {
						t.Fatalf("seq %d body %q does not match clientMsgId %q", m.Seq, m.Body, m.ClientMsgID)
					}
				}
			}
			for _, c := range []*client{a1, b1} {
				// An ack and the echo of the same message may arrive in either order.
				countAcks := func() (n int) {
					for _, f := range c.seen {
						if f.Type == "ack" || f.Type == "error" {
							n++
						}
					}
					return n
				}
				if countAcks() < perSender {
					c.waitFor(func(frame) bool { return countAcks() >= perSender }, fmt.Sprintf("%d acks", perSender))
				}
				for _, f := range c.seen {
					if f.Type == "ack" {
						acks <- f
					}
					if f.Type == "error" {
						t.Fatalf("send refused: %+v", f)
					}
				}
			}
			close(acks)
			if n := len(acks); n != 2*perSender {
				t.Fatalf("%d acks, want %d", n, 2*perSender)
			}
			first, third := a1.messages(conv), b1.messages(conv)
			for i := range first {
				if first[i].MessageID != third[i].MessageID {
					t.Fatalf("sessions disagree at %d", i)
				}
			}
		})
	}
}

// TestSyncDeliversExactlyTheMissed: a client misses messages while away and
// a sync after reconnecting replays exactly those, then live ones follow.
func TestSyncDeliversExactlyTheMissed(t *testing.T) {
	s := sqliteStack(t)
	alice, bob := s.register("alice"), s.register("bob")
	conv := s.createGroup(alice, "room", bob)
	a := s.connect(alice)
	b := s.connect(bob)
	for i := 1; i <= 3; i++ {
		if r := a.send(conv, fmt.Sprintf("m%d", i), "before"); r.Type != "ack" {
			t.Fatalf("send: %+v", r)
		}
	}
	got := b.waitMessages(conv, 3)
	last := got[len(got)-1].Seq
	_ = b.ws.Close()
	for i := 4; i <= 9; i++ {
		a.send(conv, fmt.Sprintf("m%d", i), "while away")
	}
	b2 := s.connect(bob)
	b2.writeJSON(map[string]any{"type": "sync", "id": "s1", "conversationId": conv, "afterSeq": last})
	synced := b2.waitFor(func(f frame) bool { return f.ID == "s1" }, "synced")
	if synced.Type != "synced" || synced.LastSeq != 9 || synced.HasMore || synced.AfterSeq != last {
		t.Fatalf("sync reply %+v, want synced lastSeq 9 hasMore false", synced)
	}
	replayed := b2.messages(conv)
	if len(replayed) != 6 || replayed[0].Seq != 4 || replayed[5].Seq != 9 {
		t.Fatalf("replayed %d messages %v, want seqs 4..9", len(replayed), seqs(replayed))
	}
	a.send(conv, "m10", "live again")
	live := b2.waitMessages(conv, 7)
	if live[6].Seq != 10 {
		t.Fatalf("live message seq %d, want 10", live[6].Seq)
	}
	// A sync that asks for nothing new replays nothing twice.
	b2.writeJSON(map[string]any{"type": "sync", "id": "s2", "conversationId": conv, "afterSeq": 0})
	b2.waitFor(func(f frame) bool { return f.ID == "s2" }, "second synced")
	all := b2.messages(conv)
	dup := map[int64]bool{}
	for _, m := range all {
		if dup[m.Seq] {
			t.Fatalf("seq %d delivered twice on one connection", m.Seq)
		}
		dup[m.Seq] = true
	}
	if len(all) != 10 {
		t.Fatalf("after full sync the connection has %d messages, want 10", len(all))
	}
}

func seqs(fs []frame) []int64 {
	out := make([]int64, len(fs))
	for i, f := range fs {
		out[i] = f.Seq
	}
	return out
}

// TestRestartLosesNothingAcked stops the node and starts a new one on the
// same data: every acknowledged message is there with its seq, and new sends
// continue the sequence.
func TestRestartLosesNothingAcked(t *testing.T) {
	for _, a := range adapters() {
		t.Run(a.name, func(t *testing.T) {
			st, reopen := a.open(t)
			s := startStack(t, st)
			alice, bob := s.register("alice"), s.register("bob")
			conv := s.createGroup(alice, "room", bob)
			c := s.connect(alice)
			acked := map[string]int64{}
			for i := 0; i < 20; i++ {
				id := fmt.Sprintf("m%d", i)
				if r := c.send(conv, id, "body "+id); r.Type == "ack" {
					acked[id] = r.Seq
				}
			}
			s.stop()

			s2 := startStack(t, reopen(t))
			var page struct{ Messages []frame }
			s2.doJSON("GET", "/api/conversations/"+conv+"/messages?after=0&limit=100", bob.Token, nil, http.StatusOK, &page)
			if len(page.Messages) != len(acked) || len(acked) != 20 {
				t.Fatalf("after restart %d messages stored, %d acked (want 20)", len(page.Messages), len(acked))
			}
			for _, m := range page.Messages {
				if acked[m.ClientMsgID] != m.Seq {
					t.Fatalf("%s acked at %d, stored at %d", m.ClientMsgID, acked[m.ClientMsgID], m.Seq)
				}
			}
			b := s2.connect(bob)
			if r := b.send(conv, "after", "after restart"); r.Type != "ack" || r.Seq != 21 {
				t.Fatalf("send after restart: %+v, want ack seq 21", r)
			}
			if r := b.send(conv, "after", "retry"); !r.Duplicate || r.Seq != 21 {
				t.Fatalf("retry after restart: %+v, want duplicate seq 21", r)
			}
		})
	}
}

// TestBadInputStoresNothing sends every kind of bad frame: each gets its
// error code, the connection stays usable, and nothing is stored.
func TestBadInputStoresNothing(t *testing.T) {
	s := sqliteStack(t, func(c *gateway.Config) { c.MaxBodyBytes = 1024; c.ReadLimit = 8 << 10 })
	alice, bob, mallory := s.register("alice"), s.register("bob"), s.register("mallory")
	conv := s.createGroup(alice, "room", bob)
	other := s.createGroup(mallory, "mallory's")
	c := s.connect(alice)
	cases := []struct {
		name  string
		frame string
		code  string
	}{
		{"malformed json", `{"type":"send",`, "invalid"},
		{"unknown field", `{"type":"send","id":"x1","conversationId":"` + conv + `","clientMsgId":"a","body":"hi","extra":1}`, "invalid"},
		{"dollar key", `{"type":"send","id":"x2","conversationId":"` + conv + `","clientMsgId":"a","body":"hi","$where":"1"}`, "invalid"},
		{"unknown type", `{"type":"explode","id":"x3"}`, "invalid"},
		{"empty body", `{"type":"send","id":"x4","conversationId":"` + conv + `","clientMsgId":"a","body":""}`, "invalid"},
		{"no clientMsgId", `{"type":"send","id":"x5","conversationId":"` + conv + `","body":"hi"}`, "invalid"},
		{"body too large", `{"type":"send","id":"x6","conversationId":"` + conv + `","clientMsgId":"a","body":"` + strings.Repeat("x", 1025) + `"}`, "too_large"},
		{"not a member", `{"type":"send","id":"x7","conversationId":"` + other + `","clientMsgId":"a","body":"hi"}`, "forbidden"},
		{"unknown conversation", `{"type":"send","id":"x8","conversationId":"nope","clientMsgId":"a","body":"hi"}`, "forbidden"},
		{"sync not a member", `{"type":"sync","id":"x9","conversationId":"` + other + `","afterSeq":0}`, "forbidden"},
		{"history not a member", `{"type":"history","id":"x10","conversationId":"` + other + `","beforeSeq":0,"limit":10}`, "forbidden"},
		{"history limit", `{"type":"history","id":"x11","conversationId":"` + conv + `","beforeSeq":0,"limit":1000}`, "invalid"},
		{"array", `[1,2,3]`, "invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(c.seen)
			if err := c.ws.WriteMessage(websocket.TextMessage, []byte(tc.frame)); err != nil {
				t.Fatal(err)
			}
			f := c.waitFor(func(f frame) bool { return f.Type == "error" && len(c.seen) > before }, "error")
			if f.Code != tc.code {
				t.Fatalf("code %q (%s), want %q", f.Code, f.Message, tc.code)
			}
			if strings.Contains(strings.ToLower(f.Message), "sql") || strings.Contains(f.Message, "persistence") {
				t.Fatalf("internal detail leaked: %q", f.Message)
			}
		})
	}
	t.Run("invalid utf8", func(t *testing.T) {
		_ = c.ws.WriteMessage(websocket.TextMessage, []byte("{\"type\":\"send\",\"id\":\"u\",\"conversationId\":\""+conv+"\",\"clientMsgId\":\"u\",\"body\":\"\xff\xfe\"}"))
		f := c.waitFor(func(f frame) bool { return f.Type == "error" }, "error")
		if f.Code != "invalid" {
			t.Fatalf("code %q, want invalid", f.Code)
		}
	})
	for _, id := range []string{conv, other} {
		if last, err := s.store.LastSeq(context.Background(), id); err != nil || last != 0 {
			t.Fatalf("bad input stored something in %s: last seq %d err %v", id, last, err)
		}
	}
	if r := c.send(conv, "ok", "still usable"); r.Type != "ack" || r.Seq != 1 {
		t.Fatalf("connection unusable after bad input: %+v", r)
	}
	t.Run("frame over the read limit closes with 1009", func(t *testing.T) {
		_ = c.ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"send","body":"`+strings.Repeat("y", 9<<10)+`"}`))
		if code := c.waitClose(); code != websocket.CloseMessageTooBig {
			t.Fatalf("close code %d, want 1009", code)
		}
	})
	if last, _ := s.store.LastSeq(context.Background(), conv); last != 1 {
		t.Fatalf("last seq %d after oversized frame, want 1", last)
	}
}

// TestRemovedMemberStopsReceiving: after removal, nothing more arrives and sends are refused.
func TestRemovedMemberStopsReceiving(t *testing.T) {
	s := sqliteStack(t)
	alice, bob := s.register("alice"), s.register("bob")
	conv := s.createGroup(alice, "room", bob)
	a, b := s.connect(alice), s.connect(bob)
	a.send(conv, "1", "one")
	b.waitMessages(conv, 1)
	s.doJSON("DELETE", "/api/conversations/"+conv+"/members/"+bob.ID, alice.Token, nil, http.StatusOK, nil)
	b.waitFor(func(f frame) bool { return f.Type == "membership" && !f.Joined }, "membership left")
	a.send(conv, "2", "two")
	if r := b.send(conv, "b1", "still here?"); r.Type != "error" || r.Code != "forbidden" {
		t.Fatalf("removed member's send: %+v, want forbidden", r)
	}
	a.send(conv, "3", "three")
	a.waitMessages(conv, 4) // one, the removal event, two, three
	if got := chatMessages(b.messages(conv)); len(got) != 1 {
		t.Fatalf("removed member received %d messages, want 1", len(got))
	}
	s.doJSON("GET", "/api/conversations/"+conv+"/messages", bob.Token, nil, http.StatusForbidden, nil)
	// Added back: live delivery resumes.
	s.doJSON("POST", "/api/conversations/"+conv+"/members", alice.Token, map[string]string{"username": "bob"}, http.StatusOK, nil)
	b.waitFor(func(f frame) bool { return f.Type == "membership" && f.Joined }, "membership joined")
	a.send(conv, "4", "four")
	b.waitFor(func(f frame) bool { return f.Type == "message" && f.Body == "four" }, "four")
	// seqs: one, removal, two, three, join, four
	if got := chatMessages(b.messages(conv)); len(got) != 2 || got[1].Seq != 6 {
		t.Fatalf("re-added member got %+v, want seq 6 after seq 1", got)
	}
	var _ persistence.Message
}

// TestDrainClosesWithReconnectCode: a draining node tells clients to
// reconnect elsewhere (1001) and refuses new sockets.
func TestDrainClosesWithReconnectCode(t *testing.T) {
	s := sqliteStack(t)
	alice := s.register("alice")
	conv := s.createGroup(alice, "room")
	c := s.connect(alice)
	if r := c.send(conv, "m1", "before drain"); r.Type != "ack" {
		t.Fatalf("send: %+v", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.gw.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if code := c.waitClose(); code != websocket.CloseGoingAway {
		t.Fatalf("close code %d, want 1001", code)
	}
	if _, resp, err := dialWS(t, s.URL, nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial while draining: err %v, want 503", err)
	}
	s.doJSON("GET", "/readyz", "", nil, http.StatusServiceUnavailable, nil)
}

// TestFrameFloodIsRateLimited: frames past the per-connection burst get
// rate_limited and store nothing.
func TestFrameFloodIsRateLimited(t *testing.T) {
	s := sqliteStack(t, func(c *gateway.Config) { c.FrameRate, c.FrameBurst = 0.001, 3 })
	alice := s.register("alice")
	conv := s.createGroup(alice, "room")
	c := s.connect(alice)
	for i := 0; i < 5; i++ {
		c.writeJSON(map[string]any{"type": "send", "id": fmt.Sprint(i), "conversationId": conv, "clientMsgId": fmt.Sprint("f", i), "body": "flood"})
	}
	acks, limited := 0, 0
	for acks+limited < 5 {
		f := c.waitFor(func(f frame) bool { return f.Type == "ack" || f.Type == "error" }, "reply")
		switch {
		case f.Type == "ack":
			acks++
		case f.Code == "rate_limited":
			if f.ID == "" {
				t.Fatalf("rate_limited reply without the request's id: %+v", f)
			}
			limited++
		default:
			t.Fatalf("unexpected reply %+v", f)
		}
	}
	if acks != 3 || limited != 2 {
		t.Fatalf("%d acks and %d rate_limited, want 3 and 2", acks, limited)
	}
	if last, _ := s.store.LastSeq(context.Background(), conv); last != 3 {
		t.Fatalf("stored %d messages, want 3", last)
	}
}

// TestSlowConsumerIsDisconnected: a client that stops reading is dropped
// once its queue is full, and the sender and other readers do not notice;
// with the shared writer pool (a socket that takes part of a batch goes on
// in a goroutine of its own) and with a writer goroutine per connection.
func TestSlowConsumerIsDisconnected(t *testing.T) {
	for _, mode := range []struct {
		name    string
		writers int
	}{{"writer pool", 0}, {"writer goroutines", -1}} {
		t.Run(mode.name, func(t *testing.T) { testSlowConsumer(t, mode.writers) })
	}
}

func testSlowConsumer(t *testing.T, writers int) {
	s := sqliteStack(t, func(c *gateway.Config) {
		c.SendQueue, c.WriteTimeout, c.FrameRate, c.FrameBurst = 256, time.Second, 10000, 10000
		c.WriterPool = writers
		unlimitedSends(c)
	})
	alice, bob, carol := s.register("alice"), s.register("bob"), s.register("carol")
	conv := s.createGroup(alice, "room", bob, carol)
	a, c := s.connect(alice), s.connect(carol)
	// bob authenticates, then never reads again.
	ws := dialSmallReceiveBuffer(t, s, bob)
	body := strings.Repeat("x", 7000)
	const n = 1500 // ~10 MB to bob: more than his small receive buffer and the server's send buffer hold
	for i := 0; i < n; i++ {
		a.writeJSON(map[string]any{"type": "send", "id": fmt.Sprint(i), "conversationId": conv, "clientMsgId": fmt.Sprint("m", i), "body": body})
	}
	a.waitFor(func(f frame) bool { return f.Type == "ack" && f.Seq == n }, "last ack")
	if got := c.waitMessages(conv, n); len(got) != n {
		t.Fatalf("carol got %d messages", len(got))
	}
	// bob's connection is gone: reading drains what the kernel buffered, then fails.
	_ = ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	read := 0
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("slow consumer still connected after reading %d frames", read)
			}
			break
		}
		read++
	}
	if read >= n+1 {
		t.Fatalf("slow consumer received all %d frames: it was never dropped", read)
	}
}

// TestBlockedWriteLeavesNoDeadline: a client that pauses reading while a
// burst fills its socket makes the server finish that write blocking, under
// a write deadline; once the client reads again, the connection keeps
// working past the deadline (a deadline left set would fail the next
// non-blocking pool write with a timeout and drop the client).
func TestBlockedWriteLeavesNoDeadline(t *testing.T) {
	const writeTimeout = 3 * time.Second
	s := sqliteStack(t, func(c *gateway.Config) {
		c.SendQueue, c.WriteTimeout, c.FrameRate, c.FrameBurst = 100000, writeTimeout, 10000, 10000
		unlimitedSends(c)
	})
	alice, bob := s.register("alice"), s.register("bob")
	conv := s.createGroup(alice, "room", bob)
	a := s.connect(alice)
	ws := dialSmallReceiveBuffer(t, s, bob)
	// bob reads nothing while ~7 MB are sent to him: more than the socket buffers hold.
	body := strings.Repeat("x", 7000)
	const n = 1000
	for i := range n {
		a.writeJSON(map[string]any{"type": "send", "id": fmt.Sprint(i), "conversationId": conv, "clientMsgId": fmt.Sprint("m", i), "body": body})
	}
	a.waitFor(func(f frame) bool { return f.Type == "ack" && f.Seq == n }, "last ack")
	readUntil := func(seq int64) {
		t.Helper()
		_ = ws.SetReadDeadline(time.Now().Add(20 * time.Second))
		for {
			_, raw, err := ws.ReadMessage()
			if err != nil {
				t.Fatalf("bob's connection failed before message %d: %v", seq, err)
			}
			var f frame
			if jsonUnmarshal(raw, &f) == nil && f.Type == "message" && f.Seq == seq {
				return
			}
		}
	}
	readUntil(n)
	time.Sleep(writeTimeout + time.Second) // past the deadline of the blocked write
	a.writeJSON(map[string]any{"type": "send", "id": "late", "conversationId": conv, "clientMsgId": "late", "body": "still there?"})
	readUntil(n + 1)
}

// dialSmallReceiveBuffer opens u's raw WebSocket with a 4 KB socket receive
// buffer and authenticates it: once the client stops reading, the server's
// writes to it stall as soon as its own send buffer is full (loopback
// buffers alone can otherwise take ~10 MB).
func dialSmallReceiveBuffer(t *testing.T, s *stack, u user) *websocket.Conn {
	t.Helper()
	small := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = setReceiveBuffer(fd, 4096) })
		return errors.Join(err, serr)
	}}
	dialer := websocket.Dialer{NetDialContext: small.DialContext}
	ws, _, err := dialer.Dial("ws"+strings.TrimPrefix(s.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	if err := ws.WriteJSON(map[string]string{"type": "auth", "token": u.Token}); err != nil {
		t.Fatal(err)
	}
	return ws
}
