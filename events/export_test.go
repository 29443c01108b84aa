package events

import "unsafe"

// Internals for the tests of package events_test, which can import synth
// and seed (they import events).
var (
	DecodeCanonical      = decodeCanonical
	DecodeStoredStrictly = decodeStoredStrictly
)

// CanonicalReads is the number of amendments the fast path has read.
func CanonicalReads() uint64 { return canonicalReads.Load() }

// ReadStrictly reads one amendment's JSON as Check does, by the strict
// reader alone.
func ReadStrictly(data []byte) (*Amendment, error) {
	var p Problems
	a, _ := readAmendment(data, "", &p, nil, "")
	return a, p.Err("invalid amendment")
}

// Interned reports whether s is the intern table's copy of itself.
func Interned(s string) bool {
	slugs.RLock()
	defer slugs.RUnlock()
	v, ok := slugs.m[s]
	return ok && unsafe.StringData(v) == unsafe.StringData(s)
}
