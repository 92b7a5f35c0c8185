package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
	"time"
)

type bigroomResult struct {
	Scenario string `json:"scenario"`
	Params   struct {
		Members  int    `json:"members"`
		Messages int    `json:"messages"`
		Interval string `json:"interval"`
		BodySize int    `json:"body_size"`
		Nodes    int    `json:"nodes"`
	} `json:"params"`
	Setup struct {
		RegisterSeconds float64      `json:"register_s"`
		RoomSeconds     float64      `json:"room_s"`        // create + add every member via REST
		Added           int64        `json:"members_added"` // through POST …/members (the first 100 come with the create)
		MembersPerSec   float64      `json:"members_added_per_s"`
		AddConflicts    int64        `json:"add_member_conflicts"` // 409 to an add that took effect
		AddRetries      int64        `json:"add_member_retries"`   // after 503/500/transport errors
		Connect         connectStats `json:"connect"`
	} `json:"setup"`
	ConversationID  string           `json:"conversation_id"`
	Sends           int64            `json:"sends"`
	Acks            int64            `json:"acks"`
	Errors          map[string]int64 `json:"errors_by_code"`
	Complete        int64            `json:"complete"` // messages every member received
	AllMembers      latencySummary   `json:"send_to_all_members"`
	DeliveryLatency latencySummary   `json:"send_to_delivery"`
	AckLatency      latencySummary   `json:"send_to_ack"`
	invariants
	ClosedByServer map[string]int64 `json:"closed_by_server"`
	CPU            cpuUse           `json:"cpu"`
	Pass           bool             `json:"pass"`
}

// bigroomRun is the shared state of one bigroom run.
type bigroomRun struct {
	convID   string
	members  int
	counts   []atomic.Int64 // per send: members that have it
	trackers []seqTracker   // per member, owned by its reader
	acked    []int64        // owned by member 0's reader
	complete atomic.Int64
	acks     atomic.Int64
	replies  atomic.Int64 // acks and errors to sends
	errs     codeCounts
	all      histogram
	deliv    histogram
	ack      histogram
}

// runBigroom measures how long a message takes to reach every member of
// one large conversation; member 0 sends --messages messages, one every
// --interval.
func runBigroom(ctx context.Context, b *bench) (result, error) {
	cfg := b.cfg
	res := &bigroomResult{Scenario: "bigroom"}
	m, k := cfg.membersOr(1000), cfg.messagesOr(20)
	if m < 2 || k < 1 {
		return nil, fmt.Errorf("bigroom needs --members >= 2 and --messages >= 1")
	}
	res.Params.Members, res.Params.Messages, res.Params.Interval = m, k, cfg.interval.String()
	res.Params.BodySize, res.Params.Nodes = cfg.bodySize, len(b.targets)
	r := &bigroomRun{members: m, counts: make([]atomic.Int64, k), trackers: make([]seqTracker, m)}
	clients, err := r.setup(ctx, b, res)
	if err != nil {
		return nil, err
	}
	cpu0 := sampleCPU(cfg.pid)
	res.Sends = r.send(ctx, b, clients[0], k)
	r.drain(ctx, b, res.Sends)
	res.CPU = cpu0.until(sampleCPU(cfg.pid))
	b.prog.set("close", nil)
	res.ClosedByServer = closeAll(clients)
	res.Acks, res.Errors, res.Complete = r.acks.Load(), r.errs.Snapshot(), r.complete.Load()
	res.AllMembers, res.DeliveryLatency, res.AckLatency = r.all.Summary(), r.deliv.Summary(), r.ack.Summary()
	trackers := make([]*seqTracker, m)
	for i := range r.trackers {
		trackers[i] = &r.trackers[i]
	}
	res.invariants.checkRoom(r.acked, trackers)
	res.Pass = len(res.failures()) == 0
	return res, nil
}

func (r *bigroomRun) setup(ctx context.Context, b *bench, res *bigroomResult) ([]*wsClient, error) {
	t0 := time.Now()
	users, err := b.registerUsers(ctx, r.members, "b")
	if err != nil {
		return nil, fail("register", err)
	}
	res.Setup.RegisterSeconds = sinceSec(t0)
	t0, added0 := time.Now(), b.added.Load()
	if err := r.room(ctx, b, users); err != nil {
		return nil, fail("create room", err)
	}
	res.ConversationID = r.convID
	res.Setup.RoomSeconds = sinceSec(t0)
	res.Setup.AddConflicts, res.Setup.AddRetries = b.addConflicts.Load(), b.addRetries.Load()
	res.Setup.Added = b.added.Load() - added0
	res.Setup.MembersPerSec = roundTo(float64(res.Setup.Added)/max(res.Setup.RoomSeconds, 0.001), 1)
	clients, st, err := b.connectAll(ctx, r.members,
		func(i int) string { return users[i].Token },
		func(i int) handler { return func(ev *event) { r.onEvent(i, ev) } })
	res.Setup.Connect = st
	if err != nil {
		return nil, fail("connect", err)
	}
	if st.Connected < r.members {
		closeAll(clients)
		return nil, fmt.Errorf("connect: only %d of %d members connected (%s)", st.Connected, r.members, formatCounts(st.Failed))
	}
	return clients, nil
}

