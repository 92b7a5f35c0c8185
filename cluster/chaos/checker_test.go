package chaos

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// t0 is the start of every constructed history.
var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// histBuilder builds a ClientHistory with deliveries numbered in order.
type histBuilder struct{ h *ClientHistory }

func newHist(client int, user string, convs ...string) *histBuilder {
	return &histBuilder{h: &ClientHistory{Client: client, UserID: user, Username: user, Conversations: convs}}
}

func (b *histBuilder) deliver(conn string, inSync bool, ms int, m StoredMessage) *histBuilder {
	b.h.Deliveries = append(b.h.Deliveries, Delivery{Index: len(b.h.Deliveries) + len(b.h.Syncs) + 1, Conn: conn,
		Conversation: m.ConversationID, Seq: m.Seq, MessageID: m.MessageID, SenderID: m.SenderID,
		ClientMsgID: m.ClientMsgID, Body: m.Body, At: at(ms), InSync: inSync})
	return b
}

func (b *histBuilder) synced(conn, conv string, after, last int64, ms int) *histBuilder {
	b.h.Syncs = append(b.h.Syncs, &SyncRecord{ReqID: "y", Conn: conn, Conversation: conv, AfterSeq: after,
		Start: at(ms - 5), End: at(ms), EndIndex: len(b.h.Deliveries) + len(b.h.Syncs) + 1, Result: SyncSynced,
		FromSeq: after, LastSeq: last})
	return b
}

func (b *histBuilder) acked(conv, cmid string, final bool, ms int, m StoredMessage, extra ...*Attempt) *histBuilder {
	a := &Attempt{ReqID: cmid, Conn: "c", Start: at(ms), End: at(ms + 10), Result: ResultAck, Seq: m.Seq, MessageID: m.MessageID}
	s := &Send{Conversation: conv, ClientMsgID: cmid, Final: final, Start: at(ms), Attempts: append(extra, a),
		Outcome: OutcomeAck, Seq: m.Seq, MessageID: m.MessageID, AckedAt: at(ms + 10), DecidedAt: at(ms + 10)}
	b.h.Sends = append(b.h.Sends, s)
	return b
}

func msg(conv string, seq int64, sender, cmid string) StoredMessage {
	return StoredMessage{ConversationID: conv, Seq: seq, MessageID: "m-" + cmid, SenderID: sender, ClientMsgID: cmid, Body: cmid}
}

// validInput is a small history that satisfies every invariant: two users
// in conversation A; u1 lost a connection and re-synced from 0; u2 had one
// send refused; both made a final send after healing.
func validInput() Input {
	m1, m2, m3 := msg("A", 1, "u1", "u1-1"), msg("A", 2, "u2", "u2-1"), msg("A", 3, "u1", "u1-2")
	m4, m5 := msg("A", 4, "u1", "u1-f"), msg("A", 5, "u2", "u2-f")
	timeout := &Attempt{ReqID: "r0", Conn: "c0.1", Start: at(0), End: at(3000), Result: ResultTimeout, TimedOut: true}
	c0 := newHist(0, "u1", "A").
		acked("A", "u1-1", false, 3100, m1, timeout).
		acked("A", "u1-2", false, 3300, m3).
		deliver("c0.1", false, 3110, m1).deliver("c0.1", false, 3210, m2).
		// c0.1 lost before m3 arrived; c0.2 syncs from 0: replay 1..3, then live.
		synced("c0.2", "A", 0, 0, 3400).
		deliver("c0.2", true, 3500, m1).deliver("c0.2", true, 3501, m2).deliver("c0.2", true, 3502, m3).
		synced("c0.2", "A", 0, 3, 3503).
		acked("A", "u1-f", true, 4000, m4).
		deliver("c0.2", false, 4010, m4).deliver("c0.2", false, 4110, m5)
	c0.h.Conns = []*Connection{{ID: "c0.1", Phase: phaseRun}, {ID: "c0.2", Phase: phaseHeal}}
	c1 := newHist(1, "u2", "A").
		acked("A", "u2-1", false, 3200, m2).
		deliver("c1.1", false, 3110, m1).deliver("c1.1", false, 3210, m2).deliver("c1.1", false, 3310, m3).
		synced("c1.1", "A", 3, 3, 3600).
		acked("A", "u2-f", true, 4100, m5).
		deliver("c1.1", false, 4010, m4).deliver("c1.1", false, 4110, m5)
	refused := &Send{Conversation: "A", ClientMsgID: "u2-x", Start: at(3700), Outcome: OutcomeError, Code: "invalid",
		Attempts: []*Attempt{{ReqID: "rx", Conn: "c1.1", Start: at(3700), End: at(3705), Result: ResultError, Code: "invalid"}}}
	c1.h.Sends = append(c1.h.Sends, refused)
	return Input{
		Clients: []*ClientHistory{c0.h, c1.h},
		Members: map[string][]string{"A": {"u1", "u2"}, "B": {"u2"}},
		Store:   map[string][]StoredMessage{"A": {m1, m2, m3, m4, m5}},
		Bound:   30 * time.Second,
	}
}

