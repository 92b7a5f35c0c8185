// Package actors owns all chat state. One actor per file:
//
//   - conversation.go: the conversation grain (a Proto.Actor cluster kind),
//     one activation per conversation. It serializes writes, assigns gap-free
//     sequence numbers, persists a batch (group commit) before it acknowledges
//     senders, then broadcasts the batch to every node's hub.
//   - hub.go: one per node, named "hub". It indexes the node's sessions by
//     conversation and user, and fans persisted messages out to them, with the
//     wire frame encoded once per message per node.
//   - user.go: the user grain (cluster kind "user"), one activation per user.
//     It derives presence from the hubs' leased reports of the user's
//     sessions per node (hub_presence.go) and announces changes; it also
//     announces the user's new avatars (user_profile.go).
//   - session.go: one per WebSocket. It tracks, per conversation, the highest
//     seq delivered on its connection, drops duplicates, repairs gaps from the
//     store, serves sync, and forwards sends to grains.
//
// Actors never block their mailbox on the network: store calls run in a
// goroutine started for that call and come back as a message to the actor
// (see runAsync). Those goroutines are the only ones this package starts,
// besides the timers (time.AfterFunc) of the hubs' presence renewals and the
// user grains' lease checks, which only send a message to their actor.
//
// The package does not know the wire format: sessions hand Outbound values to
// a Conn that the gateway implements, and the hub calls an injected encoder.
// Actor-to-actor messages that may cross nodes are protobuf (messages.proto;
// `make proto` regenerates messages.pb.go).
package actors
