package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/actorchat/engine/persistence"
)

func appendCases() []testCase {
	return []testCase{
		{"Messages/AppendAndLastSeq", testAppendAndLastSeq},
		{"Messages/AppendStopsAtStoredSeq", testAppendStopsAtStoredSeq},
		{"Messages/AppendStopsAtSeqInBatch", testAppendStopsAtSeqInBatch},
		{"Messages/AppendStopsAtClientID", testAppendStopsAtClientID},
		{"Messages/ClientIDScope", testClientIDScope},
		{"Messages/ByClientIDNotFound", testMessageByClientIDNotFound},
		{"Messages/ConversationsAreIndependent", testConversationsIndependent},
		{"Messages/ConcurrentAppenders", testConcurrentAppenders},
	}
}

// newMessage returns a message of conv at seq from sender with a client id.
func newMessage(conv string, seq int64, sender, clientID string) persistence.Message {
	return persistence.Message{
		ConversationID: conv,
		Seq:            seq,
		ID:             fmt.Sprintf("%s-%d-%s-%s", conv, seq, sender, clientID),
		Kind:           persistence.KindMessage,
		SenderID:       sender,
		ClientMsgID:    clientID,
		Body:           fmt.Sprintf("message %d of %s", seq, conv),
		CreatedAt:      at(time.Hour + time.Duration(seq)*time.Second),
	}
}

// seqRange returns messages from..to of conv, sent by u1 with client ids c<seq>.
func seqRange(conv string, from, to int64) []persistence.Message {
	var msgs []persistence.Message
	for seq := from; seq <= to; seq++ {
		msgs = append(msgs, newMessage(conv, seq, "u1", fmt.Sprintf("c%d", seq)))
	}
	return msgs
}

// appendAll stores msgs and requires all of them to be accepted.
func appendAll(t *testing.T, s persistence.Store, msgs ...persistence.Message) {
	t.Helper()
	n, err := s.AppendMessages(t.Context(), msgs)
	ok(t, err, "AppendMessages")
	if n != len(msgs) {
		t.Fatalf("AppendMessages stored %d of %d without error", n, len(msgs))
	}
}

// appendPrefix appends msgs expecting the first wantN stored and msgs[wantN]
// rejected as a duplicate.
func appendPrefix(t *testing.T, s persistence.Store, msgs []persistence.Message, wantN int) {
	t.Helper()
	n, err := s.AppendMessages(t.Context(), msgs)
	wantErr(t, err, persistence.ErrDuplicate, "AppendMessages with a duplicate")
	if n != wantN {
		t.Fatalf("AppendMessages stored %d messages before the duplicate, want %d", n, wantN)
	}
}

func normMessage(m persistence.Message) persistence.Message {
	m.CreatedAt = ms(m.CreatedAt)
	m.EditedAt = ms(m.EditedAt)
	if len(m.Attachments) == 0 {
		m.Attachments = nil // no attachments: nil or empty alike
	}
	return m
}

// wantMessages compares messages in order.
func wantMessages(t *testing.T, what string, got, want []persistence.Message) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d messages (seqs %v), want %d (seqs %v)", what, len(got), seqs(got), len(want), seqs(want))
	}
	for i := range got {
		if !reflect.DeepEqual(normMessage(got[i]), normMessage(want[i])) {
			t.Fatalf("%s: message %d:\n got %+v\nwant %+v", what, i, got[i], want[i])
		}
	}
}

func seqs(msgs []persistence.Message) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.Seq
	}
	return out
}

// wantHistory checks LastSeq and the whole history of conv (at most
// MaxPageLimit messages).
func wantHistory(t *testing.T, s persistence.Store, conv string, want []persistence.Message) {
	t.Helper()
	var wantLast int64
	if len(want) > 0 {
		wantLast = want[len(want)-1].Seq
	}
	last, err := s.LastSeq(t.Context(), conv)
	ok(t, err, "LastSeq "+conv)
	if last != wantLast {
		t.Fatalf("LastSeq(%s) = %d, want %d", conv, last, wantLast)
	}
	got, err := s.Messages(t.Context(), conv, persistence.MessageQuery{After: 0, Limit: persistence.MaxPageLimit})
	ok(t, err, "Messages "+conv)
	wantMessages(t, "history of "+conv, got, want)
}

func wantByClientID(t *testing.T, s persistence.Store, want persistence.Message) {
	t.Helper()
	got, err := s.MessageByClientID(t.Context(), want.ConversationID, want.SenderID, want.ClientMsgID)
	ok(t, err, "MessageByClientID")
	wantMessages(t, "MessageByClientID", []persistence.Message{got}, []persistence.Message{want})
}

