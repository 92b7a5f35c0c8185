package chaos

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Input is everything the checker looks at: the clients' histories, the
// static membership and the final store contents (read through REST).
type Input struct {
	Clients []*ClientHistory           `json:"clients"`
	Members map[string][]string        `json:"members"` // conversation -> user ids
	Store   map[string][]StoredMessage `json:"store"`   // conversation -> messages in REST order
	Bound   time.Duration              `json:"finalBound"`
}

// Invariant names.
const (
	I1 = "I1" // every acknowledged message is stored at its acked seq
	I2 = "I2" // seqs unique and gap-free 1..N per conversation
	I3 = "I3" // per connection: no seq twice, live ascending; one messageId per (conversation, seq)
	I4 = "I4" // a clientMsgId is stored once; its acks agree
	I5 = "I5" // a send refused definitively is not stored
	I6 = "I6" // after the final sync every client holds every stored message of its conversations
	I7 = "I7" // no delivery of a conversation the user is not a member of
	I8 = "I8" // a synced frame's promise holds: (afterSeq, lastSeq] delivered on that connection
	I9 = "I9" // after healing every client's final send is acknowledged within the bound
)

// Invariants lists every invariant with its statement, in report order.
var Invariants = []struct{ Name, Text string }{
	{I1, "every acknowledged message is in the final history at its acked seq"},
	{I2, "seqs are unique and gap-free 1..N per conversation"},
	{I3, "per connection and conversation no seq twice and live deliveries ascending; every receiver saw the store's messageId for a (conversation, seq)"},
	{I4, "a retried clientMsgId is stored once and all its acks agree"},
	{I5, "a send answered only with definitive errors is never stored"},
	{I6, "after the final sync every client has received every stored message of its conversations"},
	{I7, "no client received a message of a conversation it is not a member of"},
	{I8, "after synced (hasMore false) every seq in (afterSeq, lastSeq] was delivered on that connection"},
	{I9, "after healing every client's final send is acknowledged within the bound"},
}

// Violation is one broken invariant with its evidence.
type Violation struct {
	Invariant    string    `json:"invariant"`
	Conversation string    `json:"conversation,omitempty"`
	Seq          int64     `json:"seq,omitempty"`
	Client       int       `json:"client"`
	Conn         string    `json:"conn,omitempty"`
	ClientMsgID  string    `json:"clientMsgId,omitempty"`
	At           time.Time `json:"at"`
	Detail       string    `json:"detail"`
}

// String is the violation on one line, with its evidence.
func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", v.Invariant)
	if v.Conversation != "" {
		fmt.Fprintf(&b, " conv=%s", v.Conversation)
	}
	if v.Seq != 0 {
		fmt.Fprintf(&b, " seq=%d", v.Seq)
	}
	if v.Client >= 0 {
		fmt.Fprintf(&b, " client=%d", v.Client)
	}
	if v.Conn != "" {
		fmt.Fprintf(&b, " conn=%s", v.Conn)
	}
	if v.ClientMsgID != "" {
		fmt.Fprintf(&b, " clientMsgId=%s", v.ClientMsgID)
	}
	if !v.At.IsZero() {
		fmt.Fprintf(&b, " at=%s", v.At.UTC().Format("15:04:05.000"))
	}
	return b.String() + ": " + v.Detail
}

// Check runs every invariant and returns all violations.
func Check(in Input) []Violation {
	var out []Violation
	for _, fn := range []func(Input) []Violation{CheckI1, CheckI2, CheckI3, CheckI4, CheckI5, CheckI6, CheckI7, CheckI8, CheckI9} {
		out = append(out, fn(in)...)
	}
	return out
}

// storeIndex maps conversation -> seq -> the first stored message with that seq.
func storeIndex(in Input) map[string]map[int64]StoredMessage {
	idx := map[string]map[int64]StoredMessage{}
	for conv, msgs := range in.Store {
		m := map[int64]StoredMessage{}
		for _, s := range msgs {
			if _, dup := m[s.Seq]; !dup {
				m[s.Seq] = s
			}
		}
		idx[conv] = m
	}
	return idx
}

