package main

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/actorchat/engine/gateway/wirepb"
)

func TestHistogramBucketsCoverEveryValue(t *testing.T) {
	values := []int64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 20, 1<<40 + 12345, 1<<62 + 1}
	for range 10000 {
		values = append(values, rand.Int64N(1<<50))
	}
	for _, v := range values {
		i := histIndex(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("histIndex(%d) = %d, outside [0, %d)", v, i, histBuckets)
		}
		if up := histUpper(i); up < v {
			t.Fatalf("value %d in bucket %d whose upper bound is %d", v, i, up)
		}
		if i > 0 && histUpper(i-1) >= v {
			t.Fatalf("value %d in bucket %d but bucket %d already reaches %d", v, i, i-1, histUpper(i-1))
		}
		if v >= histSub && float64(histUpper(i)-v) > float64(v)/histSub {
			t.Fatalf("value %d reported as %d: more than 1/%d off", v, histUpper(i), histSub)
		}
	}
}

func TestHistogramQuantilesMatchSortedSamples(t *testing.T) {
	var h histogram
	samples := make([]int64, 0, 20000)
	for range 20000 {
		v := int64(rand.ExpFloat64() * float64(2*time.Millisecond)) // latency-like: long tail
		samples = append(samples, v)
		h.Record(v)
	}
	slices.Sort(samples)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := samples[int(q*float64(len(samples)))-1]
		got := h.Quantile(q)
		if got < exact || float64(got-exact) > float64(exact)/histSub+1 {
			t.Errorf("q%.3f: got %d, exact %d (allowed up to +%.2f%%)", q, got, exact, 100.0/histSub)
		}
	}
	if h.Max() != samples[len(samples)-1] || h.Quantile(1) != h.Max() {
		t.Errorf("max: got %d and q1 %d, want %d", h.Max(), h.Quantile(1), samples[len(samples)-1])
	}
	if h.Count() != uint64(len(samples)) {
		t.Errorf("count %d, want %d", h.Count(), len(samples))
	}
	var empty histogram
	if s := empty.Summary(); s.Count != 0 || s.P99Ms != 0 || s.MaxMs != 0 {
		t.Errorf("empty histogram summary %+v, want zeros", s)
	}
}

func TestHistogramSummaryInMilliseconds(t *testing.T) {
	var h histogram
	for _, ms := range []int64{1, 2, 3, 4, 100} {
		h.Record(ms * int64(time.Millisecond))
	}
	h.Record(-5) // clock skew: counted as 0
	s := h.Summary()
	if s.Count != 6 || s.MaxMs != 100 || s.P50Ms < 2 || s.P50Ms > 2.02 {
		t.Errorf("summary %+v: want count 6, p50 ~2 ms, max 100 ms", s)
	}
}

func TestSeqTrackerFindsDuplicatesAndDisorder(t *testing.T) {
	var tr seqTracker
	for _, s := range []int64{1, 2, 2, 4, 3, 200, 5, 4} {
		tr.Observe(s)
	}
	// 2 and 4 again: duplicates; 3 after 4 and 5 after 200: out of order.
	if tr.duplicates != 2 || tr.outOfOrder != 2 || tr.count != 6 {
		t.Fatalf("duplicates %d, out of order %d, distinct %d; want 2, 2, 6", tr.duplicates, tr.outOfOrder, tr.count)
	}
	for _, s := range []int64{1, 2, 3, 4, 5, 200} {
		if !tr.Has(s) {
			t.Errorf("Has(%d) = false after receiving it", s)
		}
	}
	for _, s := range []int64{0, 6, 199, 201, 100000, -1} {
		if tr.Has(s) {
			t.Errorf("Has(%d) = true, never received", s)
		}
	}
}

