package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// request is a client frame (docs/protocol.md, "Requests"). Zero fields are
// left out: the server rejects unknown ones and defaults absent ones.
type request struct {
	Type           string `json:"type"`
	ID             string `json:"id,omitempty"`
	Token          string `json:"token,omitempty"`
	ConversationID string `json:"conversationId,omitempty"`
	ClientMsgID    string `json:"clientMsgId,omitempty"`
	Body           string `json:"body,omitempty"`
	AfterSeq       int64  `json:"afterSeq,omitempty"`
	BeforeSeq      int64  `json:"beforeSeq,omitempty"`
	Limit          int    `json:"limit,omitempty"`
}

// event is any server frame; only the fields of its type are set.
type event struct {
	Type           string        `json:"type"`
	ID             string        `json:"id"`
	ConversationID string        `json:"conversationId"`
	Seq            int64         `json:"seq"`
	ClientMsgID    string        `json:"clientMsgId"`
	Body           string        `json:"body"`
	Duplicate      bool          `json:"duplicate"`
	Code           string        `json:"code"`
	FromSeq        int64         `json:"fromSeq"`
	LastSeq        int64         `json:"lastSeq"`
	HasMore        bool          `json:"hasMore"`
	Messages       []wireMessage `json:"messages"`
	UserID         string        `json:"userId"`
	Joined         bool          `json:"joined"`
}

// handler receives a connection's events on its reader goroutine, one at a
// time, in arrival order. It must not block for long.
type handler func(ev *event)

// wsClient is one authenticated WebSocket. Its reader goroutine (started by
// dialWS) owns the socket's read side and calls the handler; writes go
// through write, which serialises them.
type wsClient struct {
	ws     *websocket.Conn
	wmu    sync.Mutex
	done   chan struct{} // closed when the reader ends
	closed error         // why the reader ended; read after done
}

// closeCodeOf returns the WebSocket close code in err, or 0.
func closeCodeOf(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}

// dialClass names why a connection attempt failed, for reports: "close_1013",
// "timeout", "dial", ...
func dialClass(err error) string {
	if code := closeCodeOf(err); code != 0 {
		return fmt.Sprintf("close_%d", code)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errReadyTimeout) {
		return "timeout"
	}
	return "dial"
}

var errReadyTimeout = errors.New("no ready frame in time")

// dialWS opens a WebSocket from src, authenticates with token and waits for
// ready; frames that arrive before ready go to h too. On success the reader
// goroutine runs until the socket closes.
func dialWS(ctx context.Context, t target, src netip.Addr, token string, timeout time.Duration, h handler) (*wsClient, error) {
	if !t.ipv4 {
		src = netip.Addr{}
	}
	d := websocket.Dialer{NetDialContext: dialFrom(src, timeout), HandshakeTimeout: timeout,
		ReadBufferSize: 2048, WriteBufferSize: 2048}
	if t.proto {
		d.Subprotocols = []string{subprotocolProto}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ws, resp, err := d.DialContext(ctx, t.ws, nil)
	if err != nil {
		return nil, err
	}
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if t.proto && ws.Subprotocol() != subprotocolProto {
		_ = ws.Close()
		return nil, fmt.Errorf("server did not accept the %q subprotocol", subprotocolProto)
	}
	c := &wsClient{ws: ws, done: make(chan struct{})}
	if err := c.write(&request{Type: "auth", Token: token}); err != nil {
		_ = ws.Close()
		return nil, err
	}
	deadline, _ := ctx.Deadline()
	_ = ws.SetReadDeadline(deadline)
	for {
		ev, err := c.read()
		if err != nil {
			_ = ws.Close()
			if closeCodeOf(err) == 0 && ctx.Err() != nil {
				return nil, errReadyTimeout
			}
			return nil, err
		}
		if ev.Type == "ready" {
			break
		}
		h(ev)
	}
	_ = ws.SetReadDeadline(time.Time{})
	go c.readLoop(h)
	return c, nil
}

func (c *wsClient) read() (*event, error) {
	typ, data, err := c.ws.ReadMessage()
	if err != nil {
		return nil, err
	}
	if typ == websocket.BinaryMessage {
		return decodeBinary(data)
	}
	if ev, ok := decodeHotJSON(data); ok {
		return ev, nil
	}
	ev := new(event)
	if err := json.Unmarshal(data, ev); err != nil {
		return nil, fmt.Errorf("decode frame: %w", err)
	}
	return ev, nil
}

// readLoop is the connection's only reader after ready. Gorilla answers the
// server's pings from here.
func (c *wsClient) readLoop(h handler) {
	defer close(c.done)
	for {
		ev, err := c.read()
		if err != nil {
			c.closed = err
			return
		}
		h(ev)
	}
}

// write sends one request frame; safe for concurrent use.
func (c *wsClient) write(r *request) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, data)
}

// isDone reports whether the reader has ended (the socket is closed).
func (c *wsClient) isDone() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// close sends a normal close frame, waits up to wait for the server's close
// (which ends the reader), then closes the socket and waits for the reader.
// It returns how the connection had ended before we closed it: 0 if it was
// still open (or closed normally), its close code, or -1 for a transport error.
func (c *wsClient) close(wait time.Duration) int {
	early := 0
	if c.isDone() && c.closed != nil {
		switch early = closeCodeOf(c.closed); early {
		case websocket.CloseNormalClosure:
			early = 0
		case 0:
			early = -1
		}
	}
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	select {
	case <-c.done:
	case <-time.After(wait):
	}
	_ = c.ws.Close()
	<-c.done
	return early
}
