// Package cluster bootstraps this node's Proto.Actor cluster member: actor
// system, remoting, the membership provider, identity lookup (disthash) and
// the conversation and user kinds; it spawns the node's hub and wires the actors' Deps
// to the cluster (where the hubs are, how to reach a grain).
//
// A single node is a one-member cluster with an in-process membership
// provider, so the code path is the one that scales out. The goroutines it
// starts are Proto.Actor's own (remoting, gossip, provider).
package cluster
