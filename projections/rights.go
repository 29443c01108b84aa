package projections

import (
	"slices"
	"time"

	"github.com/agreement-ledger/ledger/events"
)

// A rights check asks two things: does the party have the right (a
// basis), and is someone else's exclusivity in the way (blocking)? The
// basis is read from the agreements the party is named in (Index.byParty),
// as known at the query's known-at; what blocks from the grant index.

// givesBasis reports whether clause c, in force, gives party the right to
// offer all of scope: it is of a kind that grants over a scope (licences,
// exclusivities, rights: events.ScopeKinds), covers all of scope, and the
// party holds it, or granted it (what one grants, one has: a grantor is
// the owner of what it grants). An exclusivity the party granted may also
// bind it: then it is both a basis and blocking, and the party is denied.
func givesBasis(c *events.Clause, party string, scope *events.Scope) bool {
	return (c.Holder == party || c.Grantor == party) && grantsOver(c, scope)
}

// grantsOver reports whether c grants something over all of scope, to its
// holder and as its grantor's.
func grantsOver(c *events.Clause, scope *events.Scope) bool {
	return slices.Contains(events.ScopeKinds, c.Kind) && c.Scope.Covers(scope)
}

// basisAt returns the clauses in force at t, as known at knownAt, that
// give party the right to offer all of scope, in no particular order.
func (ix *Index) basisAt(party string, scope *events.Scope, t, knownAt time.Time) []Decision {
	var out []Decision
	ix.partyViews(party, knownAt, func(a *agreement, v *view, bound *events.Record) {
		for _, x := range v.inForce(t, bound) {
			if givesBasis(x.clause, party, scope) {
				out = append(out, basisDecision(a.name, x, scope))
			}
		}
	})
	return out
}

// basisDecision is version x of agreement, a basis for scope.
func basisDecision(agreement string, x *version, scope *events.Scope) Decision {
	where, _ := x.clause.Scope.Intersect(scope)
	return Decision{Party: partyOf(agreement, x), Where: scopeJSON{where}}
}

// partyViews calls fn with each agreement party was named in by knownAt
// (zero: everything recorded), as known then, once each.
func (ix *Index) partyViews(party string, knownAt time.Time, fn func(a *agreement, v *view, bound *events.Record)) {
	cut := ix.cut(knownAt)
	if cut == 0 {
		return
	}
	for _, a := range ix.byParty[party] {
		if a.versionAt(cut) == 0 {
			continue
		}
		v, bound := ix.viewAt(a, cut)
		fn(a, v, bound)
	}
}

// basisDuring calls fn with every version in force at some time in
// [from, to), as known at knownAt, that gives one of parties the right to
// offer all of scope, once each, with the interval it is in force.
func (ix *Index) basisDuring(parties []string, scope *events.Scope, from, to, knownAt time.Time, fn func(agreement string, x *version, lo, hi time.Time)) {
	seen := map[*agreement]bool{}
	of := func(p string) bool { _, ok := slices.BinarySearch(parties, p); return ok }
	if len(parties) == 1 {
		of = func(p string) bool { return p == parties[0] }
	}
	for _, party := range parties {
		ix.partyViews(party, knownAt, func(a *agreement, v *view, bound *events.Record) {
			if seen[a] {
				return
			}
			seen[a] = true
			xs := v.versions
			if bound != nil {
				xs = xs[:v.madeBefore(bound)]
			}
			for _, x := range xs {
				c := x.clause
				if !of(c.Holder) && !of(c.Grantor) || !grantsOver(c, scope) {
					continue
				}
				if lo, hi, ok := x.intervalBefore(bound); ok && lo.Before(to) && (hi.IsZero() || hi.After(from)) {
					fn(a.name, x, lo, hi)
				}
			}
		})
	}
}
