package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// fanoutMember is one member's connection in one room.
type fanoutMember struct {
	idx    int
	room   int
	client *wsClient
	window chan struct{} // a token per unacked send (senders only)

	// Owned by the reader goroutine; read after it has ended.
	track   seqTracker
	acked   []int64
	foreign int64
}

// fanoutRun is the shared state of one fanout run. Counters are atomics
// because every reader goroutine updates them.
type fanoutRun struct {
	b       *bench
	convIDs []string
	members []*fanoutMember
	perRoom int

	budget       atomic.Int64 // sends left
	sends        atomic.Int64
	replies      atomic.Int64 // acks and errors to sends
	acks         atomic.Int64
	dupAcks      atomic.Int64
	deliveries   atomic.Int64
	lastDelivery atomic.Int64 // unix nanos
	errs         codeCounts
	ackLat       histogram
	delivLat     histogram
}

type fanoutParams struct {
	Rooms    int     `json:"rooms"`
	Members  int     `json:"members"`
	Senders  int     `json:"senders_per_room"`
	Rate     float64 `json:"rate"`
	Window   int     `json:"window"`
	ConnRate float64 `json:"conn_rate"`
	BodySize int     `json:"body_size"`
	Duration string  `json:"duration"`
	Messages int     `json:"messages"`
	Nodes    int     `json:"nodes"`
	Frames   string  `json:"frames"`
}

type fanoutResult struct {
	Scenario string       `json:"scenario"`
	Params   fanoutParams `json:"params"`
	Setup    struct {
		RegisterSeconds float64      `json:"register_s"`
		RoomsSeconds    float64      `json:"rooms_s"`
		Connect         connectStats `json:"connect"`
	} `json:"setup"`
	Sends           int64            `json:"sends"`
	Acks            int64            `json:"acks"`
	DuplicateAcks   int64            `json:"duplicate_acks"`
	Errors          map[string]int64 `json:"errors_by_code"`
	SendSeconds     float64          `json:"send_s"`
	SendsPerSec     float64          `json:"sends_per_s"`
	DeliveredPerSec float64          `json:"delivered_per_s"`
	AckLatency      latencySummary   `json:"send_to_ack"`
	DeliveryLatency latencySummary   `json:"send_to_delivery"`
	invariants
	ClosedByServer map[string]int64 `json:"closed_by_server"`
	Foreign        int64            `json:"foreign_messages"`
	CPU            cpuUse           `json:"cpu"`
	Pass           bool             `json:"pass"`
}

func runFanout(ctx context.Context, b *bench) (result, error) {
	cfg := b.cfg
	m := cfg.membersOr(10)
	senders := cfg.senders
	if senders == 0 || senders > m {
		senders = m
	}
	res := &fanoutResult{Scenario: "fanout", Params: fanoutParams{Rooms: cfg.rooms, Members: m, Senders: senders,
		Rate: cfg.rate, Window: cfg.window, ConnRate: cfg.connRate, BodySize: cfg.bodySize,
		Duration: cfg.duration.String(), Messages: cfg.messagesOr(0), Nodes: len(b.targets), Frames: cfg.frames}}
	f := &fanoutRun{b: b, perRoom: m}
	if err := f.setup(ctx, res); err != nil {
		return nil, err
	}
	budget := int64(res.Params.Messages)
	if budget == 0 {
		budget = math.MaxInt64
	}
	f.budget.Store(budget)
	interval := sendInterval(cfg.rate, cfg.connRate, cfg.rooms*senders)
	cpu0 := sampleCPU(cfg.pid)
	start := time.Now()
	f.send(ctx, senders, interval)
	res.SendSeconds = sinceSec(start)
	f.drain(ctx)
	cpu := cpu0.until(sampleCPU(cfg.pid))
	b.prog.set("close", nil)
	res.ClosedByServer = closeAll(f.clients())
	f.fill(res, start, cpu)
	return res, nil
}

// sendInterval is the time between two sends of one sender: the aggregate
// rate split over the senders, never faster than the per-connection cap.
func sendInterval(rate, connRate float64, senders int) time.Duration {
	var iv time.Duration
	if rate > 0 {
		iv = time.Duration(float64(time.Second) * float64(senders) / rate)
	}
	if connRate > 0 {
		iv = max(iv, time.Duration(float64(time.Second)/connRate))
	}
	return iv
}

