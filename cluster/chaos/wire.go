package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gorilla/websocket"
)

// outFrame is a client frame (docs/protocol.md, "Requests"). Empty fields
// are left out: the server rejects unknown ones and defaults absent ones.
type outFrame struct {
	Type           string `json:"type"`
	ID             string `json:"id,omitempty"`
	Token          string `json:"token,omitempty"`
	ConversationID string `json:"conversationId,omitempty"`
	ClientMsgID    string `json:"clientMsgId,omitempty"`
	Body           string `json:"body,omitempty"`
	AfterSeq       int64  `json:"afterSeq,omitempty"`
}

// inFrame is any server frame; only the fields of its type are set.
type inFrame struct {
	Type           string `json:"type"`
	ID             string `json:"id"`
	ConversationID string `json:"conversationId"`
	Seq            int64  `json:"seq"`
	MessageID      string `json:"messageId"`
	SenderID       string `json:"senderId"`
	ClientMsgID    string `json:"clientMsgId"`
	Body           string `json:"body"`
	Duplicate      bool   `json:"duplicate"`
	Code           string `json:"code"`
	FromSeq        int64  `json:"fromSeq"`
	LastSeq        int64  `json:"lastSeq"`
	HasMore        bool   `json:"hasMore"`
}

// inbound is what a connection's reader hands to the client loop.
type inbound struct {
	f   *inFrame
	at  time.Time
	err error // the read error that ended the connection
}

// wsConn is one authenticated WebSocket. Its reader goroutine owns the read
// side and hands frames to in; the client loop is the only writer.
type wsConn struct {
	ws *websocket.Conn
	in chan inbound // closed by the reader after the final error
}

// errNotReady means the server did not send ready in time.
var errNotReady = errors.New("no ready frame in time")

// dialWS opens url, authenticates with token and waits for ready. Frames
// other than ready before it are returned to be handled first.
func dialWS(ctx context.Context, url, token string, timeout time.Duration) (*wsConn, []inbound, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := websocket.Dialer{HandshakeTimeout: timeout}
	ws, resp, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return nil, nil, err
	}
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	deadline, _ := ctx.Deadline()
	_ = ws.SetWriteDeadline(deadline)
	if err := ws.WriteJSON(outFrame{Type: "auth", Token: token}); err != nil {
		ws.Close()
		return nil, nil, err
	}
	_ = ws.SetReadDeadline(deadline)
	var early []inbound
	for {
		f, err := readFrame(ws)
		if err != nil {
			ws.Close()
			if closeCode(err) == 0 && ctx.Err() != nil {
				return nil, nil, errNotReady
			}
			return nil, nil, err
		}
		if f.Type == "ready" {
			break
		}
		early = append(early, inbound{f: f, at: time.Now()})
	}
	_ = ws.SetReadDeadline(time.Time{})
	c := &wsConn{ws: ws, in: make(chan inbound, 4096)}
	go c.readLoop()
	return c, early, nil
}

func readFrame(ws *websocket.Conn) (*inFrame, error) {
	_, data, err := ws.ReadMessage()
	if err != nil {
		return nil, err
	}
	f := new(inFrame)
	if err := json.Unmarshal(data, f); err != nil {
		return nil, fmt.Errorf("decode frame: %w", err)
	}
	return f, nil
}

// readLoop is the connection's only reader. Gorilla answers the server's
// pings from here.
func (c *wsConn) readLoop() {
	defer close(c.in)
	for {
		f, err := readFrame(c.ws)
		if err != nil {
			c.in <- inbound{err: err, at: time.Now()}
			return
		}
		c.in <- inbound{f: f, at: time.Now()}
	}
}

// write sends one frame; called only from the client loop.
func (c *wsConn) write(f outFrame) error {
	_ = c.ws.SetWriteDeadline(time.Now().Add(2 * time.Second))
	return c.ws.WriteJSON(f)
}

// close closes the socket and waits for the reader to finish.
func (c *wsConn) close() {
	_ = c.ws.Close()
	for range c.in {
	}
}

// closeCode returns the WebSocket close code in err, or 0.
func closeCode(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}
