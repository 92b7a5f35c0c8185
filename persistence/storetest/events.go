package storetest

import (
	"testing"
	"time"

	"github.com/actorchat/engine/persistence"
)

func eventCases() []testCase {
	return []testCase{
		{"Events/FieldsRoundTrip", testEventFieldsRoundTrip},
		{"Events/MessageBySeq", testMessageBySeq},
		{"Events/Edit", testEditMessage},
		{"Events/Delete", testDeleteMessage},
	}
}

// event returns an event of conv at seq by sender acting on target.
func event(conv string, seq int64, kind persistence.MessageKind, sender string, target int64, body string) persistence.Message {
	m := newMessage(conv, seq, sender, string(kind)+"-"+body)
	m.Kind, m.TargetSeq, m.Body = kind, target, body
	return m
}

func testEventFieldsRoundTrip(t *testing.T, s persistence.Store) {
	createGroup(t, s, "g1")
	plain := newMessage("g1", 1, "u1", "a")
	edit := event("g1", 2, persistence.KindEdit, "u1", 1, "new text")
	join := newMessage("g1", 3, "u1", "j")
	join.Kind, join.SubjectID, join.Body = persistence.KindJoin, "u2", "member"
	state := newMessage("g1", 4, "u2", "s")
	state.EditedAt, state.Deleted, state.UpdatedSeq = at(time.Hour+123*time.Millisecond), true, 9
	state.Body = ""
	appendAll(t, s, plain, edit, join, state)
	got, err := s.Messages(t.Context(), "g1", persistence.MessageQuery{})
	ok(t, err, "Messages")
	wantMessages(t, "messages with event fields", got, []persistence.Message{plain, edit, join, state})
}

func testMessageBySeq(t *testing.T, s persistence.Store) {
	createGroup(t, s, "g1")
	msgs := seqRange("g1", 1, 3)
	appendAll(t, s, msgs...)
	got, err := s.MessageBySeq(t.Context(), "g1", 2)
	ok(t, err, "MessageBySeq")
	wantMessages(t, "MessageBySeq 2", []persistence.Message{got}, msgs[1:2])
	_, err = s.MessageBySeq(t.Context(), "g1", 4)
	wantErr(t, err, persistence.ErrNotFound, "MessageBySeq past the end")
	_, err = s.MessageBySeq(t.Context(), "g2", 1)
	wantErr(t, err, persistence.ErrNotFound, "MessageBySeq of another conversation")
}

func testEditMessage(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	createGroup(t, s, "g1")
	msgs := seqRange("g1", 1, 2)
	appendAll(t, s, msgs...)
	appendAll(t, s, event("g1", 3, persistence.KindEdit, "u1", 1, "v2"), event("g1", 4, persistence.KindEdit, "u1", 1, "v3"))

	ok(t, s.EditMessage(ctx, "g1", 1, "v3", at(2*time.Hour), 4), "EditMessage (event 4)")
	// Event 3 applied late changes nothing.
	ok(t, s.EditMessage(ctx, "g1", 1, "v2", at(3*time.Hour), 3), "EditMessage with an older event")
	got, err := s.MessageBySeq(ctx, "g1", 1)
	ok(t, err, "MessageBySeq")
	want := msgs[0]
	want.Body, want.EditedAt, want.UpdatedSeq = "v3", at(2*time.Hour), 4
	wantMessages(t, "edited message", []persistence.Message{got}, []persistence.Message{want})
	other, err := s.MessageBySeq(ctx, "g1", 2)
	ok(t, err, "MessageBySeq 2")
	wantMessages(t, "the other message", []persistence.Message{other}, msgs[1:2])

	wantErr(t, s.EditMessage(ctx, "g1", 3, "x", at(0), 5), persistence.ErrNotFound, "EditMessage of an event")
	wantErr(t, s.EditMessage(ctx, "g1", 9, "x", at(0), 5), persistence.ErrNotFound, "EditMessage of a missing seq")
}

func testDeleteMessage(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	createGroup(t, s, "g1")
	msgs := seqRange("g1", 1, 2)
	msgs[0].SenderID, msgs[1].SenderID = "u2", "u2"
	appendAll(t, s, msgs...)
	appendAll(t, s, event("g1", 3, persistence.KindEdit, "u2", 1, "secret v2"), event("g1", 4, persistence.KindEdit, "u2", 2, "other v2"))
	n, err := s.CountUnread(ctx, "g1", "u1", 0)
	ok(t, err, "CountUnread")
	if n != 2 {
		t.Fatalf("CountUnread before the delete = %d, want 2", n)
	}

	ok(t, s.DeleteMessage(ctx, "g1", 1, 0), "DeleteMessage before its event")
	ok(t, s.DeleteMessage(ctx, "g1", 1, 5), "DeleteMessage with its event")
	ok(t, s.DeleteMessage(ctx, "g1", 1, 0), "DeleteMessage again")
	page, err := s.Messages(ctx, "g1", persistence.MessageQuery{})
	ok(t, err, "Messages")
	if len(page) != 4 {
		t.Fatalf("got %d entries, want 4", len(page))
	}
	if m := page[0]; !m.Deleted || m.Body != "" || m.UpdatedSeq != 5 {
		t.Errorf("deleted message: %+v, want deleted, empty body, updated at 5", m)
	}
	if m := page[2]; m.Body != "" || m.Kind != persistence.KindEdit {
		t.Errorf("edit of the deleted message still carries its text: %+v", m)
	}
	if page[1].Deleted || page[1].Body != msgs[1].Body || page[3].Body != "other v2" {
		t.Errorf("delete touched other entries: %+v / %+v", page[1], page[3])
	}
	wantErr(t, s.EditMessage(ctx, "g1", 1, "back", at(0), 6), persistence.ErrNotFound, "EditMessage of a deleted message")
	wantErr(t, s.DeleteMessage(ctx, "g1", 3, 6), persistence.ErrNotFound, "DeleteMessage of an event")
	wantErr(t, s.DeleteMessage(ctx, "g1", 9, 6), persistence.ErrNotFound, "DeleteMessage of a missing seq")
	n, err = s.CountUnread(ctx, "g1", "u1", 0)
	ok(t, err, "CountUnread")
	if n != 1 {
		t.Fatalf("CountUnread after the delete = %d, want 1 (deleted messages do not count)", n)
	}
}
