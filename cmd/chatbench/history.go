package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

type historyResult struct {
	Scenario string `json:"scenario"`
	Params   struct {
		Messages int `json:"messages"`
		Queries  int `json:"queries"`
		Nodes    int `json:"nodes"`
	} `json:"params"`
	FillSeconds float64          `json:"fill_s"`
	FillPerSec  float64          `json:"fill_per_s"`
	FillErrors  map[string]int64 `json:"fill_errors_by_code"`
	LastSeq     int64            `json:"last_seq"`
	RESTBefore  latencySummary   `json:"rest_page_before"`
	RESTAfter   latencySummary   `json:"rest_page_after"`
	WSHistory   latencySummary   `json:"ws_history"`
	WSSync      latencySummary   `json:"ws_sync"`   // sync request -> synced
	WSResume    latencySummary   `json:"ws_resume"` // dial -> ready -> sync -> synced
	PageErrors  int64            `json:"page_errors"`
	ErrorCodes  map[string]int64 `json:"errors_by_code"`
	Examples    []string         `json:"page_error_examples,omitempty"`
	CPU         cpuUse           `json:"cpu_queries"`
	Pass        bool             `json:"pass"`
}

// historyRun holds the users, the conversation and the checks of one run.
type historyRun struct {
	b        *bench
	owner    *user
	reader   *user
	convID   string
	last     int64
	errs     codeCounts
	mu       sync.Mutex
	pageErrs atomic.Int64
	examples []string
}

// runHistory fills a conversation with --messages messages, then measures
// REST pages (before/after), the WS history request and a WS resume (new
// connection + sync) at random positions, checking every answer's seqs.
func runHistory(ctx context.Context, b *bench) (result, error) {
	cfg := b.cfg
	res := &historyResult{Scenario: "history"}
	n := cfg.messagesOr(2000)
	res.Params.Messages, res.Params.Queries, res.Params.Nodes = n, cfg.queries, len(b.targets)
	users, err := b.registerUsers(ctx, 2, "h")
	if err != nil {
		return nil, fail("register", err)
	}
	h := &historyRun{b: b, owner: users[0], reader: users[1]}
	if h.convID, err = b.createRoom(ctx, "history "+b.prefix, users); err != nil {
		return nil, fail("create room", err)
	}
	t0 := time.Now()
	fillErrs, err := h.fill(ctx, n)
	if err != nil {
		return nil, fail("fill", err)
	}
	res.FillSeconds, res.FillErrors = sinceSec(t0), fillErrs
	res.FillPerSec = roundTo(float64(n)/max(res.FillSeconds, 0.001), 1)
	if h.last, err = h.lastSeq(ctx); err != nil {
		return nil, fail("read lastSeq", err)
	}
	res.LastSeq = h.last
	if h.last < 2 {
		return nil, fmt.Errorf("fill stored only %d messages", h.last)
	}
	cpu0 := sampleCPU(cfg.pid)
	if err := h.queries(ctx, res); err != nil {
		return nil, err
	}
	res.CPU = cpu0.until(sampleCPU(cfg.pid))
	res.PageErrors, res.Examples, res.ErrorCodes = h.pageErrs.Load(), h.examples, h.errs.Snapshot()
	res.Pass = len(res.failures()) == 0
	return res, nil
}

// fill sends n messages from --fill-conns connections of the owner (each
// connection has its own frame-rate budget), --window unacked at a time.
func (h *historyRun) fill(ctx context.Context, n int) (map[string]int64, error) {
	cfg := h.b.cfg
	var budget, acked atomic.Int64
	var errs codeCounts
	budget.Store(int64(n))
	var meter rateMeter
	h.b.prog.set("fill", func() string {
		a := acked.Load()
		return fmt.Sprintf("stored %d/%d (%.0f/s) errors %s", a, n, meter.rate(a), formatCounts(errs.Snapshot()))
	})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	var firstErr error
	var once sync.Once
	for c := range cfg.fillConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.fillConn(ctx, c, &budget, &acked, &errs); err != nil {
				once.Do(func() { firstErr = err })
			}
		}()
	}
	wg.Wait()
	return errs.Snapshot(), firstErr
}

func (h *historyRun) fillConn(ctx context.Context, c int, budget, acked *atomic.Int64, errs *codeCounts) error {
	cfg := h.b.cfg
	window := make(chan struct{}, cfg.window)
	cl, err := dialWS(ctx, h.b.target(c), h.b.wsSrc.ip(c), h.owner.Token, cfg.readyTimeout, func(ev *event) {
		switch ev.Type {
		case "ack":
			acked.Add(1)
			release(window)
		case "error":
			errs.Add(ev.Code)
			release(window)
		}
	})
	if err != nil {
		return err
	}
	defer cl.close(2 * time.Second)
	interval := sendInterval(0, cfg.connRate, 1)
	next := time.Now()
	for i := 0; budget.Add(-1) >= 0; i++ {
		time.Sleep(time.Until(next))
		next = next.Add(interval)
		select {
		case window <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		case <-cl.done:
			return errors.New("connection closed during fill")
		}
		tag := strconv.Itoa(c) + "-" + strconv.Itoa(i)
		if err := cl.write(&request{Type: "send", ID: tag, ConversationID: h.convID, ClientMsgID: h.b.prefix + "-h-" + tag,
			Body: bodyStamp(time.Now().UnixNano(), tag, cfg.bodySize)}); err != nil {
			return err
		}
	}
	for range cfg.window { // wait for the last replies
		select {
		case window <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		case <-cl.done:
			return errors.New("connection closed during fill")
		}
	}
	return nil
}

// lastSeq reads the conversation's lastSeq over REST.
func (h *historyRun) lastSeq(ctx context.Context) (int64, error) {
	msgs, err := h.b.rest.messages(ctx, h.owner, h.convID, "limit=1")
	if err != nil || len(msgs) == 0 {
		return 0, errors.Join(err, errors.New("no messages"))
	}
	return msgs[len(msgs)-1].Seq, nil
}

// pageError records a wrong answer.
func (h *historyRun) pageError(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pageErrs.Add(1)
	if len(h.examples) < 5 {
		h.examples = append(h.examples, fmt.Sprintf(format, args...))
	}
}

// checkRange verifies that seqs are exactly from..to ascending.
func (h *historyRun) checkRange(what string, seqs []int64, from, to int64) {
	if int64(len(seqs)) != max(to-from+1, 0) {
		h.pageError("%s: want seqs %d..%d (%d), got %d", what, from, to, max(to-from+1, 0), len(seqs))
		return
	}
	for i, s := range seqs {
		if s != from+int64(i) {
			h.pageError("%s: want seq %d at %d, got %d", what, from+int64(i), i, s)
			return
		}
	}
}

func seqsOf(msgs []wireMessage) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.Seq
	}
	return out
}

// rnd returns a uniform value in [lo, hi].
func rnd(lo, hi int64) int64 { return lo + rand.Int64N(hi-lo+1) }
