package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/actorchat/engine/persistence"
)

// Factory returns a new, empty store for one subtest. It registers its own
// cleanup (close, drop the database) with t.Cleanup.
type Factory func(t *testing.T) persistence.Store

// Run runs the whole conformance suite against the adapter made by open,
// whose uploads crash simulates. Every case runs in parallel with the
// others, on its own store from open.
func Run(t *testing.T, open Factory, crash Crash) {
	t.Helper()
	for _, tc := range cases(crash) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, open(t))
		})
	}
}

// testCase is one named check of the contract, run on a fresh store.
type testCase struct {
	name string
	run  func(t *testing.T, s persistence.Store)
}

// cases returns the whole suite, one list per area of the contract.
func cases(crash Crash) []testCase {
	var all []testCase
	for _, area := range [][]testCase{
		userCases(),
		tokenCases(),
		conversationCases(),
		memberCases(),
		appendCases(),
		messageQueryCases(),
		roundTripCases(),
		fencingCases(),
		featureCases(crash),
	} {
		all = append(all, area...)
	}
	return all
}

// at returns the suite's reference instant plus d, in a non-UTC zone so that
// adapters must store the instant rather than the wall clock. Its
// sub-millisecond part is below half a millisecond so that an adapter that
// rounds to milliseconds and one that truncates store the same value;
// comparisons truncate to milliseconds (see ms).
func at(d time.Duration) time.Time {
	zone := time.FixedZone("UTC+5:30", 5*3600+30*60)
	return time.Date(2025, 3, 14, 20, 39, 26, 535_123_000, zone).Add(d)
}

// ms normalises a time for comparison: millisecond precision, UTC, no
// monotonic reading, so that == and time.Equal agree.
func ms(t time.Time) time.Time { return t.Truncate(time.Millisecond).UTC() }

// ok fails the test now when err is not nil.
func ok(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

// wantErr fails the test now unless errors.Is(err, target).
func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}