func flagged(vs []Violation) []string {
	var names []string
	for name := range ByInvariant(vs) {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func TestCheckValidHistoryPasses(t *testing.T) {
	if vs := Check(validInput()); len(vs) != 0 {
		t.Fatalf("valid history flagged: %v", vs)
	}
}

// TestCheckFlagsEachInvariant breaks one invariant at a time; the checker
// must flag exactly that invariant (plus the listed consequences).
func TestCheckFlagsEachInvariant(t *testing.T) {
	client := func(in *Input, i int) *ClientHistory { return in.Clients[i] }
	sendOf := func(in *Input, i int, cmid string) *Send {
		for _, s := range in.Clients[i].Sends {
			if s.ClientMsgID == cmid {
				return s
			}
		}
		t.Fatalf("no send %s", cmid)
		return nil
	}
	cases := []struct {
		name   string
		break_ func(in *Input)
		want   []string
	}{
		{"I1 acked messageId not stored", func(in *Input) {
			a := sendOf(in, 0, "u1-2").Attempts[0]
			a.MessageID = "m-phantom"
		}, []string{I1}},
		{"I1 acked seq beyond the store", func(in *Input) {
			s := sendOf(in, 1, "u2-1")
			s.Attempts[0].Seq = 9
		}, []string{I1}},
		{"I1 late ack of a timed-out attempt not stored", func(in *Input) {
			a := sendOf(in, 0, "u1-1").Attempts[0]
			a.Result, a.Seq, a.MessageID = ResultAck, 1, "m-other"
		}, []string{I1, I4}},
		{"I2 seq stored twice", func(in *Input) {
			dup := msg("A", 2, "u2", "u2-1b")
			in.Store["A"] = slices.Insert(in.Store["A"], 2, dup)
		}, []string{I2}},
		{"I2 gap", func(in *Input) {
			s := in.Store["A"]
			in.Store["A"] = append(s, msg("A", 7, "u1", "u1-ghost"))
		}, []string{I2, I6}},
		{"I2 out of order", func(in *Input) {
			s := in.Store["A"]
			s[1], s[2] = s[2], s[1]
		}, []string{I2}},
		{"I3 delivered twice", func(in *Input) {
			c := client(in, 1)
			d := c.Deliveries[1]
			d.Index = 99
			c.Deliveries = append(c.Deliveries, d)
		}, []string{I3}},
		{"I3 live deliveries reordered", func(in *Input) {
			d := client(in, 1).Deliveries
			d[1].Seq, d[2].Seq = d[2].Seq, d[1].Seq
			d[1].MessageID, d[2].MessageID = d[2].MessageID, d[1].MessageID
		}, []string{I3}},
		{"I3 two receivers saw different messages at one seq", func(in *Input) {
			client(in, 1).Deliveries[1].MessageID = "m-other"
		}, []string{I3}},
		{"I4 clientMsgId stored twice", func(in *Input) {
			m := msg("A", 6, "u1", "u1-1")
			m.MessageID = "m-again"
			in.Store["A"] = append(in.Store["A"], m)
			for _, c := range in.Clients {
				c.Deliveries = append(c.Deliveries, Delivery{Index: 100, Conn: c.Deliveries[len(c.Deliveries)-1].Conn,
					Conversation: "A", Seq: 6, MessageID: "m-again", SenderID: "u1", ClientMsgID: "u1-1"})
			}
		}, []string{I4}},
		{"I5 refused send stored", func(in *Input) {
			m := msg("A", 6, "u2", "u2-x")
			in.Store["A"] = append(in.Store["A"], m)
			for _, c := range in.Clients {
				c.Deliveries = append(c.Deliveries, Delivery{Index: 100, Conn: c.Deliveries[len(c.Deliveries)-1].Conn,
					Conversation: "A", Seq: 6, MessageID: m.MessageID, SenderID: "u2", ClientMsgID: "u2-x"})
			}
		}, []string{I5}},
		{"I6 message never received", func(in *Input) {
			c := client(in, 1)
			c.Deliveries = slices.DeleteFunc(c.Deliveries, func(d Delivery) bool { return d.Seq == 4 })
		}, []string{I6}},
		{"I7 delivery of a foreign conversation", func(in *Input) {
			b := msg("B", 1, "u2", "u2-b")
			in.Store["B"] = []StoredMessage{b}
			c1 := client(in, 1)
			c1.Conversations = append(c1.Conversations, "B")
			c1.Deliveries = append(c1.Deliveries, Delivery{Index: 100, Conn: "c1.1", Conversation: "B", Seq: 1,
				MessageID: b.MessageID, SenderID: "u2", ClientMsgID: "u2-b"})
			c0 := client(in, 0)
			c0.Deliveries = append(c0.Deliveries, Delivery{Index: 100, Conn: "c0.2", Conversation: "B", Seq: 1,
				MessageID: b.MessageID, SenderID: "u2", ClientMsgID: "u2-b"})
		}, []string{I7}},
		{"I8 synced promise broken", func(in *Input) {
			c := client(in, 1)
			c.Syncs = append(c.Syncs, &SyncRecord{Conn: "c1.1", Conversation: "A", AfterSeq: 0, LastSeq: 5,
				Result: SyncSynced, EndIndex: 1})
		}, []string{I8}},
		{"I9 no final send", func(in *Input) {
			c := client(in, 1)
			c.Sends = slices.DeleteFunc(c.Sends, func(s *Send) bool { return s.Final })
		}, []string{I9}},
		{"I9 final send unknown", func(in *Input) {
			s := sendOf(in, 0, "u1-f")
			s.Attempts[0].Result, s.Outcome = ResultTimeout, OutcomeUnknown
		}, []string{I9}},
		{"I9 final send acked too late", func(in *Input) {
			s := sendOf(in, 0, "u1-f")
			s.AckedAt = s.Start.Add(time.Minute)
		}, []string{I9}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := validInput()
			tc.break_(&in)
			vs := Check(in)
			if got := flagged(vs); !slices.Equal(got, tc.want) {
				t.Fatalf("flagged %v, want %v: %v", got, tc.want, vs)
			}
		})
	}
}

// TestCheckI5IgnoresUncertainAttempts: a send refused on its last attempt
// after an unknown one may be stored by the first; that is no violation.
func TestCheckI5IgnoresUncertainAttempts(t *testing.T) {
	in := validInput()
	s := in.Clients[1].Sends[len(in.Clients[1].Sends)-1]
	s.Attempts = append([]*Attempt{{ReqID: "r-lost", Result: ResultLost}}, s.Attempts...)
	in.Store["A"] = append(in.Store["A"], msg("A", 6, "u2", "u2-x"))
	if vs := CheckI5(in); len(vs) != 0 {
		t.Fatalf("flagged: %v", vs)
	}
}

func TestInputSurvivesJSON(t *testing.T) {
	in := validInput()
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var back Input
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if vs := Check(back); len(vs) != 0 {
		t.Fatalf("round-tripped history flagged: %v", vs)
	}
}

func TestFailoverPerKill(t *testing.T) {
	kill := &Fault{Kind: FaultKill, Target: "n1", At: at(1000)}
	next := &Fault{Kind: FaultPause, Target: "n2", At: at(20000)}
	h := newHist(0, "u1", "A", "B", "C")
	ack := func(conv string, start, end int) {
		h.h.Sends = append(h.h.Sends, &Send{Conversation: conv, Attempts: []*Attempt{
			{Start: at(start), End: at(end), Result: ResultAck}}})
	}
	ack("A", 500, 1500)   // started before the kill: ignored
	ack("A", 1100, 3000)  // A: 2s
	ack("A", 1200, 2500)  // A: 1.5s, earlier ack wins
	ack("B", 1300, 6000)  // B: 5s
	ack("C", 2000, 25000) // after the next fault: C censored
	f := failover(Input{Clients: []*ClientHistory{h.h}}, []*Fault{kill, next}, []string{"A", "B", "C"}, at(60000))
	if f.Kills != 1 || f.Censored != 1 {
		t.Fatalf("kills %d censored %d, want 1 and 1", f.Kills, f.Censored)
	}
	if f.PerKill.Max != 5*time.Second || f.All.N != 2 || f.All.P50 != 1500*time.Millisecond {
		t.Fatalf("failover %+v", f)
	}
}

func TestRanges(t *testing.T) {
	if got := ranges([]int64{9, 3, 4, 5, 12, 13, 1}); got != "1,3-5,9,12-13" {
		t.Fatalf("ranges = %q", got)
	}
}

func TestSeqSetContig(t *testing.T) {
	var s seqSet
	for _, seq := range []int64{2, 1, 4, 3, 6} {
		s.add(seq)
	}
	if s.contig != 4 {
		t.Fatalf("contig %d, want 4", s.contig)
	}
}

// TestCheckI6NamesWhatWasMissed: the I6 detail names the missed message, the
// client's last connection and its last sync of the conversation, so a
// failed run tells a sync answered below the message from a lost delivery.
func TestCheckI6NamesWhatWasMissed(t *testing.T) {
	in := validInput()
	c := in.Clients[1]
	c.Deliveries = slices.DeleteFunc(c.Deliveries, func(d Delivery) bool { return d.Seq == 5 })
	vs := CheckI6(in)
	if len(vs) != 1 {
		t.Fatalf("violations %v, want one", vs)
	}
	for _, want := range []string{"seqs 5", `clientMsgId u2-f`, "last sync", "afterSeq 3", "lastSeq 3"} {
		if !strings.Contains(vs[0].Detail, want) {
			t.Errorf("detail %q lacks %q", vs[0].Detail, want)
		}
	}
}
