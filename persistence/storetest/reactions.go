package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/actorchat/engine/persistence"
)

func reactionCases() []testCase {
	return []testCase{
		{"Reactions/SetAndList", testReactions},
	}
}

func testReactions(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	createGroup(t, s, "g1")
	createGroup(t, s, "g2")
	appendAll(t, s, seqRange("g1", 1, 3)...)
	appendAll(t, s, seqRange("g2", 1, 1)...)
	r := func(conv string, seq int64, emoji, user string, minute int) persistence.Reaction {
		return persistence.Reaction{ConversationID: conv, Seq: seq, Emoji: emoji, UserID: user, At: at(time.Duration(minute) * time.Minute)}
	}
	set := func(x persistence.Reaction, on bool, eventSeq int64) {
		t.Helper()
		ok(t, s.SetReaction(ctx, x, on, eventSeq), fmt.Sprintf("SetReaction %+v %v", x, on))
	}
	set(r("g1", 2, "👍", "u2", 1), true, 10)
	set(r("g1", 2, "👍", "u1", 2), true, 11)
	set(r("g1", 2, "🎉", "u3", 3), true, 12)
	set(r("g1", 2, "👍", "u1", 9), true, 13) // again: stays at minute 2
	set(r("g1", 1, "❤️", "u1", 4), true, 14)
	set(r("g1", 1, "❤️", "u1", 5), false, 15)
	set(r("g1", 1, "❤️", "u2", 6), false, 16) // absent: no-op
	set(r("g1", 3, "👀", "u2", 7), true, 17)
	set(r("g2", 1, "👍", "u2", 8), true, 18)

	got, err := s.Reactions(ctx, "g1", 1, 2)
	ok(t, err, "Reactions")
	want := []persistence.Reaction{r("g1", 2, "🎉", "u3", 3), r("g1", 2, "👍", "u2", 1), r("g1", 2, "👍", "u1", 2)}
	if "🎉" > "👍" {
		want = []persistence.Reaction{want[1], want[2], want[0]}
	}
	if len(got) != len(want) {
		t.Fatalf("Reactions(g1, 1..2) = %+v, want %+v", got, want)
	}
	for i := range got {
		got[i].At = ms(got[i].At)
		want[i].At = ms(want[i].At)
		if got[i] != want[i] {
			t.Fatalf("Reactions(g1, 1..2)[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	m, err := s.MessageBySeq(ctx, "g1", 1)
	ok(t, err, "MessageBySeq")
	if m.UpdatedSeq != 16 {
		t.Errorf("UpdatedSeq of g1/1 = %d, want 16 (raised by every reaction event)", m.UpdatedSeq)
	}

	ok(t, s.DeleteMessage(ctx, "g1", 3, 19), "DeleteMessage")
	wantErr(t, s.SetReaction(ctx, r("g1", 3, "👍", "u1", 9), true, 20), persistence.ErrNotFound, "SetReaction on a deleted message")
	wantErr(t, s.SetReaction(ctx, r("g1", 7, "👍", "u1", 9), true, 20), persistence.ErrNotFound, "SetReaction on a missing message")
}