// CheckI1: every acked attempt's (seq, messageId) is in the store.
func CheckI1(in Input) []Violation {
	idx := storeIndex(in)
	var out []Violation
	for _, h := range in.Clients {
		for _, s := range h.Sends {
			for _, a := range s.Attempts {
				if a.Result != ResultAck {
					continue
				}
				got, ok := idx[s.Conversation][a.Seq]
				switch {
				case !ok:
					out = append(out, Violation{Invariant: I1, Conversation: s.Conversation, Seq: a.Seq, Client: h.Client,
						Conn: a.Conn, ClientMsgID: s.ClientMsgID, At: a.End,
						Detail: fmt.Sprintf("acked (messageId %s, request %s) but the store has no seq %d", a.MessageID, a.ReqID, a.Seq)})
				case got.MessageID != a.MessageID || got.ClientMsgID != s.ClientMsgID || got.SenderID != h.UserID:
					out = append(out, Violation{Invariant: I1, Conversation: s.Conversation, Seq: a.Seq, Client: h.Client,
						Conn: a.Conn, ClientMsgID: s.ClientMsgID, At: a.End,
						Detail: fmt.Sprintf("acked as messageId %s but the store holds messageId %s (clientMsgId %s, sender %s) at seq %d",
							a.MessageID, got.MessageID, got.ClientMsgID, got.SenderID, a.Seq)})
				}
			}
		}
	}
	return out
}

// CheckI2: the store's seqs of each conversation are exactly 1..N, in order.
func CheckI2(in Input) []Violation {
	var out []Violation
	for _, conv := range sortedKeys(in.Store) {
		want := int64(1)
		seen := map[int64]bool{}
		for _, m := range in.Store[conv] {
			switch {
			case m.ConversationID != conv:
				out = append(out, Violation{Invariant: I2, Conversation: conv, Seq: m.Seq, Client: -1,
					Detail: fmt.Sprintf("page of %s returned a message of %s", conv, m.ConversationID)})
			case seen[m.Seq]:
				out = append(out, Violation{Invariant: I2, Conversation: conv, Seq: m.Seq, Client: -1,
					Detail: fmt.Sprintf("seq %d stored twice (messageId %s)", m.Seq, m.MessageID)})
			case m.Seq > want:
				out = append(out, Violation{Invariant: I2, Conversation: conv, Seq: want, Client: -1,
					Detail: fmt.Sprintf("gap: seqs %d..%d missing", want, m.Seq-1)})
			case m.Seq < want:
				out = append(out, Violation{Invariant: I2, Conversation: conv, Seq: m.Seq, Client: -1,
					Detail: fmt.Sprintf("seq %d out of order after %d", m.Seq, want-1)})
			}
			seen[m.Seq] = true
			want = max(want, m.Seq+1)
		}
	}
	return out
}

// CheckI3: per connection and conversation no seq twice and live
// deliveries above everything delivered before; every delivery of a
// (conversation, seq) carries the same messageId, the store's.
func CheckI3(in Input) []Violation {
	idx := storeIndex(in)
	type key struct{ conn, conv string }
	type first struct {
		id     string
		client int
		conn   string
	}
	var out []Violation
	ids := map[string]map[int64]first{}
	for _, h := range in.Clients {
		seen := map[key]map[int64]bool{}
		top := map[key]int64{}
		for _, d := range h.Deliveries {
			k := key{d.Conn, d.Conversation}
			if seen[k] == nil {
				seen[k] = map[int64]bool{}
			}
			v := Violation{Invariant: I3, Conversation: d.Conversation, Seq: d.Seq, Client: h.Client, Conn: d.Conn,
				ClientMsgID: d.ClientMsgID, At: d.At}
			switch {
			case seen[k][d.Seq]:
				v.Detail = "delivered twice on one connection"
				out = append(out, v)
			case !d.InSync && d.Seq <= top[k]:
				v.Detail = fmt.Sprintf("live delivery out of order: seq %d after seq %d", d.Seq, top[k])
				out = append(out, v)
			}
			seen[k][d.Seq] = true
			top[k] = max(top[k], d.Seq)
			if ids[d.Conversation] == nil {
				ids[d.Conversation] = map[int64]first{}
			}
			if f, ok := ids[d.Conversation][d.Seq]; !ok {
				ids[d.Conversation][d.Seq] = first{d.MessageID, h.Client, d.Conn}
			} else if f.id != d.MessageID {
				v.Detail = fmt.Sprintf("messageId %s, but client %d saw %s on %s", d.MessageID, f.client, f.id, f.conn)
				out = append(out, v)
			}
			if st, ok := idx[d.Conversation][d.Seq]; !ok {
				v.Detail = "delivered but not in the store"
				out = append(out, v)
			} else if st.MessageID != d.MessageID {
				v.Detail = fmt.Sprintf("delivered messageId %s, the store holds %s", d.MessageID, st.MessageID)
				out = append(out, v)
			}
		}
	}
	return out
}

