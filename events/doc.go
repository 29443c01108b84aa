// Package events is the vocabulary of the agreement ledger: the amendment
// envelope, its change ops, clause kinds and value types (term, scope, money,
// rate), their strict JSON decoding with errors that name the field, the
// validation that needs no history, and the canonical encoding that is
// stored on the stream and hashed into each agreement's chain.
//
// It depends only on the standard library, ulid and a decimal type, so every
// other package can share it.
//
// # Clause kinds
//
// Each kind of clause is described once, by its entry in kindSpecs
// (kinds.go): its words, its group in a state, its two parties, its fields
// and when it is an exclusive grant. Validation, the encoders and decoders,
// the schema's clauses, a state's groups, the OpenAPI document and what
// render, the web page and synth write or draw of a clause read that table.
// Adding a kind takes its entry (and a Kind constant, for code that names
// it), and then:
//
//   - go test ./events ./projections -update, to rewrite what lists every
//     kind: schema.json's clauses, the rejection messages that name the
//     kinds, and the state goldens (a state has a group for each kind);
//   - a file under events/testdata/valid that uses it, as
//     TestValidFilesCoverTheVocabulary wants of every kind.
//
// A field no kind has yet also takes a valueFields entry and a slot in
// Clause (the canonical reader keeps a clause's member names in a 32-bit
// set: 25 are taken), and a case in synth's draws if it is not text.
//
// What stays by kind, because it is that kind's own behaviour: the fold's
// reports and fundings (projections/fold.go: revenue shares and
// investments), the rights check, which only exclusivities bind
// (projections/grants.go, conflicts.go), and the presentation of a kind
// that has its own table, one-line description or bar label in render and
// its colours (render/svg.go); a kind without them is written by its text
// field, in grey.
package events
