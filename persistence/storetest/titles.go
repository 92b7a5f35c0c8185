package storetest

import (
	"testing"

	"github.com/actorchat/engine/persistence"
)

func titleCases() []testCase {
	return []testCase{
		{"Titles/SetTitle", testSetTitle},
	}
}

func testSetTitle(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	c := createGroup(t, s, "g1")
	other := createGroup(t, s, "g2")
	ok(t, s.SetTitle(ctx, "g1", "Renamed $set"), "SetTitle")
	got, err := s.Conversation(ctx, "g1")
	ok(t, err, "Conversation")
	c.Title = "Renamed $set"
	if normConversation(got) != normConversation(c) {
		t.Fatalf("after SetTitle: %+v, want %+v", got, c)
	}
	got, err = s.Conversation(ctx, "g2")
	ok(t, err, "Conversation g2")
	if normConversation(got) != normConversation(other) {
		t.Fatalf("SetTitle touched another conversation: %+v", got)
	}
	wantErr(t, s.SetTitle(ctx, "nope", "x"), persistence.ErrNotFound, "SetTitle of a missing conversation")
}
