package projections

import (
	"slices"
	"sync"
	"time"

	"github.com/agreement-ledger/ledger/events"
)

// grantIndex holds every exclusive-grant version of the agreements' live
// views in one array of compact entries: the interval in force as
// microseconds, a summary of the scope, the grantor and kind (as a key:
// grants of different kinds never conflict, and a rights check reads only
// exclusivities) and the holder. A query at T scans the array, groups the
// grants in force by key, and looks at a clause only where two grants (or
// a grant and the query) may meet. Live views keep it up to date as they
// fold (view.gi); entries are removed by moving the last one in.
type grantIndex struct {
	byKey   map[grantKey]int32
	keys    []grantKey
	heads   []int32 // per key, the first of its entries (linked by next), or -1
	holders map[string]int32
	values  [4]map[string]uint64 // per scope dimension, a number for each value seen
	es      []grantEntry
	pos     map[*version]int32 // where each version's entry is
	// The versions of the other clauses that grant over a scope
	// (otherGrant: non-exclusive licences, rights), apart: with the
	// exclusive grants, they are where a rights check finds a basis.
	bs    []basisEntry
	bpos  map[*version]int32
	names map[string]int32 // a number for each party of bs's clauses
}

// basisEntry is a version of another clause that grants over a scope, in
// force over [lo, hi) (as grantEntry's), with its scope's mask and its
// parties' numbers (grantIndex.names).
type basisEntry struct {
	lo, hi          int64
	mask            uint64
	x               *version
	a               *agreement
	holder, grantor int32
}

// otherGrant reports whether c grants something over a scope (its kind is
// one of events.ScopeKinds) without being an exclusive grant.
func otherGrant(c *events.Clause) bool {
	return !c.ExclusiveGrant() && slices.Contains(events.ScopeKinds, c.Kind)
}

type grantKey struct {
	grantor string
	kind    events.Kind
}

// grantEntry is one exclusive-grant version in force over [lo, hi) (in
// micros, with version.inForce's exact fallback on ties).
type grantEntry struct {
	lo, hi int64
	mask   uint64 // the mask of its scope
	x      *version
	a      *agreement
	key    int32 // grantor and kind
	holder int32
	// The entries of a key are a list, for the grants of one grantor.
	prev, next int32
	excl       bool // an exclusivity (else an exclusive licence)
}

func newGrantIndex() *grantIndex {
	g := &grantIndex{byKey: map[grantKey]int32{}, holders: map[string]int32{}, pos: map[*version]int32{}, bpos: map[*version]int32{}, names: map[string]int32{}}
	for d := range g.values {
		g.values[d] = map[string]uint64{}
	}
	return g
}

func (g *grantIndex) key(c *events.Clause) int32 {
	k := grantKey{c.Grantor, c.Kind}
	id, ok := g.byKey[k]
	if !ok {
		id = int32(len(g.keys))
		g.byKey[k] = id
		g.keys = append(g.keys, k)
		g.heads = append(g.heads, -1)
	}
	return id
}

// number is the number of s in numbers, given it the first time: holders
// of exclusive grants (holders), parties of the other grants (names).
func number(numbers map[string]int32, s string) int32 {
	id, ok := numbers[s]
	if !ok {
		id = int32(len(numbers))
		numbers[s] = id
	}
	return id
}

func (g *grantIndex) add(a *agreement, x *version) {
	c := x.clause
	i, k := int32(len(g.es)), g.key(c)
	g.pos[x] = i
	g.es = append(g.es, grantEntry{lo: x.lo(), hi: x.hi, mask: g.mask(c.Scope, true), x: x, a: a, key: k, holder: number(g.holders, c.Holder),
		prev: -1, next: g.heads[k], excl: c.Kind == events.Exclusivity})
	if n := g.heads[k]; n >= 0 {
		g.es[n].prev = i
	}
	g.heads[k] = i
}

func (g *grantIndex) update(x *version) { g.es[g.pos[x]].hi = x.hi }

func (g *grantIndex) remove(x *version) {
	i := g.pos[x]
	delete(g.pos, x)
	e := &g.es[i]
	if e.prev >= 0 {
		g.es[e.prev].next = e.next
	} else {
		g.heads[e.key] = e.next
	}
	if e.next >= 0 {
		g.es[e.next].prev = e.prev
	}
	last := int32(len(g.es) - 1)
	if i != last {
		m := g.es[last]
		g.es[i] = m
		if m.prev >= 0 {
			g.es[m.prev].next = i
		} else {
			g.heads[m.key] = i
		}
		if m.next >= 0 {
			g.es[m.next].prev = i
		}
		g.pos[m.x] = i
	}
	g.es[last] = grantEntry{}
	g.es = g.es[:last]
}

func (g *grantIndex) addBasis(a *agreement, x *version) {
	g.bpos[x] = int32(len(g.bs))
	g.bs = append(g.bs, basisEntry{lo: x.lo(), hi: x.hi, mask: g.mask(x.clause.Scope, true), x: x, a: a,
		holder: number(g.names, x.clause.Holder), grantor: number(g.names, x.clause.Grantor)})
}

func (g *grantIndex) updateBasis(x *version) { g.bs[g.bpos[x]].hi = x.hi }

