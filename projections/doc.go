// Package projections turns an agreement ledger's history into answers. It
// is pure: no NATS, no files, no network. Everything here is a fold of
// recorded amendments (events.Record) in effective-time order into a view of
// each agreement, and questions asked of views at a valid time T as known at
// a transaction time K: state, conflicts between exclusive grants, rights
// checks, revenue-share accruals, timelines, diffs and the effect a new
// amendment would have.
//
// Index is the read model the ledger keeps up to date one record at a time.
// It holds, per agreement, the view of everything recorded (extended in place
// when an amendment is effective after the others, refolded when one is
// retroactive or retracts another), with checkpoints so that a point-in-time
// query is a binary search plus a short scan. Views as known at an earlier K
// are folded on demand from the records visible then.
package projections
