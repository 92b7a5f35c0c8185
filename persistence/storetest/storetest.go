// Package storetest is the conformance suite every persistence adapter must
// pass. Adapters call Run from their own tests with a factory that returns a
// fresh, empty store (its own database) for each subtest.
package storetest

import (
	"testing"

	"github.com/actorchat/engine/persistence"
)

// Factory returns a new, empty store for one subtest. It registers its own
// cleanup (close, drop the database) with t.Cleanup.
type Factory func(t *testing.T) persistence.Store

// Run runs the whole conformance suite against the adapter made by open.
func Run(t *testing.T, open Factory) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, open(t))
		})
	}
}

type testCase struct {
	name string
	run  func(t *testing.T, s persistence.Store)
}

// cases is filled by the suite's files, one init per area.
var cases []testCase
