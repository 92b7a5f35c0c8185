package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
	"time"
)

const historyPage = 50

// queries runs --queries of each kind, one at a time, at random positions.
func (h *historyRun) queries(ctx context.Context, res *historyResult) error {
	var done atomic.Int64
	h.b.prog.set("query", func() string {
		return fmt.Sprintf("queries %d, wrong answers %d", done.Load(), h.pageErrs.Load())
	})
	var before, after, wsHist, wsSync, resume histogram
	q, last := h.b.cfg.queries, h.last
	for range q {
		s := rnd(2, last+1)
		t0 := time.Now()
		msgs, err := h.b.rest.messages(ctx, h.reader, h.convID, "before="+strconv.FormatInt(s, 10)+"&limit="+strconv.Itoa(historyPage))
		if h.countErr(err) {
			before.RecordSince(t0)
			h.checkRange("REST before="+strconv.FormatInt(s, 10), seqsOf(msgs), max(1, s-historyPage), s-1)
		}
		s = rnd(0, last-1)
		t0 = time.Now()
		msgs, err = h.b.rest.messages(ctx, h.reader, h.convID, "after="+strconv.FormatInt(s, 10)+"&limit="+strconv.Itoa(historyPage))
		if h.countErr(err) {
			after.RecordSince(t0)
			h.checkRange("REST after="+strconv.FormatInt(s, 10), seqsOf(msgs), s+1, min(last, s+historyPage))
		}
		done.Add(2)
	}
	if err := h.wsHistory(ctx, q, &wsHist, &done); err != nil {
		return fail("ws history", err)
	}
	for range q {
		if err := h.resume(ctx, &wsSync, &resume); err != nil {
			return fail("ws resume", err)
		}
		done.Add(1)
	}
	res.RESTBefore, res.RESTAfter, res.WSHistory = before.Summary(), after.Summary(), wsHist.Summary()
	res.WSSync, res.WSResume = wsSync.Summary(), resume.Summary()
	return ctx.Err()
}

// countErr counts a failed query by code; true when err is nil.
func (h *historyRun) countErr(err error) bool {
	if err != nil {
		h.errs.Add(errorCode(err))
		return false
	}
	return true
}

// wsHistory sends q history requests on one connection.
func (h *historyRun) wsHistory(ctx context.Context, q int, lat *histogram, done *atomic.Int64) error {
	evs := make(chan *event, 1024)
	c, err := dialWS(ctx, h.b.target(0), h.b.wsSrc.ip(0), h.reader.Token, h.b.cfg.readyTimeout, func(ev *event) { evs <- ev })
	if err != nil {
		return err
	}
	defer c.close(2 * time.Second)
	pace := time.NewTicker(max(sendInterval(0, h.b.cfg.connRate, 1), time.Microsecond)) // stay under the frame limit
	defer pace.Stop()
	for i := range q {
		<-pace.C
		s := rnd(2, h.last+1)
		id := "h" + strconv.Itoa(i)
		t0 := time.Now()
		if err := c.write(&request{Type: "history", ID: id, ConversationID: h.convID, BeforeSeq: s, Limit: historyPage}); err != nil {
			return err
		}
		ev, err := awaitReply(ctx, evs, id, nil)
		if err != nil {
			return err
		}
		if ev.Type == "error" {
			h.errs.Add(ev.Code)
			continue
		}
		lat.RecordSince(t0)
		h.checkRange("WS history beforeSeq="+strconv.FormatInt(s, 10), seqsOf(ev.Messages), max(1, s-historyPage), s-1)
		done.Add(1)
	}
	return nil
}

// resume opens a fresh connection of the reader and syncs from a random
// point at most 500 messages back, as a client does after a disconnect.
func (h *historyRun) resume(ctx context.Context, syncLat, total *histogram) error {
	evs := make(chan *event, 1024)
	t0 := time.Now()
	c, err := dialWS(ctx, h.b.target(0), h.b.wsSrc.ip(1), h.reader.Token, h.b.cfg.readyTimeout, func(ev *event) {
		select {
		case evs <- ev:
		default: // more than the 500 frames a sync may answer: the check below fails
		}
	})
	if err != nil {
		return err
	}
	defer c.close(2 * time.Second)
	after := rnd(max(0, h.last-500), h.last-1)
	t1 := time.Now()
	if err := c.write(&request{Type: "sync", ID: "s", ConversationID: h.convID, AfterSeq: after}); err != nil {
		return err
	}
	var seqs []int64
	ev, err := awaitReply(ctx, evs, "s", func(m *event) {
		if m.ConversationID == h.convID {
			seqs = append(seqs, m.Seq)
		}
	})
	if err != nil {
		return err
	}
	if ev.Type == "error" {
		h.errs.Add(ev.Code)
		return nil
	}
	syncLat.RecordSince(t1)
	total.RecordSince(t0)
	what := "WS sync afterSeq=" + strconv.FormatInt(after, 10)
	if ev.HasMore || ev.LastSeq != h.last {
		h.pageError("%s: synced lastSeq=%d hasMore=%v, want lastSeq=%d hasMore=false", what, ev.LastSeq, ev.HasMore, h.last)
	}
	h.checkRange(what, seqs, after+1, h.last)
	return nil
}

// awaitReply reads events until the reply (or error) with id, passing
// message frames to onMessage; it gives up after 10 s.
func awaitReply(ctx context.Context, evs <-chan *event, id string, onMessage func(*event)) (*event, error) {
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timeout.C:
			return nil, fmt.Errorf("no reply to request %q in 10s", id)
		case ev := <-evs:
			switch {
			case ev.Type == "message":
				if onMessage != nil {
					onMessage(ev)
				}
			case ev.ID == id, ev.Type == "error" && ev.ID == "":
				// One request is in flight: an error without id (chatd sends
				// rate_limited that way) answers it.
				return ev, nil
			}
		}
	}
}

func (r *historyResult) failures() []string {
	if r.PageErrors > 0 {
		return []string{fmt.Sprintf("%d history/sync answers had wrong seqs (lost, duplicate or out of order)", r.PageErrors)}
	}
	return nil
}

func (r *historyResult) writeText(w io.Writer) {
	fmt.Fprintf(w, "== history: conversation of %d messages (lastSeq %d), %d queries of each kind, %d node(s)\n",
		r.Params.Messages, r.LastSeq, r.Params.Queries, r.Params.Nodes)
	fmt.Fprintf(w, "   fill: %.1fs (%.0f msgs/s), errors: %s\n", r.FillSeconds, r.FillPerSec, formatCounts(r.FillErrors))
	writeLatency(w, "REST before=S", r.RESTBefore)
	writeLatency(w, "REST after=S", r.RESTAfter)
	writeLatency(w, "WS history", r.WSHistory)
	writeLatency(w, "WS sync", r.WSSync)
	writeLatency(w, "WS resume", r.WSResume)
	fmt.Fprintf(w, "   wrong answers %d, errors: %s\n", r.PageErrors, formatCounts(r.ErrorCodes))
	for _, e := range r.Examples {
		fmt.Fprintf(w, "     e.g. %s\n", e)
	}
	writeCPU(w, r.CPU)
	writeVerdict(w, r.Pass)
}