func TestInvariantsFailOnConstructedFaults(t *testing.T) {
	track := func(seqs ...int64) *seqTracker {
		var tr seqTracker
		for _, s := range seqs {
			tr.Observe(s)
		}
		return &tr
	}
	acked := []int64{1, 2, 3, 4}
	tests := []struct {
		name    string
		members []*seqTracker
		want    []string // substrings of the failures, in order; none = pass
	}{
		{"all delivered in order", []*seqTracker{track(1, 2, 3, 4), track(1, 2, 3, 4)}, nil},
		{"unacked extra seq is fine", []*seqTracker{track(1, 2, 3, 4, 5)}, nil},
		{"one member misses one", []*seqTracker{track(1, 2, 3, 4), track(1, 2, 4)}, []string{"lost=1"}},
		{"duplicate", []*seqTracker{track(1, 2, 2, 3, 4)}, []string{"duplicates=1"}},
		{"out of order", []*seqTracker{track(1, 3, 2, 4)}, []string{"out_of_order=1"}},
		{"everything wrong", []*seqTracker{track(2, 1, 1)}, []string{"lost=2", "duplicates=1", "out_of_order=1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v invariants
			v.checkRoom(acked, tc.members)
			got := v.failures()
			if len(got) != len(tc.want) {
				t.Fatalf("failures %q, want %d matching %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("failure %d = %q, want it to contain %q", i, got[i], w)
				}
			}
			if v.Expected != int64(len(acked)*len(tc.members)) || v.Received+v.Lost != v.Expected {
				t.Errorf("expected %d received %d lost %d do not add up", v.Expected, v.Received, v.Lost)
			}
		})
	}
}

func TestBodyStampRoundTrip(t *testing.T) {
	b := bodyStamp(1732294540443000123, "cbabcd-17-42", 64)
	if len(b) != 64 {
		t.Errorf("body length %d, want 64", len(b))
	}
	ts, tag, ok := parseStamp(b)
	if !ok || ts != 1732294540443000123 || tag != "cbabcd-17-42" {
		t.Errorf("parseStamp(%q) = %d, %q, %v", b, ts, tag, ok)
	}
	for _, bad := range []string{"", "hello", "t=x k=1", "t=12"} {
		if _, _, ok := parseStamp(bad); ok {
			t.Errorf("parseStamp(%q) accepted a body without a stamp", bad)
		}
	}
}

func TestParseTargetsAcceptsOnlyLoopback(t *testing.T) {
	ts, err := parseTargets("http://127.0.0.1:8080, http://localhost:8081,http://[::1]:8082")
	if err != nil || len(ts) != 3 {
		t.Fatalf("parseTargets: %v, %d targets", err, len(ts))
	}
	if ts[1].ws != "ws://127.0.0.1:8081/ws" || !ts[0].ipv4 || ts[2].ipv4 {
		t.Errorf("targets %+v", ts)
	}
	for _, bad := range []string{"http://10.0.0.1:8080", "http://example.com", "ftp://127.0.0.1", "", "http://192.168.1.5:80"} {
		if _, err := parseTargets(bad); err == nil {
			t.Errorf("parseTargets(%q) accepted a non-loopback or malformed URL", bad)
		}
	}
}

func TestSourceAddressesAreDistinctLoopback(t *testing.T) {
	p := addrPool{second: 42}
	seen := map[string]bool{}
	for i := range 3000 {
		a := p.ip(i)
		if !a.IsLoopback() || seen[a.String()] {
			t.Fatalf("ip(%d) = %s: not loopback or repeated", i, a)
		}
		seen[a.String()] = true
	}
}

