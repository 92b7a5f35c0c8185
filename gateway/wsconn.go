package gateway

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"syscall"
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

// wsConn is one WebSocket's outbound side: a bounded queue drained by a
// writer that runs only while there is something to write (an idle
// connection has no writer and no timer: the server's pinger enqueues its
// pings). The writer is one of the server's pool writers (writepool.go) or
// a goroutine of the connection's own; either way only one at a time, and
// it is the only writer to the socket apart from control frames written
// before the session starts. It implements actors.Conn.
type wsConn struct {
	ws       *websocket.Conn
	raw      syscall.RawConn // the TCP socket (nil if not plain TCP): pool writes and the read poller
	cfg      *Config
	buffers  *sync.Pool   // batch buffers (*[]byte) shared by every connection of the server
	writers  *writerPool  // nil: a writer goroutine per busy connection
	binary   bool         // the client chose SubprotocolProto: messages and acks go as binary frames
	expires  atomic.Int64 // access token expiry, unix ms; 0 until authenticated
	nextPing atomic.Int64 // when the pinger pings next, unix ms
	writing0 atomic.Int64 // when the socket write in progress began, unix ns; 0 when none
	lastRead atomic.Int64 // when the client's last frame arrived, unix ms
	reader   atomic.Pointer[wsReader]

	mu        sync.Mutex
	out       outQueue
	writing   bool // a writer is draining out (stays true once the connection ended)
	closing   bool // shutdown was asked: no more pushes; the writer sends the close frame
	closeCode int
	closeText string
	ended     sync.WaitGroup // done once the writer has closed the socket
}

func newWSConn(ws *websocket.Conn, cfg *Config, buffers *sync.Pool, writers *writerPool) *wsConn {
	c := &wsConn{ws: ws, cfg: cfg, buffers: buffers, writers: writers, out: outQueue{max: cfg.SendQueue},
		binary: ws.Subprotocol() == SubprotocolProto}
	if sc, ok := ws.NetConn().(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			c.raw = raw
		}
	}
	c.ended.Add(1)
	return c
}

// Send queues ev without blocking; false when full or closed.
func (c *wsConn) Send(ev actors.Outbound) bool { return c.enqueue(ev) }

// burstFactor is how far past SendQueue a connection's queue may grow while
// its socket writes keep completing: one group commit alone can hand a
// member hundreds of messages (and their sender as many acks) at once.
const burstFactor = 8

// enqueue queues ev and starts a writer if none runs; false when the
// connection is closing or its queue is full. The queue is full at
// SendQueue events while the write in progress has been blocked for a
// quarter of WriteTimeout (the client is not reading), and at burstFactor
// times that while writes complete (a burst to a client that keeps up).
func (c *wsConn) enqueue(ev any) bool {
	limit := c.out.max
	if since := c.writing0.Load(); since == 0 || time.Duration(time.Now().UnixNano()-since) < c.cfg.WriteTimeout/4 {
		limit *= burstFactor
	}
	c.mu.Lock()
	if c.closing || !c.out.push(ev, limit) {
		c.mu.Unlock()
		return false
	}
	start := c.claimWriter()
	c.mu.Unlock()
	if start {
		c.startWriter()
	}
	return true
}

// claimWriter reports whether the caller must start the writer (mu held).
func (c *wsConn) claimWriter() bool {
	if c.writing {
		return false
	}
	c.writing = true
	return true
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

// shutdown asks the writer to send a close frame and close the socket;
// the first call wins.
func (c *wsConn) shutdown(code int, text string) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.closing, c.closeCode, c.closeText = true, code, text
	start := c.claimWriter()
	c.mu.Unlock()
	if start {
		c.startWriter()
	}
}

// startWriter hands the connection, whose writer the caller claimed, to a
// pool writer, or starts a goroutine of its own.
func (c *wsConn) startWriter() {
	if c.writers == nil || c.raw == nil || !c.writers.submit(c) {
		go c.drain()
	}
}

// drainPooled is a pool writer's turn with c (whose writer it is): up to
// writerPoolRounds batches, each written without waiting for the socket.
// A shutdown, a socket that takes only part of a batch, or a failed write
// goes on in a goroutine of the connection's own, which may wait. It
// returns batch emptied, for reuse.
func (c *wsConn) drainPooled(batch []any) []any {
	for range writerPoolRounds {
		c.mu.Lock()
		if c.closing {
			c.mu.Unlock()
			go c.drain()
			return batch
		}
		batch = c.out.take(batch)
		if len(batch) == 0 {
			c.writing = false
			c.mu.Unlock()
			return batch
		}
		c.mu.Unlock()
		bp, buf := c.encodeBatch(batch)
		clear(batch)
		batch = batch[:0]
		n, err := writeNow(c.raw, buf)
		switch {
		case err != nil:
			c.putBuffer(bp, buf)
			go c.writeFailed()
			return batch
		case n < len(buf):
			go c.drainRest(bp, buf, n)
			return batch
		}
		c.putBuffer(bp, buf)
	}
	if !c.writers.submit(c) { // more to write: behind the other connections
		go c.drain()
	}
	return batch
}

// drainRest writes what the socket did not take of a pool writer's batch,
// waiting for it, and goes on as the connection's writer goroutine.
func (c *wsConn) drainRest(bp *[]byte, buf []byte, written int) {
	ok := c.writeBlocking(buf[written:])
	c.putBuffer(bp, buf)
	if !ok {
		c.writeFailed()
		return
	}
	c.drain()
}