func (f *fanoutRun) setup(ctx context.Context, res *fanoutResult) error {
	b, cfg, m := f.b, f.b.cfg, f.perRoom
	t0 := time.Now()
	users, err := b.registerUsers(ctx, cfg.rooms*m, "f")
	if err != nil {
		return fail("register", err)
	}
	res.Setup.RegisterSeconds = sinceSec(t0)
	t0 = time.Now()
	f.convIDs = make([]string, cfg.rooms)
	err = forEach(ctx, cfg.rooms, cfg.concurrency, func(r int) error {
		var err error
		f.convIDs[r], err = b.createRoom(ctx, fmt.Sprintf("fanout %s %d", b.prefix, r), users[r*m:(r+1)*m])
		return err
	})
	if err != nil {
		return fail("create rooms", err)
	}
	res.Setup.RoomsSeconds = sinceSec(t0)
	f.members = make([]*fanoutMember, len(users))
	for i := range f.members {
		f.members[i] = &fanoutMember{idx: i, room: i / m, window: make(chan struct{}, cfg.window)}
	}
	clients, st, err := b.connectAll(ctx, len(users),
		func(i int) string { return users[i].Token },
		func(i int) handler { mem := f.members[i]; return func(ev *event) { f.onEvent(mem, ev) } })
	res.Setup.Connect = st
	if err != nil {
		return fail("connect", err)
	}
	for i, c := range clients {
		f.members[i].client = c
	}
	if st.Connected < len(users) {
		closeAll(clients)
		return fmt.Errorf("connect: only %d of %d members connected (%s)", st.Connected, len(users), formatCounts(st.Failed))
	}
	return nil
}

// onEvent runs on mem's reader goroutine.
func (f *fanoutRun) onEvent(mem *fanoutMember, ev *event) {
	now := time.Now().UnixNano()
	switch ev.Type {
	case "message":
		if ev.ConversationID != f.convIDs[mem.room] {
			mem.foreign++
			return
		}
		f.deliveries.Add(1)
		f.lastDelivery.Store(now)
		mem.track.Observe(ev.Seq)
		if t, _, ok := parseStamp(ev.Body); ok {
			f.delivLat.Record(now - t)
		}
	case "ack":
		f.replies.Add(1)
		f.acks.Add(1)
		if ev.Duplicate {
			f.dupAcks.Add(1)
		}
		if t, err := strconv.ParseInt(ev.ID, 10, 64); err == nil {
			f.ackLat.Record(now - t)
		}
		mem.acked = append(mem.acked, ev.Seq)
		release(mem.window)
	case "error":
		// Every frame we send is a send, so an error is the reply to one of
		// them, even without an id (chatd omits the id on rate_limited).
		f.errs.Add(ev.Code)
		f.replies.Add(1)
		release(mem.window)
	}
}

func release(window chan struct{}) {
	select {
	case <-window:
	default:
	}
}

// send runs one sender goroutine per sending member until --duration ends
// or the send budget is spent.
func (f *fanoutRun) send(ctx context.Context, senders int, interval time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, f.b.cfg.duration)
	defer cancel()
	var meter, dmeter rateMeter
	f.b.prog.set("send", func() string {
		s, d := f.sends.Load(), f.deliveries.Load()
		return fmt.Sprintf("sent %d (%.0f/s) acked %d errors %d in-flight %d delivered %d (%.0f/s)",
			s, meter.rate(s), f.acks.Load(), f.errs.Total(), s-f.replies.Load(), d, dmeter.rate(d))
	})
	var wg sync.WaitGroup
	for _, mem := range f.members {
		if mem.idx%f.perRoom < senders {
			wg.Add(1)
			go func() { defer wg.Done(); f.sendLoop(ctx, mem, interval) }()
		}
	}
	wg.Wait()
}

// sendLoop paces one sender: every interval (0: back to back), once its
// window has room, it sends a message stamped with the send time.
func (f *fanoutRun) sendLoop(ctx context.Context, mem *fanoutMember, interval time.Duration) {
	cfg := f.b.cfg
	timer := time.NewTimer(0)
	defer timer.Stop()
	next := time.Now().Add(time.Duration(rand.Int64N(int64(interval) + 1))) // spread the senders' phases
	for n := 0; ; n++ {
		if interval > 0 {
			timer.Reset(time.Until(next))
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
			next = next.Add(interval)
			if time.Since(next) > time.Second { // do not catch up a long stall in one burst
				next = time.Now()
			}
		}
		select {
		case mem.window <- struct{}{}:
		case <-ctx.Done():
			return
		}
		if f.budget.Add(-1) < 0 {
			return
		}
		now := time.Now().UnixNano()
		cmid := f.b.prefix + "-" + strconv.Itoa(mem.idx) + "-" + strconv.Itoa(n)
		f.sends.Add(1)
		err := mem.client.write(&request{Type: "send", ID: strconv.FormatInt(now, 10), ConversationID: f.convIDs[mem.room],
			ClientMsgID: cmid, Body: bodyStamp(now, cmid, cfg.bodySize)})
		if err != nil {
			f.errs.Add("write_failed")
			f.replies.Add(1)
			return
		}
	}
}