func TestSendInterval(t *testing.T) {
	tests := []struct {
		rate, connRate float64
		senders        int
		want           time.Duration
	}{
		{0, 0, 10, 0},
		{0, 50, 10, 20 * time.Millisecond},
		{100, 0, 10, 100 * time.Millisecond},
		{10000, 50, 100, 20 * time.Millisecond}, // the cap wins
	}
	for _, tc := range tests {
		if got := sendInterval(tc.rate, tc.connRate, tc.senders); got != tc.want {
			t.Errorf("sendInterval(%v, %v, %d) = %v, want %v", tc.rate, tc.connRate, tc.senders, got, tc.want)
		}
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"nosuch"},
		{"fanout", "--url", "http://10.1.2.3:8080"},
		{"fanout", "--window", "0"},
		{"connections", "--conns", "30000"},
	} {
		var out, errOut strings.Builder
		if code := run(args, &out, &errOut); code != 2 {
			t.Errorf("run(%q) = %d, want 2 (stderr %q)", args, code, errOut.String())
		}
	}
}

// TestDecodeBinary: binary message and ack frames decode to the events
// their JSON twins give; garbage is an error.
func TestDecodeBinary(t *testing.T) {
	msg, _ := proto.Marshal(&wirepb.ServerFrame{Frame: &wirepb.ServerFrame_Message{Message: &wirepb.Message{
		ConversationId: "c1", Seq: 7, ClientMsgId: "k7", Body: "t=1 k=x"}}})
	ev, err := decodeBinary(msg)
	if err != nil || ev.Type != "message" || ev.ConversationID != "c1" || ev.Seq != 7 || ev.ClientMsgID != "k7" || ev.Body != "t=1 k=x" {
		t.Fatalf("message: %+v, %v", ev, err)
	}
	ack, _ := proto.Marshal(&wirepb.ServerFrame{Frame: &wirepb.ServerFrame_Ack{Ack: &wirepb.Ack{
		Id: "r1", ConversationId: "c1", Seq: 7, ClientMsgId: "k7", Duplicate: true}}})
	ev, err = decodeBinary(ack)
	if err != nil || ev.Type != "ack" || ev.ID != "r1" || ev.Seq != 7 || !ev.Duplicate {
		t.Fatalf("ack: %+v, %v", ev, err)
	}
	if _, err := decodeBinary([]byte{0xff, 0xff, 0xff}); err == nil {
		t.Fatal("garbage decoded")
	}
	// Every field set, as chatd sends them: the fields the tool does not
	// read are skipped, whatever their wire type.
	full, _ := proto.Marshal(&wirepb.ServerFrame{Frame: &wirepb.ServerFrame_Message{Message: &wirepb.Message{
		ConversationId: "c2", Seq: 1 << 40, MessageId: "m", SenderId: "u", ClientMsgId: "k", Body: "b", CreatedAtMs: 1700000000000,
		Kind: "message", TargetSeq: 3, SubjectId: "s", Deleted: true, EditedAtMs: 5, Attachments: []string{"a1", "a2"}}}})
	ev, err = decodeBinary(full)
	if err != nil || ev.Type != "message" || ev.ConversationID != "c2" || ev.Seq != 1<<40 || ev.ClientMsgID != "k" || ev.Body != "b" {
		t.Fatalf("full message: %+v, %v", ev, err)
	}
	for cut := 1; cut < len(full); cut++ { // a frame cut short is an error, never a partial event
		if ev, err := decodeBinary(full[:cut]); err == nil {
			t.Fatalf("frame cut at %d of %d decoded: %+v", cut, len(full), ev)
		}
	}
}

// TestFloorScenario: the floor scenario needs no server, reads every frame
// of every round and reports one measurement per round.
func TestFloorScenario(t *testing.T) {
	var out, errOut strings.Builder
	if code := run([]string{"floor", "--members", "50", "--messages", "3", "--interval", "1ms", "--quiet"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var res struct {
		Scenario   string
		AllSockets latencySummary `json:"write_to_all_read"`
		Missing    int64
	}
	line := out.String()[strings.LastIndex(strings.TrimSpace(out.String()), "\n")+1:]
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatalf("last line %q: %v", line, err)
	}
	if res.Scenario != "floor" || res.AllSockets.Count != 3 || res.Missing != 0 || res.AllSockets.MaxMs <= 0 {
		t.Fatalf("result %+v, want 3 rounds, nothing missing", res)
	}
}
