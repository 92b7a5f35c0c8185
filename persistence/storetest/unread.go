package storetest

import (
	"testing"

	"github.com/actorchat/engine/persistence"
)

func unreadCases() []testCase {
	return []testCase{
		{"Unread/CountsOthersChatMessagesAfterMarker", testUnreadCounts},
	}
}

// testUnreadCounts: only chat messages count, only those after the marker,
// never the reader's own, and conversations are independent.
func testUnreadCounts(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	createGroup(t, s, "g1")
	createGroup(t, s, "g2")
	msgs := []persistence.Message{
		newMessage("g1", 1, "u1", "a"),
		newMessage("g1", 2, "u2", "b"),
		newMessage("g1", 3, "u2", "c"),
		newMessage("g1", 4, "u1", "d"),
		newMessage("g1", 5, "u2", "e"),
		newMessage("g2", 1, "u2", "f"),
	}
	msgs[3].Kind = "edit" // a sequenced event that is not a chat message
	appendAll(t, s, msgs[:5]...)
	appendAll(t, s, msgs[5])

	for _, tc := range []struct {
		user  string
		after int64
		want  int64
	}{
		{"u3", 0, 4}, // seqs 1, 2, 3, 5: seq 4 is not a chat message
		{"u3", 2, 2},
		{"u3", 5, 0},
		{"u3", 99, 0},
		{"u1", 0, 3}, // not u1's own seq 1
		{"u2", 0, 1},
	} {
		n, err := s.CountUnread(ctx, "g1", tc.user, tc.after)
		ok(t, err, "CountUnread")
		if n != tc.want {
			t.Errorf("CountUnread(g1, %s, after %d) = %d, want %d", tc.user, tc.after, n, tc.want)
		}
	}
	n, err := s.CountUnread(ctx, "nope", "u1", 0)
	ok(t, err, "CountUnread of an unknown conversation")
	if n != 0 {
		t.Errorf("CountUnread of an unknown conversation = %d, want 0", n)
	}
}