// writeFailed ends the connection after a failed socket write (writer only).
func (c *wsConn) writeFailed() {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	c.finish(CloseInternalError, "write failed")
}

// drain writes what is queued, batch by batch, and returns when the queue
// is empty. After a shutdown it writes what is queued (replies to requests
// the client made; not for a slow consumer), then the close frame, and
// closes the socket, which ends the reader.
func (c *wsConn) drain() {
	var batch []any
	for {
		c.mu.Lock()
		batch = c.out.take(batch)
		closing, code, text := c.closing, c.closeCode, c.closeText
		if len(batch) == 0 && !closing {
			c.writing = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		if closing {
			if code != CloseSlowConsumer {
				c.writeBatch(batch)
			}
			c.finish(code, text)
			return
		}
		if !c.writeBatch(batch) {
			c.writeFailed()
			return
		}
		clear(batch)
	}
}

// finish sends the close frame (best effort) and closes the socket.
func (c *wsConn) finish(code int, text string) {
	msg := websocket.FormatCloseMessage(code, text)
	_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(c.cfg.WriteTimeout))
	_ = c.ws.Close()
	c.ended.Done()
	if r := c.reader.Load(); r != nil {
		r.socketClosed()
	}
}

// wsPing is the pinger's queue entry: a ping control frame.
type wsPing struct{}

var pingEvent = &wsPing{}

// tick is the pinger's visit: it ends a connection whose token expired and
// queues a ping when one is due.
func (c *wsConn) tick(now time.Time, every time.Duration) {
	exp := c.expires.Load()
	if exp == 0 {
		return // not authenticated yet: the auth deadline covers it
	}
	ms := now.UnixMilli()
	if ms > exp {
		c.shutdown(CloseUnauthorized, "token expired")
		return
	}
	if r := c.reader.Load(); r != nil && r.state.Load() == readIdle && ms-c.lastRead.Load() > 2*every.Milliseconds() {
		c.shutdown(websocket.CloseNormalClosure, "ping timeout")
		return
	}
	if ms >= c.nextPing.Load() {
		c.nextPing.Store(ms + every.Milliseconds())
		c.enqueue(pingEvent)
	}
}

// writeBatch writes every queued event as its own frame, all of them
// in one write to the socket. The profile of a busy node showed 40% of its
// CPU in one write syscall per frame; a batch costs one. The frames are
// plain RFC 6455 server frames (FIN, text or binary, unmasked, no extensions); gorilla
// writes only control frames on this connection, each with one Write, and
// net.Conn writes (and the pool writers' RawConn writes) do not interleave.
func (c *wsConn) writeBatch(batch []any) bool {
	if len(batch) == 0 {
		return true
	}
	bp, buf := c.encodeBatch(batch)
	ok := c.writeBlocking(buf)
	c.putBuffer(bp, buf)
	return ok
}

// encodeBatch encodes batch into a buffer of the shared pool: bp is its
// pool entry, buf the frames (give both back with putBuffer).
func (c *wsConn) encodeBatch(batch []any) (bp *[]byte, buf []byte) {
	bp = c.buffers.Get().(*[]byte)
	buf = (*bp)[:0]
	for _, ev := range batch {
		if ev == pingEvent {
			buf = append(buf, 0x80|opPing, 0x00) // FIN, no payload
			continue
		}
		if p, ok := ev.(*wsPong); ok {
			buf = append(buf, 0x80|opPong, byte(len(p.payload)))
			buf = append(buf, p.payload...)
			continue
		}
		buf, _ = appendFrame(buf, ev, c.binary)
	}
	return bp, buf
}

// writeBlocking writes buf, waiting for the socket up to WriteTimeout. The
// deadline is cleared afterwards: the pool writers' non-blocking writes go
// through the same descriptor, and an expired deadline would fail them.
func (c *wsConn) writeBlocking(buf []byte) bool {
	conn := c.ws.NetConn()
	start := time.Now()
	_ = conn.SetWriteDeadline(start.Add(c.cfg.WriteTimeout))
	c.writing0.Store(start.UnixNano())
	_, err := conn.Write(buf)
	c.writing0.Store(0)
	if err != nil {
		return false
	}
	return conn.SetWriteDeadline(time.Time{}) == nil
}

// putBuffer returns an encoding buffer to the pool unless it grew too big.
func (c *wsConn) putBuffer(bp *[]byte, buf []byte) {
	if cap(buf) <= maxPooledBuffer {
		*bp = buf[:0]
		c.buffers.Put(bp)
	}
}

// maxPooledBuffer is the largest batch buffer kept for reuse.
const maxPooledBuffer = 256 << 10

// WebSocket data frame opcodes.
const (
	opText   = 0x1
	opBinary = 0x2
)

// appendDataFrame appends one unmasked, final data frame holding payload.
func appendDataFrame(buf []byte, op byte, payload []byte) []byte {
	n := len(payload)
	switch {
	case n < 126:
		buf = append(buf, 0x80|op, byte(n))
	case n <= 0xFFFF:
		buf = append(buf, 0x80|op, 126, byte(n>>8), byte(n))
	default:
		buf = append(buf, 0x80|op, 127)
		buf = binary.BigEndian.AppendUint64(buf, uint64(n))
	}
	return append(buf, payload...)
}