func testAppendAndLastSeq(t *testing.T, s persistence.Store) {
	createGroup(t, s, "g1")
	wantHistory(t, s, "g1", nil)
	wantHistory(t, s, "unknown", nil)

	n, err := s.AppendMessages(t.Context(), nil)
	ok(t, err, "AppendMessages of nothing")
	if n != 0 {
		t.Fatalf("AppendMessages(nil) = %d, want 0", n)
	}

	msgs := seqRange("g1", 1, 3)
	appendAll(t, s, msgs...)
	wantHistory(t, s, "g1", msgs)
	more := seqRange("g1", 4, 4)
	appendAll(t, s, more...)
	wantHistory(t, s, "g1", append(msgs, more...))
	for _, m := range msgs {
		wantByClientID(t, s, m)
	}
}

func testAppendStopsAtStoredSeq(t *testing.T, s persistence.Store) {
	createGroup(t, s, "g1")
	stored := seqRange("g1", 1, 3)
	appendAll(t, s, stored...)

	// Seq 3 at index 2 is taken; 4 and 5 go in, 3, 6 and 7 do not.
	batch := seqRange("g1", 4, 5)
	batch = append(batch, newMessage("g1", 3, "u2", "x3"))
	batch = append(batch, seqRange("g1", 6, 7)...)
	appendPrefix(t, s, batch, 2)

	wantHistory(t, s, "g1", append(stored, batch[:2]...))
	_, err := s.MessageByClientID(t.Context(), "g1", "u1", "c6")
	wantErr(t, err, persistence.ErrNotFound, "MessageByClientID of a message after the duplicate")
}

func testAppendStopsAtSeqInBatch(t *testing.T, s persistence.Store) {
	createGroup(t, s, "g1")
	batch := seqRange("g1", 1, 2)
	batch = append(batch, newMessage("g1", 1, "u1", "again"), newMessage("g1", 3, "u1", "c3"))
	appendPrefix(t, s, batch, 2)
	wantHistory(t, s, "g1", batch[:2])
}

func testAppendStopsAtClientID(t *testing.T, s persistence.Store) {
	createGroup(t, s, "g1")
	first := newMessage("g1", 1, "u1", "c1")
	appendAll(t, s, first)

	batch := []persistence.Message{
		newMessage("g1", 2, "u1", "c2"),
		newMessage("g1", 3, "u1", "c1"), // u1 already sent c1
		newMessage("g1", 4, "u1", "c4"),
	}
	appendPrefix(t, s, batch, 1)
	wantHistory(t, s, "g1", []persistence.Message{first, batch[0]})
	wantByClientID(t, s, first)
	_, err := s.MessageByClientID(t.Context(), "g1", "u1", "c4")
	wantErr(t, err, persistence.ErrNotFound, "MessageByClientID of a message after the duplicate")
}

func testClientIDScope(t *testing.T, s persistence.Store) {
	createGroup(t, s, "g1")
	createGroup(t, s, "g2")
	g1 := []persistence.Message{
		newMessage("g1", 1, "u1", "same"),
		newMessage("g1", 2, "u2", "same"), // another sender
	}
	g2 := []persistence.Message{newMessage("g2", 1, "u1", "same")} // another conversation
	appendAll(t, s, g1...)
	appendAll(t, s, g2...)

	wantHistory(t, s, "g1", g1)
	wantHistory(t, s, "g2", g2)
	for _, m := range append(g1, g2...) {
		wantByClientID(t, s, m)
	}
}

func testMessageByClientIDNotFound(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	createGroup(t, s, "g1")
	createGroup(t, s, "g2")
	appendAll(t, s, newMessage("g1", 1, "u1", "c1"))

	for _, q := range []struct{ conv, sender, client string }{
		{"g1", "u1", "c2"}, // unknown client id
		{"g1", "u2", "c1"}, // another sender's
		{"g2", "u1", "c1"}, // another conversation's
	} {
		_, err := s.MessageByClientID(ctx, q.conv, q.sender, q.client)
		wantErr(t, err, persistence.ErrNotFound, fmt.Sprintf("MessageByClientID%v", q))
	}
}

func testConversationsIndependent(t *testing.T, s persistence.Store) {
	createGroup(t, s, "g1")
	createGroup(t, s, "g2")
	createGroup(t, s, "g3")
	a := seqRange("g1", 1, 5)
	b := seqRange("g2", 1, 3) // same seqs and client ids, other conversation
	appendAll(t, s, a...)
	appendAll(t, s, b...)

	wantHistory(t, s, "g1", a)
	wantHistory(t, s, "g2", b)
	wantHistory(t, s, "g3", nil)
}
