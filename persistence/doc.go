// Package persistence is the store port of the chat engine: the records it
// keeps (users, refresh tokens, conversations, memberships, messages), the
// Store interface every adapter implements, and the sentinel errors adapters
// translate their driver errors into.
//
// Adapters live in sub-packages: persistence/sqlite (embedded, single node)
// and persistence/mongo (MongoDB, production and every cluster). Both pass
// the conformance suite in persistence/storetest.
//
// Uniqueness is the store's job, not memory's: every adapter enforces unique
// indexes on (conversation, seq), (conversation, sender, clientMsgId),
// usernames, DM pairs and memberships. This package starts no goroutines.
package persistence
