// Package events is the vocabulary of the agreement ledger: the amendment
// envelope, its change ops, clause kinds and value types (term, scope, money,
// rate), their strict JSON decoding with errors that name the field, the
// validation that needs no history, and the canonical encoding that is
// stored on the stream and hashed into each agreement's chain.
//
// It depends only on the standard library, ulid and a decimal type, so every
// other package can share it.
package events