// drain waits (bounded by --drain) until every send is answered and every
// ack delivered to every member.
func (f *fanoutRun) drain(ctx context.Context) {
	deadline := time.Now().Add(f.b.cfg.drain)
	f.b.prog.set("drain", func() string {
		return fmt.Sprintf("waiting: unanswered %d, deliveries %d/%d", f.sends.Load()-f.replies.Load(),
			f.deliveries.Load(), f.acks.Load()*int64(f.perRoom))
	})
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if f.replies.Load() >= f.sends.Load() && f.deliveries.Load() >= f.acks.Load()*int64(f.perRoom) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (f *fanoutRun) clients() []*wsClient {
	out := make([]*wsClient, len(f.members))
	for i, m := range f.members {
		out[i] = m.client
	}
	return out
}

// fill computes the result once every reader has ended.
func (f *fanoutRun) fill(res *fanoutResult, start time.Time, cpu cpuUse) {
	res.Sends, res.Acks, res.DuplicateAcks = f.sends.Load(), f.acks.Load(), f.dupAcks.Load()
	res.Errors = f.errs.Snapshot()
	res.SendsPerSec = roundTo(float64(res.Sends)/res.SendSeconds, 1)
	if last := f.lastDelivery.Load(); last > start.UnixNano() {
		res.DeliveredPerSec = roundTo(float64(f.deliveries.Load())/(float64(last-start.UnixNano())/1e9), 1)
	}
	res.AckLatency, res.DeliveryLatency = f.ackLat.Summary(), f.delivLat.Summary()
	for r := range f.convIDs {
		room := f.members[r*f.perRoom : (r+1)*f.perRoom]
		var acked []int64
		trackers := make([]*seqTracker, len(room))
		for i, m := range room {
			acked = append(acked, m.acked...)
			trackers[i] = &m.track
			res.Foreign += m.foreign
		}
		res.invariants.checkRoom(acked, trackers)
	}
	res.CPU = cpu
	res.Pass = len(res.failures()) == 0
}

func (r *fanoutResult) failures() []string { return r.invariants.failures() }

func (r *fanoutResult) writeText(w io.Writer) {
	p := r.Params
	fmt.Fprintf(w, "== fanout: %d rooms x %d members (%d senders/room), rate %s, window %d, conn-rate %g/s, body %d B, %d node(s), %s frames\n",
		p.Rooms, p.Members, p.Senders, rateText(p.Rate), p.Window, p.ConnRate, p.BodySize, p.Nodes, p.Frames)
	fmt.Fprintf(w, "   setup: register %.1fs, rooms %.1fs, connect %d in %.1fs (%.0f/s)\n",
		r.Setup.RegisterSeconds, r.Setup.RoomsSeconds, r.Setup.Connect.Connected, r.Setup.Connect.Seconds, r.Setup.Connect.PerSecond)
	fmt.Fprintf(w, "   sends %d in %.1fs (%.0f/s), acks %d, duplicate acks %d, errors: %s\n",
		r.Sends, r.SendSeconds, r.SendsPerSec, r.Acks, r.DuplicateAcks, formatCounts(r.Errors))
	fmt.Fprintf(w, "   deliveries expected %d, received %d, delivered %.0f msgs/s\n", r.Expected, r.Received, r.DeliveredPerSec)
	writeLatency(w, "send->ack", r.AckLatency)
	writeLatency(w, "send->delivery", r.DeliveryLatency)
	fmt.Fprintf(w, "   lost %d, duplicates %d, out of order %d, closed by server: %s, foreign %d\n",
		r.Lost, r.Duplicates, r.OutOfOrder, formatCounts(r.ClosedByServer), r.Foreign)
	writeCPU(w, r.CPU)
	writeVerdict(w, r.Pass)
}

func rateText(rate float64) string {
	if rate == 0 {
		return "max"
	}
	return fmt.Sprintf("%g/s", rate)
}

func writeLatency(w io.Writer, name string, s latencySummary) {
	fmt.Fprintf(w, "   %-16s n=%d p50 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms\n",
		name, s.Count, s.P50Ms, s.P99Ms, s.P999Ms, s.MaxMs)
}

func writeCPU(w io.Writer, c cpuUse) {
	server := "? (give --pid)"
	if c.ServerCores > 0 {
		server = fmt.Sprintf("%.2f", c.ServerCores)
	}
	fmt.Fprintf(w, "   cpu (cores busy, of %d): chatbench %.2f, chatd %s; machine load average %.2f\n",
		runtime.NumCPU(), c.BenchCores, server, c.LoadAvg1)
}

func writeVerdict(w io.Writer, pass bool) {
	if pass {
		fmt.Fprintln(w, "   invariants: PASS")
	} else {
		fmt.Fprintln(w, "   invariants: FAIL")
	}
}
