package storetest

import (
	"testing"
	"time"

	"github.com/actorchat/engine/persistence"
)

func presenceCases() []testCase {
	return []testCase{
		{"Presence/LastSeenMovesForward", testLastSeenForward},
	}
}

func testLastSeenForward(t *testing.T, s persistence.Store) {
	ctx := t.Context()
	got, err := s.LastSeen(ctx, "u1")
	ok(t, err, "LastSeen of a user never seen")
	if !got.IsZero() {
		t.Fatalf("LastSeen of a user never seen = %v, want the zero time", got)
	}
	ok(t, s.SetLastSeen(ctx, "u1", at(time.Hour)), "SetLastSeen")
	ok(t, s.SetLastSeen(ctx, "u2", at(3*time.Hour)), "SetLastSeen u2")
	ok(t, s.SetLastSeen(ctx, "u1", at(time.Minute)), "SetLastSeen earlier")
	got, err = s.LastSeen(ctx, "u1")
	ok(t, err, "LastSeen")
	if !got.Equal(ms(at(time.Hour))) {
		t.Fatalf("LastSeen after an earlier SetLastSeen = %v, want %v", got, ms(at(time.Hour)))
	}
	ok(t, s.SetLastSeen(ctx, "u1", at(2*time.Hour)), "SetLastSeen later")
	got, err = s.LastSeen(ctx, "u1")
	ok(t, err, "LastSeen")
	if !got.Equal(ms(at(2*time.Hour))) || got.Location() != time.UTC {
		t.Fatalf("LastSeen = %v, want %v in UTC", got, ms(at(2*time.Hour)))
	}
}
