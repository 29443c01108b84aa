package projections

import (
	"math"
	"runtime"
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
	// during returns the interval x is in force, made before bound, if it
	// covers scope and is in force in the window.
	during := func(x *version, bound *events.Record) (lo, hi time.Time, ok bool) {
		if !x.clause.Scope.Covers(scope) {
			return lo, hi, false
		}
		lo, hi, ok = x.intervalBefore(bound)
		return lo, hi, ok && lo.Before(to) && (hi.IsZero() || hi.After(from))
	}
	take := func(a *agreement, x *version, bound *events.Record) {
		if c := x.clause; !of(c.Holder) && !of(c.Grantor) {
			return
		}
		if lo, hi, ok := during(x, bound); ok {
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
					take(a, x, bound)
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
	// The two arrays are scanned on every core, each worker a part of
	// each; what they find is passed on in the order of the arrays.
	type found struct {
		a      *agreement
		x      *version
		lo, hi time.Time
	}
	workers := max(min(runtime.GOMAXPROCS(0), (len(g.es)+len(g.bs))/minPerWorker), 1)
	finds := make([][2][]found, workers)
	inParallel(workers, func(w int) {
		add := func(k int, a *agreement, x *version) {
			if lo, hi, ok := during(x, nil); ok {
				finds[w][k] = append(finds[w][k], found{a, x, lo, hi})
			}
		}
		for i := w * len(g.es) / workers; i < (w+1)*len(g.es)/workers; i++ {
			e := &g.es[i]
			if (holders[e.holder] || keys[e.key]) && e.hi >= fm && e.lo <= tm && mayCover(e.mask, qmask) && (changed == nil || !changed[e.a]) {
				add(0, e.a, e.x)
			}
		}
		for i := w * len(g.bs) / workers; i < (w+1)*len(g.bs)/workers; i++ {
			e := &g.bs[i]
			if (named[e.holder] || named[e.grantor]) && e.hi >= fm && e.lo <= tm && mayCover(e.mask, qmask) && (changed == nil || !changed[e.a]) {
				add(1, e.a, e.x)
			}
		}
	})
	for k := range 2 {
		for w := range finds {
			for _, f := range finds[w][k] {
				fn(f.a.name, f.x, f.lo, f.hi)
			}
		}
	}
}

// byPartyMost is the most parties basisDuring finds the bases of through
// the agreements they are named in; the bases of more are found in the
// grant index, all at once.
var byPartyMost = 8