// CheckI4: no (conversation, sender, clientMsgId) stored twice; every ack
// of one send names the same seq and messageId.
func CheckI4(in Input) []Violation {
	var out []Violation
	for _, conv := range sortedKeys(in.Store) {
		seen := map[string]int64{}
		for _, m := range in.Store[conv] {
			k := m.SenderID + "\x00" + m.ClientMsgID
			if s, dup := seen[k]; dup {
				out = append(out, Violation{Invariant: I4, Conversation: conv, Seq: m.Seq, Client: -1, ClientMsgID: m.ClientMsgID,
					Detail: fmt.Sprintf("clientMsgId of sender %s stored at seq %d and again at seq %d", m.SenderID, s, m.Seq)})
				continue
			}
			seen[k] = m.Seq
		}
	}
	for _, h := range in.Clients {
		for _, s := range h.Sends {
			var ref *Attempt
			for _, a := range s.Attempts {
				if a.Result != ResultAck {
					continue
				}
				if ref == nil {
					ref = a
				} else if a.Seq != ref.Seq || a.MessageID != ref.MessageID {
					out = append(out, Violation{Invariant: I4, Conversation: s.Conversation, Seq: a.Seq, Client: h.Client,
						Conn: a.Conn, ClientMsgID: s.ClientMsgID, At: a.End,
						Detail: fmt.Sprintf("acked as seq %d/%s and as seq %d/%s", ref.Seq, ref.MessageID, a.Seq, a.MessageID)})
				}
			}
		}
	}
	return out
}

// CheckI5: a send whose every attempt got a definitive error (not
// unavailable, no timeout, no lost connection) is not in the store.
func CheckI5(in Input) []Violation {
	stored := map[string]StoredMessage{}
	for conv, msgs := range in.Store {
		for _, m := range msgs {
			stored[conv+"\x00"+m.SenderID+"\x00"+m.ClientMsgID] = m
		}
	}
	var out []Violation
	for _, h := range in.Clients {
		for _, s := range h.Sends {
			if len(s.Attempts) == 0 || !allDefinitive(s) {
				continue
			}
			if m, ok := stored[s.Conversation+"\x00"+h.UserID+"\x00"+s.ClientMsgID]; ok {
				out = append(out, Violation{Invariant: I5, Conversation: s.Conversation, Seq: m.Seq, Client: h.Client,
					ClientMsgID: s.ClientMsgID, At: s.DecidedAt,
					Detail: fmt.Sprintf("refused with %q on every attempt, yet stored at seq %d", s.Code, m.Seq)})
			}
		}
	}
	return out
}

func allDefinitive(s *Send) bool {
	for _, a := range s.Attempts {
		if a.Result != ResultError || a.Code == "unavailable" {
			return false
		}
	}
	return true
}

// CheckI6: every non-probe client received, over all its connections, every
// stored seq of each of its conversations.
func CheckI6(in Input) []Violation {
	var out []Violation
	for _, h := range in.Clients {
		if h.Probe {
			continue
		}
		got := map[string]map[int64]bool{}
		for _, d := range h.Deliveries {
			if got[d.Conversation] == nil {
				got[d.Conversation] = map[int64]bool{}
			}
			got[d.Conversation][d.Seq] = true
		}
		for _, conv := range h.Conversations {
			var missing []int64
			for _, m := range in.Store[conv] {
				if !got[conv][m.Seq] {
					missing = append(missing, m.Seq)
				}
			}
			if len(missing) > 0 {
				out = append(out, Violation{Invariant: I6, Conversation: conv, Seq: missing[0], Client: h.Client,
					Detail: fmt.Sprintf("%d stored messages never received: seqs %s%s", len(missing), ranges(missing),
						missedContext(h, in.Store[conv], conv, missing[0]))})
			}
		}
	}
	return out
}

