package gateway_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/actorchat/engine/gateway"
)

// rawClient is a WebSocket read synchronously by the test, with no goroutine
// of its own, so the test can count the server's goroutines.
type rawClient struct {
	t  *testing.T
	ws *websocket.Conn
}

func (s *stack) dialRaw(u user, pipelined ...string) *rawClient {
	s.t.Helper()
	ws, _, err := dialWS(s.t, s.URL, nil)
	if err != nil {
		s.t.Fatalf("dial: %v", err)
	}
	s.t.Cleanup(func() { _ = ws.Close() })
	c := &rawClient{t: s.t, ws: ws}
	c.write(fmt.Sprintf(`{"type":"auth","token":%q}`, u.Token))
	for _, f := range pipelined {
		c.write(f)
	}
	return c
}

func (c *rawClient) write(text string) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(text)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// until reads frames until ok accepts one, returning every frame read.
func (c *rawClient) until(ok func(frame) bool, what string) []frame {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var seen []frame
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			c.t.Fatalf("waiting for %s: %v (read %+v)", what, err, seen)
		}
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			c.t.Fatalf("bad frame %s: %v", data, err)
		}
		seen = append(seen, f)
		if ok(f) {
			return seen
		}
	}
}

// TestReaders covers both ways of reading sockets, the epoll poller (the
// default on Linux) and a goroutine per connection: frames sent right
// behind the auth frame are handled in order, a client's ping is answered
// with its payload, unsolicited pongs are consumed, and only the goroutine
// mode keeps a goroutine per idle connection.
func TestReaders(t *testing.T) {
	for _, mode := range []struct {
		name       string
		goroutines bool
	}{{"epoll", false}, {"goroutines", true}} {
		t.Run(mode.name, func(t *testing.T) {
			st, _ := adapters()[0].open(t)
			s := startStack(t, st, func(c *gateway.Config) { c.GoroutineReaders, c.Limits.MaxConnsPerUser = mode.goroutines, 100 })
			alice, bob := s.register("alice"), s.register("bob")
			conv := s.createGroup(alice, "readers", bob)
			cb := s.connect(bob)

			send := func(id string) string {
				return fmt.Sprintf(`{"type":"send","id":%q,"conversationId":%q,"clientMsgId":%q,"body":"hi %s"}`, id, conv, id, id)
			}
			a := s.dialRaw(alice, send("s1"), send("s2"), send("s3"), `{"type":"ping","id":"p1"}`)
			acks, ponged := map[string]int64{}, false
			a.until(func(f frame) bool {
				switch f.Type {
				case "ack":
					acks[f.ID] = f.Seq
				case "pong":
					ponged = ponged || f.ID == "p1"
				case "error":
					t.Fatalf("pipelined frame refused: %+v", f)
				}
				return ponged && len(acks) == 3
			}, "three acks and pong p1")
			if acks["s1"] != 1 || acks["s2"] != 2 || acks["s3"] != 3 {
				t.Fatalf("pipelined sends acked %v, want s1..s3 at seqs 1..3", acks)
			}
			if got := cb.waitMessages(conv, 3); got[0].ClientMsgID != "s1" || got[2].ClientMsgID != "s3" {
				t.Fatalf("bob got %+v", got)
			}

			// A WebSocket ping is answered before the application pong that
			// follows it; unsolicited pongs are dropped without a reply.
			pongs := make(chan string, 4)
			a.ws.SetPongHandler(func(p string) error { pongs <- p; return nil })
			deadline := time.Now().Add(5 * time.Second)
			if err := a.ws.WriteControl(websocket.PongMessage, []byte("unsolicited"), deadline); err != nil {
				t.Fatal(err)
			}
			if err := a.ws.WriteControl(websocket.PingMessage, []byte("are you there"), deadline); err != nil {
				t.Fatal(err)
			}
			a.write(`{"type":"ping","id":"p2"}`)
			a.until(func(f frame) bool { return f.Type == "pong" && f.ID == "p2" }, "pong p2")
			select {
			case p := <-pongs:
				if p != "are you there" {
					t.Fatalf("pong payload %q, want the ping's", p)
				}
			default:
				t.Fatal("no pong for the client's ping before the reply to the next frame")
			}

			// Idle connections: goroutines only in goroutine mode.
			settle := func() int {
				for range 50 {
					runtime.GC()
					time.Sleep(20 * time.Millisecond)
				}
				return runtime.NumGoroutine()
			}
			before := settle()
			const n = 30
			for range n {
				c := s.dialRaw(bob)
				c.until(func(f frame) bool { return f.Type == "ready" }, "ready")
			}
			grown := settle() - before
			// Other goroutines of the process come and go meanwhile (HTTP
			// keep-alives, timers), so both bounds leave a fifth of slack.
			if mode.goroutines && grown < n-n/5 {
				t.Fatalf("%d idle connections added %d goroutines; goroutine mode keeps one each", n, grown)
			}
			if !mode.goroutines && grown > n/5 {
				t.Fatalf("%d idle connections added %d goroutines; with the poller an idle connection has none", n, grown)
			}
			a.write(`{"type":"ping","id":"p3"}`) // and the parked connections still answer
			a.until(func(f frame) bool { return f.Type == "pong" && f.ID == "p3" }, "pong p3")
		})
	}
}