func (g *grantIndex) removeBasis(x *version) {
	i, last := g.bpos[x], int32(len(g.bs)-1)
	delete(g.bpos, x)
	if i != last {
		g.bs[i] = g.bs[last]
		g.bpos[g.bs[i].x] = i
	}
	g.bs[last] = basisEntry{}
	g.bs = g.bs[:last]
}

// join adds the grants of view v of agreement a; leave takes them out.
func (g *grantIndex) join(a *agreement, v *view) {
	for _, x := range v.grants {
		g.add(a, x)
	}
	for _, x := range v.versions {
		if otherGrant(x.clause) {
			g.addBasis(a, x)
		}
	}
}

func (g *grantIndex) leave(v *view) {
	for _, x := range v.grants {
		g.remove(x)
	}
	for _, x := range v.versions {
		if otherGrant(x.clause) {
			g.removeBasis(x)
		}
	}
}

// inForce reports whether the entry's grant is in force at t (tm = micros(t)).
func (e *grantEntry) inForce(t time.Time, tm int64) bool {
	if e.lo < tm && tm < e.hi {
		return true
	}
	if tm < e.lo || tm > e.hi {
		return false
	}
	return e.x.inForce(t, tm)
}

// scratch is reused by grant queries: grouping needs a count per key.
var scratch = sync.Pool{New: func() any { return new(grantScratch) }}

type grantScratch struct {
	parts [][]grant // the grants found, by worker
	out   []grant
	count []int32
}

// part returns worker w's grants, making room for them.
func (s *grantScratch) part(w int) *[]grant {
	for len(s.parts) <= w {
		s.parts = append(s.parts, nil)
	}
	return &s.parts[w]
}

func (s *grantScratch) release() {
	for i := range s.parts {
		clear(s.parts[i])
		s.parts[i] = s.parts[i][:0]
	}
	scratch.Put(s)
}

// group calls fn with the grants found that share a key, each group once;
// keys are below nkeys. The groups are shared among workers goroutines in
// runs of keys with about as many grants each.
func (s *grantScratch) group(nkeys, workers int, fn func(w int, gs []grant)) {
	if cap(s.count) < nkeys+1 {
		s.count = make([]int32, nkeys+1)
	}
	count := s.count[:nkeys+1]
	clear(count)
	n := 0
	for _, hits := range s.parts {
		n += len(hits)
		for i := range hits {
			count[hits[i].key+1]++
		}
	}
	if n == 0 {
		return
	}
	for k := 1; k <= nkeys; k++ {
		count[k] += count[k-1]
	}
	if cap(s.out) < n {
		s.out = make([]grant, n)
	}
	out := s.out[:n]
	for _, hits := range s.parts {
		for _, h := range hits {
			out[count[h.key]] = h
			count[h.key]++
		}
	}
	// count[k] is now where the group of key k ends. Worker w takes the
	// groups that start in [lo, hi), its share of the grants.
	workers = max(min(workers, n/minPerWorker), 1)
	inParallel(workers, func(w int) {
		lo, hi := int32(w*n/workers), int32((w+1)*n/workers)
		k := 0
		if lo > 0 {
			// The first group starting at or after lo follows the first
			// that ends there.
			i, _ := slices.BinarySearch(count[:nkeys], lo)
			k = i + 1
		}
		for ; k < nkeys; k++ {
			start, end := int32(0), count[k]
			if k > 0 {
				start = count[k-1]
			}
			if start >= hi {
				break
			}
			if end > start {
				fn(w, out[start:end])
			}
		}
	})
	clear(out)
}

// A scope mask summarises a scope: each value of a dimension sets one bit
// of the dimension's field (products 40 bits, channels, platforms and
// territories 8 each), by the number the index gave the value (values added
// with intern), or by its hash for a value the index has not seen (no grant
// in the index has it; every mask made until it is added agrees on its bit);
// a dimension that is everything sets none. Two scopes whose masks have, in
// some dimension, bits on both sides but none in common do not meet;
// otherwise they may. Small sets of values (channels, platforms,
// territories) get a bit each.
var maskFields = [4]struct{ shift, bits uint64 }{{0, 40}, {40, 8}, {48, 8}, {56, 8}}

func (g *grantIndex) mask(s *events.Scope, intern bool) uint64 {
	if s == nil {
		return 0
	}
	var m uint64
	for d, f := range maskFields {
		for _, v := range s.Dim(d) {
			n, ok := g.values[d][v]
			switch {
			case ok:
			case intern:
				n = uint64(len(g.values[d]))
				g.values[d][v] = n
			default:
				n = hash(v)
			}
			m |= 1 << (f.shift + n%f.bits)
		}
	}
	return m
}

// mayMeet reports whether scopes with masks a and b may meet.
func mayMeet(a, b uint64) bool {
	for _, f := range maskFields {
		field := uint64(1)<<f.bits - 1
		x, y := a>>f.shift&field, b>>f.shift&field
		if x != 0 && y != 0 && x&y == 0 {
			return false
		}
	}
	return true
}

// mayCover reports whether a scope with mask a may cover all of a query
// with mask q (see events.Scope.Covers): in each dimension a is
// everything, or has every bit q has, where q names values.
func mayCover(a, q uint64) bool {
	for _, f := range maskFields {
		field := uint64(1)<<f.bits - 1
		x, y := a>>f.shift&field, q>>f.shift&field
		if x != 0 && x&y != y || x != 0 && y == 0 {
			return false
		}
	}
	return true
}

// hash is FNV-1a.
func hash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
