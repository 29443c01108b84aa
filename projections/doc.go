// Package projections turns an agreement ledger's history into answers. It
// is pure: no NATS, no files, no network. Everything here is a fold of
// recorded amendments (events.Record) in effective-time order into a view of
// each agreement, and questions asked of views at a valid time T as known at
// a transaction time K: state, conflicts between exclusive grants, rights
// checks, revenue-share accruals, timelines, diffs and the effect a new
// amendment would have; and over a window of valid time, avails (rights
// checks as a function of time) and the deal calendar.
//
// Index is the read model the ledger keeps up to date one record at a time.
// It holds, per agreement, the view of everything recorded, with checkpoints
// so that a point-in-time query is a binary search plus a short scan and
// costs about the same however long the history. A view can take back the
// records it folded last (each change undoes from the record and the view,
// without a log), so a retroactive amendment or a retraction is folded in by
// rolling the view back to where it changes history and folding the rest
// again; a validation tries amendments on a live view the same way and then
// restores it. A writer keeps what it tried instead (Hold, Kept): the
// amendments stay folded, tentatively, and when the stream hands them back
// Add only notes their sequences, so an append is folded once. Exclusive
// grants of every agreement are also kept in one compact index, for
// conflicts and rights checks across agreements.
//
// A view as known at an earlier K is, when what was recorded by K is a
// prefix (in fold order) of what is recorded now, the current view read up
// to that prefix; otherwise it is folded from the records visible at K, and
// a few such views are cached.
package projections
