package gateway

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/actorchat/engine/actors"
)

// WebSocket close codes (docs/protocol.md). 1001 and 4003 tell the client to
// reconnect (elsewhere); 4001 to authenticate again first.
const (
	CloseGoingAway     = websocket.CloseGoingAway       // 1001 server draining: reconnect elsewhere
	ClosePolicy        = websocket.ClosePolicyViolation // 1008 origin or protocol violation
	CloseTooBig        = websocket.CloseMessageTooBig   // 1009 frame over the read limit
	CloseInternalError = websocket.CloseInternalServerErr
	CloseTryAgainLater = websocket.CloseTryAgainLater // 1013 node full
	CloseUnauthorized  = 4001                         // bad, missing or expired token
	CloseAuthTimeout   = 4002                         // no auth frame in time
	CloseSlowConsumer  = 4003                         // client did not keep up: reconnect and sync
	CloseResync        = 4004                         // the server could not repair a gap: reconnect and sync
)

// wsConn is one WebSocket's outbound side: a bounded queue drained by its
// writer goroutine (writeLoop), the only goroutine that writes to the socket
// apart from control frames. It implements actors.Conn.
type wsConn struct {
	ws        *websocket.Conn
	out       *outQueue
	done      chan struct{} // closed when the connection must end
	closeOnce sync.Once
	closeCode int
	closeText string
	expires   atomic.Int64 // access token expiry, unix ms
	cfg       *Config
	buffers   *sync.Pool // batch buffers (*[]byte) shared by every connection of the server
}

func newWSConn(ws *websocket.Conn, cfg *Config, buffers *sync.Pool) *wsConn {
	return &wsConn{ws: ws, out: newOutQueue(cfg.SendQueue), done: make(chan struct{}), cfg: cfg, buffers: buffers}
}

// Send queues ev without blocking; false when full or closed.
func (c *wsConn) Send(ev actors.Outbound) bool { return c.enqueue(ev) }

func (c *wsConn) enqueue(ev any) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	return c.out.push(ev)
}

// Close ends the connection for a session's reason.
func (c *wsConn) Close(reason actors.CloseReason) {
	switch reason {
	case actors.CloseSlowConsumer:
		c.shutdown(CloseSlowConsumer, "slow consumer: reconnect and sync")
	case actors.CloseResync:
		c.shutdown(CloseResync, "missing messages: reconnect and sync")
	case actors.CloseUnavailable:
		c.shutdown(CloseTryAgainLater, "store busy: try again later")
	default:
		c.shutdown(CloseInternalError, "internal error: reconnect")
	}
}

// shutdown asks the writer to send a close frame and end; first call wins.
func (c *wsConn) shutdown(code int, text string) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeText = code, text
		close(c.done)
	})
}

// writeLoop writes queued frames and pings until shutdown or a write error,
// then sends the close frame and closes the socket (which ends the reader).
func (c *wsConn) writeLoop() {
	ping := time.NewTicker(c.cfg.PingInterval)
	defer ping.Stop()
	defer c.ws.Close()
	defer c.out.close()
	var batch []any
	for {
		select {
		case <-c.out.ready:
			batch = c.out.take(batch)
			ok := c.writeBatch(batch)
			clear(batch)
			if !ok {
				return
			}
		case <-ping.C:
			if time.Now().UnixMilli() > c.expires.Load() {
				c.shutdown(CloseUnauthorized, "token expired")
				continue
			}
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.cfg.WriteTimeout)); err != nil {
				c.shutdown(CloseInternalError, "write failed")
				return
			}
		case <-c.done:
			c.flushQueued()
			msg := websocket.FormatCloseMessage(c.closeCode, c.closeText)
			_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(c.cfg.WriteTimeout))
			return
		}
	}
}

// flushQueued writes what is already queued (replies to requests the client
// made) before the close frame, except on a slow consumer.
func (c *wsConn) flushQueued() {
	if c.closeCode == CloseSlowConsumer {
		return
	}
	c.writeBatch(c.out.take(nil))
}

// writeBatch writes every queued event as its own text frame, all of them
// in one write to the socket. The profile of a busy node showed 40% of its
// CPU in one write syscall per frame; a batch costs one. The frames are
// plain RFC 6455 server frames (FIN, text, unmasked, no extensions); gorilla
// writes only control frames on this connection, each with one Write, and
// net.Conn writes do not interleave.
func (c *wsConn) writeBatch(batch []any) bool {
	if len(batch) == 0 {
		return true
	}
	bp := c.buffers.Get().(*[]byte)
	buf := (*bp)[:0]
	for _, ev := range batch {
		frame, err := encodeOutbound(ev)
		if err != nil {
			continue
		}
		buf = appendTextFrame(buf, frame)
	}
	conn := c.ws.NetConn()
	_ = conn.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
	_, err := conn.Write(buf)
	if cap(buf) <= maxPooledBuffer {
		*bp = buf[:0]
		c.buffers.Put(bp)
	}
	if err != nil {
		c.shutdown(CloseInternalError, "write failed")
		return false
	}
	return true
}

// maxPooledBuffer is the largest batch buffer kept for reuse.
const maxPooledBuffer = 256 << 10

// appendTextFrame appends one unmasked, final text frame holding payload.
func appendTextFrame(buf, payload []byte) []byte {
	n := len(payload)
	switch {
	case n < 126:
		buf = append(buf, 0x81, byte(n))
	case n <= 0xFFFF:
		buf = append(buf, 0x81, 126, byte(n>>8), byte(n))
	default:
		buf = append(buf, 0x81, 127)
		buf = binary.BigEndian.AppendUint64(buf, uint64(n))
	}
	return append(buf, payload...)
}
