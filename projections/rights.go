package projections

import (
	"math"
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
// [from, to), as known at knownAt, that gives one of parties (sorted) the
// right to offer all of scope, once each, with the interval it is in force.
// For at most most parties it reads the agreements they are named in; for
// more, the grant index (exclusive grants and the other grants over a
// scope), as grantsDuring reads it.
func (ix *Index) basisDuring(parties []string, most int, scope *events.Scope, from, to, knownAt time.Time, fn func(agreement string, x *version, lo, hi time.Time)) {
	cut := ix.cut(knownAt)
	if cut == 0 || len(parties) == 0 {
		return
	}
	of := func(p string) bool { return p == parties[0] }
	if len(parties) > 1 {
		set := make(map[string]bool, len(parties))
		for _, p := range parties {
			set[p] = true
		}
		of = func(p string) bool { return set[p] }
	}
	// take takes x if it covers scope and is in force in the window; named:
	// its parties are known to include one of parties.
	take := func(a *agreement, x *version, bound *events.Record, named bool) {
		c := x.clause
		if !named && !of(c.Holder) && !of(c.Grantor) || !c.Scope.Covers(scope) {
			return
		}
		if lo, hi, ok := x.intervalBefore(bound); ok && lo.Before(to) && (hi.IsZero() || hi.After(from)) {
			fn(a.name, x, lo, hi)
		}
	}
	// read reads a view folded up to bound: its clauses of a kind that
	// grants over a scope, each version made before bound.
	read := func(a *agreement, v *view, bound *events.Record) {
		for _, l := range v.order {
			if !slices.Contains(events.ScopeKinds, l.kind()) {
				continue // a kind never changes
			}
			for x := l.current; x != nil; x = x.prev {
				if before(x.by, bound) {
					take(a, x, bound, false)
				}
			}
		}
	}
	if len(parties) <= most {
		seen := map[*agreement]bool{}
		for _, party := range parties {
			for _, a := range ix.byParty[party] {
				if !seen[a] && a.versionAt(cut) > 0 {
					v, bound := ix.viewAt(a, cut)
					read(a, v, bound)
				}
				seen[a] = true
			}
		}
		return
	}
	var changed map[*agreement]bool
	if cut != math.MaxUint64 {
		changed = ix.changedSince(cut, read)
	}
	g := ix.grants
	qmask := g.mask(scope, false)
	fm, tm := micros(from), micros(to)
	// The parties asked about by number: as holders and grantors of
	// exclusive grants (holders, keys), and as parties of the others (names).
	holders, keys, named := make([]bool, len(g.holders)), make([]bool, len(g.keys)), make([]bool, len(g.names))
	for _, p := range parties {
		if id, ok := g.holders[p]; ok {
			holders[id] = true
		}
		if id, ok := g.names[p]; ok {
			named[id] = true
		}
	}
	for _, p := range parties {
		for _, k := range events.Kinds {
			if id, ok := g.byKey[grantKey{p, k}]; ok {
				keys[id] = true
			}
		}
	}
	for i := range g.es {
		e := &g.es[i]
		if (holders[e.holder] || keys[e.key]) && e.hi >= fm && e.lo <= tm && mayCover(e.mask, qmask) && (changed == nil || !changed[e.a]) {
			take(e.a, e.x, nil, true)
		}
	}
	for i := range g.bs {
		e := &g.bs[i]
		if (named[e.holder] || named[e.grantor]) && e.hi >= fm && e.lo <= tm && mayCover(e.mask, qmask) && (changed == nil || !changed[e.a]) {
			take(e.a, e.x, nil, true)
		}
	}
}

// byPartyMost is the most parties basisDuring finds the bases of through
// the agreements they are named in; the bases of more are found in the
// grant index, all at once.
var byPartyMost = 8
