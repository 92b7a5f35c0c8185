package gateway

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/gorilla/websocket"

	"github.com/actorchat/engine/actors"
)

// wsReader is the reading side of one authenticated WebSocket.
//
// An idle connection has no goroutine of its own. With the poller (epoll, on
// Linux) its socket waits in the server's readiness set and a goroutine runs
// only while frames arrive: it reads what the socket and the read buffer
// hold, waits a little for more, then re-arms the socket and ends. A parked reader goroutine costs a
// 4 KiB stack, which the garbage collector also counts when it sizes the
// heap; at 100,000 connections that is the larger half of their memory.
// Without a poller (other systems, sockets that are not plain TCP, or
// Config.GoroutineReaders) each connection keeps one reader goroutine.
type wsReader struct {
	s          *Server
	c          *wsConn
	br         *bufio.Reader // gorilla's read buffer (see readBufferHijacker)
	session    *actor.PID
	claims     Claims
	release    func()     // the user's connection slot
	limits     connLimits // made on first use
	id         uint64     // the poller's key
	registered bool       // with the poller; set before the reader is first parked
	data       bool       // readReady handled a data frame (the reading goroutine's own)
	state      atomic.Int32
}

// Reader states. Only the goroutine that moved a reader to readBusy moves it
// out; readIdle→readDone is claimed by whoever sees the socket end first.
const (
	readBusy int32 = iota // a goroutine reads (or sets the reader up)
	readIdle              // waiting in the poller, no goroutine
	readDone              // ended: cleaned up once
)

// readBufferHijacker hands gorilla a read buffer of our own size and keeps a
// reference to it, so the reader can ask whether frames wait in it before it
// parks the socket (gorilla does not expose its buffer). With
// Upgrader.ReadBufferSize 0 gorilla reuses the hijacked reader when it is
// larger than 256 bytes.
type readBufferHijacker struct {
	http.ResponseWriter
	size int
	br   *bufio.Reader
}

func (h *readBufferHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil || brw.Reader.Buffered() > 0 {
		return conn, brw, err // gorilla refuses data sent before the handshake completed
	}
	h.br = bufio.NewReaderSize(conn, h.size)
	return conn, bufio.NewReadWriter(h.br, brw.Writer), nil
}

// readBufferSize is each connection's read buffer; larger frames are read
// past it.
const readBufferSize = 320 // gorilla reuses a hijacked buffer only above 256

// startReading hands an authenticated connection to its reader: the poller
// when there is one and the socket supports it, a goroutine otherwise.
func (s *Server) startReading(r *wsReader) {
	r.c.lastRead.Store(time.Now().UnixMilli())
	p := s.readPoller()
	if p == nil || r.br == nil || r.c.raw == nil {
		go func() {
			for r.readReady() {
			}
			r.state.Store(readDone)
			r.end()
		}()
		return
	}
	p.register(r)
	if r.br.Buffered() > 0 { // frames sent right after auth wait in the buffer
		go r.work()
		return
	}
	r.park()
}

// readLinger is how long a reader goroutine waits for the next frame
// before it parks its socket in the poller. Waking through the poller costs
// a thread leaving a blocking epoll_wait and looking for a free P: under
// load that delay held back every sender with unacknowledged sends (a fifth
// less throughput in the fanout benchmark), so busy connections keep their
// goroutine and only quiet ones park.
const readLinger = 2 * time.Second

// work is the poller's goroutine for a readable socket: it handles what
// arrives until the connection has been quiet for readLinger, then parks
// the socket again.
// Only data frames make it linger: the pongs answering the server's pings
// arrive from every idle connection once per ping interval.
func (r *wsReader) work() {
	for {
		r.data = false
		if !r.readReady() {
			r.state.Store(readDone)
			r.end()
			return
		}
		if !r.data || !r.waitReadable(readLinger) {
			break
		}
	}
	r.park()
}

// waitReadable waits up to d for the next bytes from the client, reading
// them into the read buffer (Go's netpoller wakes this goroutine: no epoll
// round trip), and reports whether any came, or the connection ended (the
// reader then finds out). bufio hands a read error back once and forgets
// it, and a passed deadline does not break the socket, so a quiet client
// costs nothing here but the timer.
func (r *wsReader) waitReadable(d time.Duration) bool {
	if r.br.Buffered() > 0 {
		return true
	}
	_ = r.c.ws.NetConn().SetReadDeadline(time.Now().Add(d))
	_, err := r.br.Peek(1)
	return err == nil || !errors.Is(err, os.ErrDeadlineExceeded)
}

