package gateway

import (
	"sync"
)

// writerPool is a server's few writer goroutines, shared by every
// WebSocket (Linux, plain TCP sockets; see Config.WriterPool).
//
// A connection with something to write is handed to the pool once (while
// it waits its turn, more frames join its batch). A pool writer encodes the
// batch and writes it without waiting: a socket whose send buffer is full
// takes part of it, and the rest goes to a goroutine of that connection's own
// (drainRest), which waits for the socket as the per-connection writer
// always did, so a slow client never holds a pool writer. The profile of the
// fanout benchmark showed why: starting a writer goroutine per burst (tens of
// thousands a second) and growing its stack while it encoded cost more CPU
// than the encoding.
type writerPool struct {
	ready chan *wsConn
	quit  chan struct{}
	mu    sync.RWMutex // held for reading while handing over; stop takes it for writing
	done  bool
	wg    sync.WaitGroup
}

// writerPoolQueue bounds the connections waiting for a pool writer; beyond
// it a connection gets a goroutine of its own (a burst to a huge room).
const writerPoolQueue = 16384

// writerPoolRounds is how many batches a pool writer writes for one
// connection before it queues it again behind the others.
const writerPoolRounds = 4

func newWriterPool(writers int) *writerPool {
	p := &writerPool{ready: make(chan *wsConn, writerPoolQueue), quit: make(chan struct{})}
	p.wg.Add(writers)
	for range writers {
		go p.run()
	}
	return p
}

// submit hands c (whose writing flag the caller claimed) to a pool writer;
// false when the queue is full or the pool stopped.
func (p *writerPool) submit(c *wsConn) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.done {
		return false
	}
	select {
	case p.ready <- c:
		return true
	default:
		return false
	}
}

func (p *writerPool) run() {
	defer p.wg.Done()
	var batch []any
	for {
		select {
		case c := <-p.ready:
			batch = c.drainPooled(batch)
		case <-p.quit:
			return
		}
	}
}

// stop ends the pool writers; connections still queued get a writer
// goroutine each. Call it once the connections have ended; later calls do
// nothing.
func (p *writerPool) stop() {
	p.mu.Lock()
	if p.done {
		p.mu.Unlock()
		return
	}
	p.done = true
	p.mu.Unlock()
	close(p.quit)
	p.wg.Wait()
	for {
		select {
		case c := <-p.ready:
			go c.drain()
		default:
			return
		}
	}
}
