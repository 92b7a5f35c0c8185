// Package storetest is the conformance suite every persistence adapter must
// pass. Adapters call Run from their own tests with a factory that returns a
// fresh, empty store (its own database) for each subtest:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) persistence.Store {
//			s := openEmptyStore(t)
//			t.Cleanup(func() {
//				// t.Context() is already canceled when cleanups run.
//				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
//				defer cancel()
//				dropDatabase(ctx, s)
//				s.Close(ctx)
//			})
//			return s
//		}, crash{}) // a storetest.Crash: writes what a PutBlob that died leaves
//	}
//
// The suite checks the contract written in the doc comments of
// persistence.Store: uniqueness enforced by the store (usernames, DM keys,
// memberships, (conversation, seq), (conversation, sender, clientMsgId)),
// ordered-prefix semantics of AppendMessages, refresh-token single use,
// pagination, forward-only read markers, concurrent appenders racing for the
// same seq, round-trips of times (millisecond precision) and bodies, and the
// sweep of what uploads that died left (through the adapter's Crash).
//
// Every case calls t.Parallel and gets its own store, so cases never share
// data and may run in any order. The suite never relies on one case's writes
// in another. It creates a conversation before writing its members or
// messages and a user before writing that user's refresh tokens, so adapters
// may enforce those references.
//
// The package has no package-level state. Its only goroutines are the racers
// of the concurrency cases (token reuse, appenders fighting for the next
// seq) and the upload that a sweep meets in flight, started and awaited
// inside those cases.
package storetest