// park returns the socket to the poller (state readBusy → readIdle); the
// reader ends when the socket closed meanwhile.
func (r *wsReader) park() {
	r.state.Store(readIdle)
	if err := r.s.poller.arm(r); err != nil && r.state.CompareAndSwap(readIdle, readDone) {
		r.end()
	}
}

// readable is the poller's event: start a goroutine unless the reader ended.
func (r *wsReader) readable() {
	if r.state.CompareAndSwap(readIdle, readBusy) {
		go r.work()
	}
}

// socketClosed is called by the writer after it closed the socket: a parked
// reader will get no event for it, so it ends here. A busy reader sees its
// read fail and ends itself.
func (r *wsReader) socketClosed() {
	if r.state.CompareAndSwap(readIdle, readDone) {
		r.end()
	}
}

// end releases the connection: the session stops, the writer finishes (its
// close frame, then the socket), and the server forgets the connection.
func (r *wsReader) end() {
	s, c := r.s, r.c
	if r.registered {
		s.poller.forget(r)
	}
	c.shutdown(websocket.CloseNormalClosure, "")
	s.deps.System.Root.Send(r.session, &actors.ConnClosed{})
	c.ended.Wait()
	r.release()
	s.metrics.connections.Dec()
	s.untrack(c)
}

// readReady reads frames until the read buffer is empty (with a poller) and
// reports whether the connection lives on. It may block for the rest of a
// frame that has begun to arrive, up to two ping intervals.
func (r *wsReader) readReady() bool {
	c, ws := r.c, r.c.ws
	_ = ws.SetReadDeadline(time.Now().Add(2 * r.s.cfg.PingInterval))
	for {
		done, err := r.control()
		if err != nil {
			return false
		}
		if !done {
			typ, data, err := ws.ReadMessage()
			if err != nil {
				if errors.Is(err, websocket.ErrReadLimit) {
					c.shutdown(CloseTooBig, "frame too large")
				}
				return false
			}
			r.data = true
			if !r.handle(typ, data) {
				return false
			}
		}
		c.lastRead.Store(time.Now().UnixMilli())
		if r.br == nil || r.br.Buffered() == 0 {
			return true
		}
	}
}

// handle processes one data frame; false ends the connection.
func (r *wsReader) handle(typ int, data []byte) bool {
	c := r.c
	if typ != websocket.TextMessage {
		c.enqueue(&frameError{code: CodeInvalid, msg: "text frames only"})
		return true
	}
	if !r.s.frameLimiter(&r.limits).Allow() {
		c.enqueue(&frameError{id: peekID(data), code: CodeRateLimited, msg: "too many frames; slow down"})
		return true
	}
	return r.s.handleFrame(c, r.session, r.claims, data, &r.limits)
}

// WebSocket control opcodes the reader answers itself.
const (
	opPing = 0x9
	opPong = 0xA
)

// control consumes a ping or pong frame at the head of the read buffer
// (pings are answered through the write queue) and reports whether it did.
// gorilla handles control frames inside NextReader, which then waits for the
// next data frame: a pong answering the server's ping would park a goroutine
// until the client's next message. Anything else, malformed control frames
// included, is left to gorilla.
func (r *wsReader) control() (bool, error) {
	if r.br == nil {
		return false, nil
	}
	h, err := r.br.Peek(2)
	if err != nil {
		return false, err
	}
	op, n := h[0]&0x0F, int(h[1]&0x7F)
	const finNoRSV, masked = 0x80, 0x80
	if (op != opPing && op != opPong) || h[0]&0xF0 != finNoRSV || h[1]&masked == 0 || n > 125 {
		return false, nil
	}
	f, err := r.br.Peek(6 + n)
	if err != nil {
		return false, err
	}
	if op == opPing {
		payload := make([]byte, n)
		for i := range payload {
			payload[i] = f[6+i] ^ f[2+i%4]
		}
		r.c.enqueue(&wsPong{payload: payload})
	}
	_, _ = r.br.Discard(6 + n)
	return true, nil
}

// wsPong is a pong control frame answering the client's ping.
type wsPong struct{ payload []byte }
