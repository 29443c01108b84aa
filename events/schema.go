package events

import _ "embed"

// Schema is the JSON Schema (draft 2020-12) of amendment input as Decode
// accepts it: one amendment object, or an array of them (in JSON Lines each
// line is one object, valid against the schema's "#/$defs/amendment"). The
// HTTP API serves it and editors can be pointed at it for completion and
// checking as amendments are written.
//
// The schema is exact about structure: field names per op and per clause kind,
// required fields, types, slugs, ULIDs, dates, decimals, rates, currencies and
// text limits. Decode also checks what JSON Schema cannot say: that a term or
// period ends after it starts, that a report's period does not start after it
// is effective, that tranche ids are unique and a clause's two parties differ,
// that an amendment does not retract itself, that no member is given twice,
// the byte (not character) lengths of text, and the size of an amendment.
// Tests keep the two in agreement. The definitions of a clause and of a
// patch are written from the kinds table (kindSpecs and valueFields) by
// TestSchemaClausesFollowTheKindsTable, which fails when the file has
// others; with -update it writes them.
//
//go:embed schema.json
var Schema []byte
