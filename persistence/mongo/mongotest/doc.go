// Package mongotest gives tests a MongoDB-wire-protocol server and a fresh
// database per test. It is a test harness: import it from _test.go files and
// from the dev-only cmd/devstore, never from cmd/chatd or its packages.
//
// Without configuration every call to URI starts an embedded FerretDB 1.x
// with its SQLite backend in the test's temporary directory, listening on
// 127.0.0.1 on a free port, and stops it in t.Cleanup. Starting one takes a
// few milliseconds (ferretdb.New about 2 ms, first ping about 8 ms, stop
// about 3 ms once clients have disconnected), so servers are not shared
// between tests and no server outlives its test.
//
// Set CHAT_TEST_MONGO_URI (for example mongodb://127.0.0.1:27017) to run the
// same tests against a real MongoDB instead; every test then works in its own
// database, dropped in t.Cleanup.
//
// FerretDB is a stand-in, not a MongoDB. It sorts in memory after reading
// every matching document (LastSeq and message pages cost O(conversation)),
// rejects partial indexes and ignores "sparse" (see the adapter's
// indexes.go), has no projection in findAndModify, panics on createIndexes
// when two of the requested indexes exist, and applies updates (findAndModify,
// $max, $set) as an unconditional read-modify-replace of the whole document,
// so concurrent updates of one document are not atomic; inserts into unique
// indexes are. It logs every error reply at warn level, so servers started
// here log at error level only. Tests written against it must also hold on
// MongoDB.
//
// StartServer starts one goroutine running the FerretDB listener (plus one
// per client connection inside FerretDB) until its stop function returns.
package mongotest
