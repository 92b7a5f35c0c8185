// Package sqlite is the embedded, single-node adapter of persistence.Store,
// on SQLite through the pure-Go driver modernc.org/sqlite. It owns the
// database file, its schema and migrations (applied at Open), and the
// translation of driver errors into the persistence sentinels. It is the
// only package of ours that imports the driver.
//
// One process should own the file: writes are serialised through a single
// connection (see Store), reads run concurrently on a pool of read-only
// connections in WAL mode. For several nodes use persistence/mongo.
//
// Open starts one goroutine, the committer (groupcommit.go), which writes
// the AppendMessages calls of all conversations that queue up during one
// transaction together in the next; Close stops it. database/sql starts one
// connection-opener goroutine for each of the two pools (writer, readers);
// Close stops them. No connection-lifetime cleaner runs: connections live
// until Close.
package sqlite
