package gateway

// outQueue is a connection's bounded outbound queue. It allocates only what
// is queued, so an idle connection costs no queue memory however large the
// bound. It is not synchronised: wsConn guards it with its mutex.
type outQueue struct {
	items []any
	max   int
}

// push appends ev; false when the queue already holds limit events.
func (q *outQueue) push(ev any, limit int) bool {
	if len(q.items) >= limit {
		return false
	}
	q.items = append(q.items, ev)
	return true
}

// take moves every queued event into buf (reset first) and returns it.
func (q *outQueue) take(buf []any) []any {
	buf = append(buf[:0], q.items...)
	clear(q.items)
	q.items = q.items[:0]
	if cap(q.items) > 64 {
		q.items = nil // let a burst's backing array go
	}
	return buf
}
