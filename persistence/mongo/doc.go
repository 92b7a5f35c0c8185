// Package mongo is the MongoDB adapter of the persistence port: it implements
// persistence.Store with go.mongodb.org/mongo-driver/v2 and is the only
// package of the engine that speaks to MongoDB.
//
// It owns collections each holding one record kind and no unbounded
// arrays: users, refresh_tokens, refresh_token_uses (the single-use claims,
// see tokens.go), conversations, members, messages, and for the features
// beyond messaging last_seen, reactions, notifications, blobs, blob_refs,
// avatars and the GridFS bucket uploads (uploads.files, uploads.chunks). Open
// creates their indexes (GridFS's are the driver's, on first upload);
// uniqueness (usernames, DM keys, memberships, per-conversation seq and
// client message ids, reactions, per-user notification seq and key) is
// enforced by those indexes, never by reads before writes.
//
// Only standard single-document operations, ordered insertMany, updateMany
// and deleteMany are used: no transactions, no change streams; the only
// aggregation is the one countDocuments runs ($match, $limit, $group) for
// CountUnread and the blob checks. This keeps the adapter
// usable against a standalone mongod and against FerretDB (see mongotest).
// Where the port asks for several writes (CreateConversation) the adapter
// compensates on failure instead of using a transaction.
//
// Every filter and update document is built from typed Go fields under keys
// that are constants of this package. User strings (bodies, titles, names)
// are only ever values, so a body like "$where" or "a.b" is stored verbatim
// and can never become an operator or a field path.
//
// Times are stored as BSON datetimes, so they round-trip with millisecond
// precision and come back in UTC.
//
// Store starts no goroutines of its own; the driver's client runs its
// connection-pool and server-monitoring goroutines until Close.
package mongo
