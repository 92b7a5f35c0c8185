package main

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// seqTracker checks the live messages of one conversation on one
// connection against the protocol's promise: each seq at most once, in
// ascending order. It is owned by the connection's reader goroutine, then
// read once that goroutine has ended.
type seqTracker struct {
	seen       []uint64 // bitset indexed by seq
	last       int64    // highest seq received
	count      int64    // distinct seqs received
	duplicates int64    // a seq received again
	outOfOrder int64    // a new seq below the highest received
}

// Observe records one received seq (seq >= 1).
func (t *seqTracker) Observe(seq int64) {
	if seq < 0 {
		t.outOfOrder++
		return
	}
	if t.Has(seq) {
		t.duplicates++
		return
	}
	word := int(seq / 64)
	if word >= len(t.seen) {
		grown := max(word+1, 2*len(t.seen))
		t.seen = append(t.seen, make([]uint64, grown-len(t.seen))...)
	}
	t.seen[word] |= 1 << (seq % 64)
	t.count++
	if seq < t.last {
		t.outOfOrder++
	}
	t.last = max(t.last, seq)
}

// Has reports whether seq was received.
func (t *seqTracker) Has(seq int64) bool {
	word := int(seq / 64)
	return seq >= 0 && word < len(t.seen) && t.seen[word]&(1<<(seq%64)) != 0
}

// invariants are the delivery guarantees a run checks.
type invariants struct {
	Expected   int64 `json:"deliveries_expected"`
	Received   int64 `json:"deliveries_received"`
	Lost       int64 `json:"lost"`
	Duplicates int64 `json:"duplicates"`
	OutOfOrder int64 `json:"out_of_order"`
}

// checkRoom adds what the members' trackers of one conversation show for
// the acked seqs: every acked message must reach every member once, in order.
func (v *invariants) checkRoom(acked []int64, members []*seqTracker) {
	for _, t := range members {
		v.Duplicates += t.duplicates
		v.OutOfOrder += t.outOfOrder
		for _, seq := range acked {
			v.Expected++
			if t.Has(seq) {
				v.Received++
			} else {
				v.Lost++
			}
		}
	}
}

// failures lists the broken invariants, empty when all hold.
func (v invariants) failures() []string {
	var out []string
	if v.Lost > 0 {
		out = append(out, fmt.Sprintf("lost=%d (acked but not delivered to a member)", v.Lost))
	}
	if v.Duplicates > 0 {
		out = append(out, fmt.Sprintf("duplicates=%d (same seq twice on one connection)", v.Duplicates))
	}
	if v.OutOfOrder > 0 {
		out = append(out, fmt.Sprintf("out_of_order=%d (seq below one already received)", v.OutOfOrder))
	}
	return out
}

// codeCounts counts events by a short code; safe for concurrent use.
type codeCounts struct {
	mu sync.Mutex
	m  map[string]int64
}

func (c *codeCounts) Add(code string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int64{}
	}
	c.m[code]++
}

// Snapshot copies the counts (nil when empty, so JSON shows {}).
func (c *codeCounts) Snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := maps.Clone(c.m)
	if out == nil {
		out = map[string]int64{}
	}
	return out
}

// Total is the sum of all counts.
func (c *codeCounts) Total() int64 {
	var n int64
	for _, v := range c.Snapshot() {
		n += v
	}
	return n
}

// formatCounts renders counts as "a=1 b=2" in key order, or "none".
func formatCounts(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k + "=" + strconv.FormatInt(m[k], 10))
	}
	return b.String()
}

// bodyStamp builds a message body that carries its send time and a tag,
// padded with 'x' to size bytes: "t=<unixnano> k=<tag> xxx…".
func bodyStamp(sentNanos int64, tag string, size int) string {
	s := "t=" + strconv.FormatInt(sentNanos, 10) + " k=" + tag + " "
	if len(s) < size {
		s += strings.Repeat("x", size-len(s))
	}
	return s
}

// parseStamp reads back what bodyStamp wrote.
func parseStamp(body string) (sentNanos int64, tag string, ok bool) {
	rest, found := strings.CutPrefix(body, "t=")
	if !found {
		return 0, "", false
	}
	ts, rest, found := strings.Cut(rest, " k=")
	if !found {
		return 0, "", false
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return 0, "", false
	}
	tag, _, _ = strings.Cut(rest, " ")
	return n, tag, true
}
