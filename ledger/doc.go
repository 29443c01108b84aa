// Package ledger is the agreement ledger service: it keeps amendments as
// immutable messages on a NATS JetStream stream (an embedded, in-process
// nats-server by default, or an external server or cluster), appends them
// with optimistic concurrency, idempotency by amendment id and a per-
// agreement hash chain, and answers questions from a read model (a
// projections.Index) that an ordered consumer keeps up to date.
//
// Durability: the embedded server fsyncs every write (SyncAlways), so an
// acknowledged amendment survives a crash of the process and of the machine.
// Concurrent appends are gathered into JetStream atomic batches, so many
// writers share one fsync.
package ledger
