package gateway

import "sync"

// outQueue is a connection's bounded outbound queue. Unlike a buffered
// channel it allocates only what is queued, so an idle connection costs no
// queue memory however large the bound. Any goroutine may push; only the
// connection's writer pops.
type outQueue struct {
	mu     sync.Mutex
	items  []any
	max    int
	ready  chan struct{} // signalled (capacity 1) when items go from empty to non-empty
	closed bool
}

func newOutQueue(max int) *outQueue {
	return &outQueue{max: max, ready: make(chan struct{}, 1)}
}

// push appends ev; false when the queue is full or closed.
func (q *outQueue) push(ev any) bool {
	q.mu.Lock()
	if q.closed || len(q.items) >= q.max {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, ev)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true
}

// take moves every queued event into buf (reset first) and returns it.
func (q *outQueue) take(buf []any) []any {
	buf = buf[:0]
	q.mu.Lock()
	buf = append(buf, q.items...)
	clear(q.items)
	q.items = q.items[:0]
	if cap(q.items) > 64 {
		q.items = nil // let a burst's backing array go
	}
	q.mu.Unlock()
	return buf
}

// close refuses further pushes.
func (q *outQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
}