// room creates the conversation, or with --room completes an existing one
// with the users that are not members yet.
func (r *bigroomRun) room(ctx context.Context, b *bench, users []*user) error {
	if b.cfg.roomID == "" {
		var err error
		r.convID, err = b.createRoom(ctx, "bigroom "+b.prefix, users)
		return err
	}
	r.convID = b.cfg.roomID
	have, err := b.rest.memberNames(ctx, users[0], r.convID)
	if err != nil {
		return err
	}
	var missing []*user
	for _, u := range users {
		if !have[u.Username] {
			missing = append(missing, u)
		}
	}
	return b.addMembers(ctx, users[0], r.convID, missing)
}

// onEvent runs on member i's reader goroutine.
func (r *bigroomRun) onEvent(i int, ev *event) {
	now := time.Now().UnixNano()
	switch ev.Type {
	case "message":
		if ev.ConversationID != r.convID {
			return
		}
		r.trackers[i].Observe(ev.Seq)
		t, tag, ok := parseStamp(ev.Body)
		if !ok {
			return
		}
		r.deliv.Record(now - t)
		if k, err := strconv.Atoi(tag); err == nil && k >= 0 && k < len(r.counts) {
			if r.counts[k].Add(1) == int64(r.members) {
				r.all.Record(now - t)
				r.complete.Add(1)
			}
		}
	case "ack":
		r.replies.Add(1)
		r.acks.Add(1)
		r.acked = append(r.acked, ev.Seq)
		if t, err := strconv.ParseInt(ev.ID, 10, 64); err == nil {
			r.ack.Record(now - t)
		}
	case "error":
		r.errs.Add(ev.Code)
		r.replies.Add(1) // only sends go out: an error answers one, with or without id
	}
}

// send sends k messages from c, one every --interval; it returns how many went out.
func (r *bigroomRun) send(ctx context.Context, b *bench, c *wsClient, k int) int64 {
	var sent atomic.Int64
	b.prog.set("send", func() string {
		return fmt.Sprintf("sent %d/%d, complete %d, acked %d", sent.Load(), k, r.complete.Load(), r.acks.Load())
	})
	tick := time.NewTicker(b.cfg.interval)
	defer tick.Stop()
	for i := range k {
		now := time.Now().UnixNano()
		tag := strconv.Itoa(i)
		err := c.write(&request{Type: "send", ID: strconv.FormatInt(now, 10), ConversationID: r.convID,
			ClientMsgID: b.prefix + "-big-" + tag, Body: bodyStamp(now, tag, b.cfg.bodySize)})
		if err != nil {
			r.errs.Add("write_failed")
			break
		}
		sent.Add(1)
		select {
		case <-ctx.Done():
			return sent.Load()
		case <-tick.C:
		}
	}
	return sent.Load()
}

// drain waits (bounded by --drain) until every acked message reached every member.
func (r *bigroomRun) drain(ctx context.Context, b *bench, sent int64) {
	deadline := time.Now().Add(b.cfg.drain)
	b.prog.set("drain", func() string {
		return fmt.Sprintf("complete %d of %d acked", r.complete.Load(), r.acks.Load())
	})
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if r.replies.Load() >= sent && r.complete.Load() >= r.acks.Load() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *bigroomResult) failures() []string { return r.invariants.failures() }

func (r *bigroomResult) writeText(w io.Writer) {
	s := r.Setup
	fmt.Fprintf(w, "== bigroom: %d members, %d messages every %s, body %d B, %d node(s)\n",
		r.Params.Members, r.Params.Messages, r.Params.Interval, r.Params.BodySize, r.Params.Nodes)
	fmt.Fprintf(w, "   setup: register %.1fs, create room + add %d members %.1fs (%.0f/s, %d answered 409 although added, %d retried), connect %d in %.1fs (%.0f/s)\n",
		s.RegisterSeconds, s.Added, s.RoomSeconds, s.MembersPerSec, s.AddConflicts, s.AddRetries, s.Connect.Connected, s.Connect.Seconds, s.Connect.PerSecond)
	fmt.Fprintf(w, "   conversation %s (reuse with --room)\n", r.ConversationID)
	fmt.Fprintf(w, "   sends %d, acks %d, errors: %s, reached every member: %d\n", r.Sends, r.Acks, formatCounts(r.Errors), r.Complete)
	writeLatency(w, "send->all", r.AllMembers)
	writeLatency(w, "send->delivery", r.DeliveryLatency)
	writeLatency(w, "send->ack", r.AckLatency)
	fmt.Fprintf(w, "   deliveries expected %d, received %d; lost %d, duplicates %d, out of order %d; closed by server: %s\n",
		r.Expected, r.Received, r.Lost, r.Duplicates, r.OutOfOrder, formatCounts(r.ClosedByServer))
	writeCPU(w, r.CPU)
	writeVerdict(w, r.Pass)
}