// missedContext describes, for a message a client never received, the
// message, the client's last connection and its last sync of the
// conversation: enough to tell a sync answered below the message from a
// delivery lost after it.
func missedContext(h *ClientHistory, stored []StoredMessage, conv string, seq int64) string {
	var b strings.Builder
	for _, m := range stored {
		if m.Seq == seq {
			fmt.Fprintf(&b, "; seq %d is %q (clientMsgId %s, created %s)", seq, m.Body, m.ClientMsgID, m.CreatedAt)
		}
	}
	if n := len(h.Conns); n > 0 {
		c := h.Conns[n-1]
		fmt.Fprintf(&b, "; last connection %s to n%d (%s) opened %s", c.ID, c.Node+1, c.Phase, c.Opened.Format("15:04:05.000"))
	}
	for i := len(h.Syncs) - 1; i >= 0; i-- {
		if r := h.Syncs[i]; r.Conversation == conv {
			fmt.Fprintf(&b, "; last sync %s on %s: afterSeq %d, %s lastSeq %d at %s", r.ReqID, r.Conn, r.AfterSeq,
				r.Result, r.LastSeq, r.End.Format("15:04:05.000"))
			break
		}
	}
	return b.String()
}

// CheckI7: deliveries only of conversations the client's user belongs to.
func CheckI7(in Input) []Violation {
	var out []Violation
	for _, h := range in.Clients {
		for _, d := range h.Deliveries {
			if !contains(in.Members[d.Conversation], h.UserID) {
				out = append(out, Violation{Invariant: I7, Conversation: d.Conversation, Seq: d.Seq, Client: h.Client,
					Conn: d.Conn, At: d.At, Detail: fmt.Sprintf("user %s is not a member", h.Username)})
			}
		}
	}
	return out
}

// CheckI8: a synced answer promises that every seq in (afterSeq, lastSeq]
// (above fromSeq when hasMore) went out on that connection before it.
func CheckI8(in Input) []Violation {
	var out []Violation
	for _, h := range in.Clients {
		type key struct{ conn, conv string }
		firstAt := map[key]map[int64]int{}
		for _, d := range h.Deliveries {
			k := key{d.Conn, d.Conversation}
			if firstAt[k] == nil {
				firstAt[k] = map[int64]int{}
			}
			if _, ok := firstAt[k][d.Seq]; !ok {
				firstAt[k][d.Seq] = d.Index
			}
		}
		for _, s := range h.Syncs {
			if s.Result != SyncSynced {
				continue
			}
			lo := s.AfterSeq
			if s.HasMore {
				lo = max(lo, s.FromSeq)
			}
			var missing []int64
			for seq := lo + 1; seq <= s.LastSeq; seq++ {
				if i, ok := firstAt[key{s.Conn, s.Conversation}][seq]; !ok || i > s.EndIndex {
					missing = append(missing, seq)
				}
			}
			if len(missing) > 0 {
				out = append(out, Violation{Invariant: I8, Conversation: s.Conversation, Seq: missing[0], Client: h.Client,
					Conn: s.Conn, At: s.End,
					Detail: fmt.Sprintf("synced afterSeq=%d fromSeq=%d lastSeq=%d hasMore=%v, but seqs %s were not delivered on this connection before it",
						s.AfterSeq, s.FromSeq, s.LastSeq, s.HasMore, ranges(missing))})
			}
		}
	}
	return out
}

// CheckI9: every non-probe client made one final send, acknowledged within
// the bound.
func CheckI9(in Input) []Violation {
	var out []Violation
	for _, h := range in.Clients {
		if h.Probe || len(h.Conversations) == 0 {
			continue
		}
		var final *Send
		for _, s := range h.Sends {
			if s.Final {
				final = s
			}
		}
		v := Violation{Invariant: I9, Client: h.Client}
		switch {
		case final == nil:
			v.Detail = "no final send after healing"
		case final.Outcome != OutcomeAck:
			v.Conversation, v.ClientMsgID, v.At = final.Conversation, final.ClientMsgID, final.DecidedAt
			v.Detail = fmt.Sprintf("final send %s (%s) after %d attempts", final.Outcome, final.Code, len(final.Attempts))
		case in.Bound > 0 && final.AckedAt.Sub(final.Start) > in.Bound:
			v.Conversation, v.ClientMsgID, v.At = final.Conversation, final.ClientMsgID, final.AckedAt
			v.Detail = fmt.Sprintf("final send acked after %s, bound %s", final.AckedAt.Sub(final.Start), in.Bound)
		default:
			continue
		}
		out = append(out, v)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ranges prints sorted seqs compactly: "3-7,9,12-13" (at most 20 runs).
func ranges(seqs []int64) string {
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	var parts []string
	for i := 0; i < len(seqs); {
		j := i
		for j+1 < len(seqs) && seqs[j+1] == seqs[j]+1 {
			j++
		}
		if len(parts) == 20 {
			parts = append(parts, "…")
			break
		}
		if i == j {
			parts = append(parts, fmt.Sprint(seqs[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", seqs[i], seqs[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
