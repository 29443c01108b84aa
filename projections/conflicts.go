package projections

import (
	"encoding/json"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/agreement-ledger/ledger/events"
)

// Conflict is two exclusive grants of the same kind (two exclusivities, or
// two exclusive licences) from the same grantor to different holders, in
// force at the same time, whose scopes intersect in every dimension. An
// exclusive licence of IP and an exclusivity to serve grant different things
// (Check likewise ignores licences), so they do not conflict with each other.
type Conflict struct {
	Grantor string
	Scope   *events.Scope // where both apply; nil: everywhere
	From    time.Time     // the window in which both are in force
	Until   time.Time     // zero: open-ended
	Clauses [2]Party
}

// Party is one side of a conflict or a clause deciding a rights check.
type Party struct {
	Agreement string      `json:"agreement"`
	Clause    string      `json:"clause"`
	Kind      events.Kind `json:"kind"`
	Grantor   string      `json:"grantor"`
	Holder    string      `json:"holder"`
	Sole      bool        `json:"sole,omitempty"`
	Scope     scopeJSON   `json:"scope"`
	Since     string      `json:"since"` // when the clause's current values took effect
}

type scopeJSON struct{ *events.Scope }

func (s scopeJSON) MarshalJSON() ([]byte, error) {
	if s.Scope == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(s.Scope)
}

func partyOf(agreement string, x *version) Party {
	return Party{Agreement: agreement, Clause: x.clause.ID, Kind: x.clause.Kind, Grantor: x.clause.Grantor,
		Holder: x.clause.Holder, Sole: x.clause.Sole, Scope: scopeJSON{x.clause.Scope}, Since: events.FormatTime(x.fromT())}
}

// MarshalJSON writes {"grantor","scope","from","until","clauses":[…]}.
func (c Conflict) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{
		"grantor": c.Grantor,
		"scope":   scopeJSON{c.Scope},
		"from":    events.FormatTime(c.From),
		"until":   timeOrNull(c.Until),
		"clauses": c.Clauses,
	})
}

// grant is an exclusive grant version with the agreement it belongs to, read
// in a view folded up to bound (nil: everything), with its scope mask, and
// its key and holder in the grant index (-1: not known there).
type grant struct {
	a      *agreement
	x      *version
	bound  *events.Record
	mask   uint64
	key    int32
	holder int32
	span   *interval // the interval, when frozen (see Index.frozen)
}

// interval is an interval in force: [lo, hi), hi zero meaning open; ok is false
// when it is never in force.
type interval struct {
	lo, hi time.Time
	ok     bool
}

func (s *interval) equal(o interval) bool {
	return s.ok == o.ok && s.lo.Equal(o.lo) && s.hi.Equal(o.hi)
}

func (g grant) agreement() string { return g.a.name }

func (g grant) interval() (lo, hi time.Time, ok bool) {
	if g.span != nil {
		return g.span.lo, g.span.hi, g.span.ok
	}
	return g.x.intervalBefore(g.bound)
}

// conflict returns the conflict between two grants, if they have one.
func conflict(a, b grant) (Conflict, bool) {
	if !mayMeet(a.mask, b.mask) || a.holder >= 0 && a.holder == b.holder {
		return Conflict{}, false
	}
	x, y := a.x.clause, b.x.clause
	// Grants of one key in the index have the same grantor and kind, and
	// holders known there differ when their numbers do.
	known := a.key >= 0 && a.key == b.key && a.holder >= 0 && b.holder >= 0
	if !known && (x.Grantor != y.Grantor || x.Holder == y.Holder || x.Kind != y.Kind) {
		return Conflict{}, false
	}
	// Times first: most versions a grant meets were closed before it began,
	// and intersecting scopes allocates.
	alo, ahi, aok := a.interval()
	blo, bhi, bok := b.interval()
	lo, hi := later(alo, blo), earlier(ahi, bhi)
	if !aok || !bok || !hi.IsZero() && !lo.Before(hi) {
		return Conflict{}, false
	}
	scope, ok := x.Scope.Intersect(y.Scope)
	if !ok {
		return Conflict{}, false
	}
	pa, pb := partyOf(a.agreement(), a.x), partyOf(b.agreement(), b.x)
	if cmpParty(&pa, &pb) > 0 {
		pa, pb = pb, pa
	}
	return Conflict{Grantor: x.Grantor, Scope: scope, From: lo, Until: hi, Clauses: [2]Party{pa, pb}}, true
}

func cmpParty(a, b *Party) int {
	if c := strings.Compare(a.Agreement, b.Agreement); c != 0 {
		return c
	}
	if c := strings.Compare(a.Clause, b.Clause); c != 0 {
		return c
	}
	return strings.Compare(a.Since, b.Since)
}

// conflicts finds every conflicting pair among grants of one grantor. Grants
// are bucketed by product so that a grantor with many grants over distinct
// products is not compared pair by pair.
func conflicts(gs []grant, emit func(Conflict)) {
	if len(gs) <= 32 {
		for i := range gs {
			for j := i + 1; j < len(gs); j++ {
				if c, ok := conflict(gs[i], gs[j]); ok {
					emit(c)
				}
			}
		}
		return
	}
	var everywhere []int
	byProduct := map[string][]int{}
	for i, g := range gs {
		ps := g.x.clause.Scope.Dim(0)
		if ps == nil {
			everywhere = append(everywhere, i)
		}
		for _, p := range ps {
			byProduct[p] = append(byProduct[p], i)
		}
	}
	seen := map[[2]int]bool{}
	try := func(i, j int) {
		if i == j {
			return
		}
		if i > j {
			i, j = j, i
		}
		if seen[[2]int{i, j}] {
			return
		}
		seen[[2]int{i, j}] = true
		if c, ok := conflict(gs[i], gs[j]); ok {
			emit(c)
		}
	}
	for _, i := range everywhere {
		for j := range gs {
			try(i, j)
		}
	}
	for _, idx := range byProduct {
		for a := range idx {
			for b := a + 1; b < len(idx); b++ {
				try(idx[a], idx[b])
			}
		}
	}
}

func sortConflicts(cs []Conflict) {
	slices.SortFunc(cs, func(a, b Conflict) int { return cmpConflict(&a, &b) })
}

// cmpConflict orders conflicts by grantor, then their clauses, then start.
func cmpConflict(a, b *Conflict) int {
	if c := strings.Compare(a.Grantor, b.Grantor); c != 0 {
		return c
	}
	if c := cmpParty(&a.Clauses[0], &b.Clauses[0]); c != 0 {
		return c
	}
	if c := cmpParty(&a.Clauses[1], &b.Clauses[1]); c != 0 {
		return c
	}
	return a.From.Compare(b.From)
}

// grantsAt calls fn with the exclusive grants in force at t as known at
// knownAt whose scopes may meet a scope of mask qmask (0: any), exclusivities
// only when excl: all at once, or when group one group per grantor and kind,
// the groups shared among workers goroutines (fn's first argument says
// which; fn may be called concurrently for different workers). fn must not
// keep gs.
//
// With everything recorded it reads only the grant index. As known at an
// earlier time, agreements recorded since are read as they were known then
// (viewAt); every other one is as it is now.
func (ix *Index) grantsAt(t, knownAt time.Time, excl bool, qmask uint64, group bool, workers int, fn func(w int, gs []grant)) {
	tm := micros(t)
	cut := ix.cut(knownAt)
	if cut == 0 {
		return // nothing was recorded yet
	}
	g := ix.grants
	s := scratch.Get().(*grantScratch)
	defer s.release()
	nkeys := len(g.keys)
	var changed map[*agreement]bool
	hits := s.part(0)
	if cut != math.MaxUint64 {
		more := map[grantKey]int32{}
		changed = ix.changedSince(cut, func(a *agreement, v *view, bound *events.Record) {
			for _, x := range v.grantsBefore(bound) {
				c := x.clause
				if excl && c.Kind != events.Exclusivity || !x.inForceBefore(t, tm, bound) {
					continue
				}
				m := g.mask(c.Scope, false)
				if !mayMeet(m, qmask) {
					continue
				}
				k, ok := g.byKey[grantKey{c.Grantor, c.Kind}]
				if !ok {
					if k, ok = more[grantKey{c.Grantor, c.Kind}]; !ok {
						k = int32(nkeys)
						more[grantKey{c.Grantor, c.Kind}] = k
						nkeys++
					}
				}
				h, ok := g.holders[c.Holder]
				if !ok {
					h = -1
				}
				*hits = append(*hits, grant{a: a, x: x, bound: bound, mask: m, key: k, holder: h})
			}
		})
	}
	// The index's entries are read in slices, one per worker.
	scan := func(w int, es []grantEntry) {
		hits := s.part(w)
		for i := range es {
			e := &es[i]
			if excl && !e.excl || !mayMeet(e.mask, qmask) || !e.inForce(t, tm) || changed != nil && changed[e.a] {
				continue
			}
			*hits = append(*hits, grant{a: e.a, x: e.x, mask: e.mask, key: e.key, holder: e.holder})
		}
	}
	workers = max(min(workers, len(g.es)/minPerWorker), 1)
	for w := range workers {
		s.part(w) // made before the workers share s
	}
	inParallel(workers, func(w int) {
		scan(w, g.es[w*len(g.es)/workers:(w+1)*len(g.es)/workers])
	})
	if !group {
		all := s.part(0)
		for _, p := range s.parts[1:workers] {
			*all = append(*all, p...)
		}
		if len(*all) > 0 {
			fn(0, *all)
		}
		return
	}
	s.group(nkeys, workers, fn)
}

// minPerWorker is the least work worth another goroutine: grant entries
// to scan, or grants to compare.
var minPerWorker = 4096

// inParallel runs fn(0) … fn(n-1), each on its own goroutine but the first.
func inParallel(n int, fn func(w int)) {
	var wg sync.WaitGroup
	for w := 1; w < n; w++ {
		wg.Go(func() { fn(w) })
	}
	fn(0)
	wg.Wait()
}

// grantsBefore returns the grant versions made before bound (nil: all).
func (v *view) grantsBefore(bound *events.Record) []*version {
	if bound == nil {
		return v.grants
	}
	n, _ := slices.BinarySearchFunc(v.grants, bound, func(x *version, b *events.Record) int { return foldOrder(x.by, b) })
	return v.grants[:n]
}

// ConflictReport is every conflict in force at At, as known at KnownAt.
type ConflictReport struct {
	At        time.Time
	KnownAt   time.Time
	Conflicts []Conflict
	// Damaged lists the agreements whose histories are damaged: they took
	// part only with their intact prefixes.
	Damaged []Damage
	// KnownAtAmendment is the amendment KnownAt was given as, if it was
	// (see EchoKnownAt).
	KnownAtAmendment *AmendmentRef
}

// MarshalJSON writes {"at","known_at","conflicts"}, and "damaged" when set.
func (r *ConflictReport) MarshalJSON() ([]byte, error) {
	m := map[string]any{"at": events.FormatTime(r.At), "known_at": timeOrNull(r.KnownAt), "conflicts": nonNil(r.Conflicts)}
	if r.KnownAtAmendment != nil {
		m["known_at_amendment"] = r.KnownAtAmendment
	}
	if len(r.Damaged) > 0 {
		m["damaged"] = r.Damaged
	}
	return json.Marshal(m)
}

// Conflicts returns every conflict in force at valid time at, as known at
// knownAt (zero: everything recorded).
func (ix *Index) Conflicts(at, knownAt time.Time) *ConflictReport {
	defer ix.read()()
	r := &ConflictReport{At: at, KnownAt: knownAt}
	// Conflicts are large: each worker gathers them in blocks, then the
	// pointers are sorted and each conflict copied once, in order.
	type gathered struct {
		block []Conflict
		found []*Conflict
	}
	ws := make([]gathered, runtime.GOMAXPROCS(0))
	ix.grantsAt(at, knownAt, false, 0, true, len(ws), func(w int, gs []grant) {
		if len(gs) < 2 {
			return
		}
		g := &ws[w]
		conflicts(gs, func(c Conflict) {
			if len(g.block) == cap(g.block) {
				g.block = make([]Conflict, 0, 256)
			}
			g.block = append(g.block, c)
			g.found = append(g.found, &g.block[len(g.block)-1])
		})
	})
	found := ws[0].found
	for _, g := range ws[1:] {
		found = append(found, g.found...)
	}
	slices.SortFunc(found, cmpConflict)
	r.Conflicts = make([]Conflict, len(found))
	for i, c := range found {
		r.Conflicts[i] = *c
	}
	return r
}

// RightsQuery asks whether Party may offer what Scope describes at At.
// Scope names one product, channel, platform or territory per dimension, or
// leaves a dimension out for "any".
type RightsQuery struct {
	Party   string
	Scope   *events.Scope
	At      time.Time
	KnownAt time.Time
	// IgnoreBasis asks only whether another's exclusivity is in the way
	// (freedom to operate): the answer is allowed unless denied, basis or
	// not. The verdict, basis and blocking clauses are the same either way.
	IgnoreBasis bool
}

// Rights is the answer to a RightsQuery: what gives the party the right
// (its basis), what keeps it out (blocking), and the verdict they make.
type Rights struct {
	Verdict Verdict
	// Allowed answers the question asked: the verdict is allowed; with
	// IgnoreBasis, it is not denied.
	Allowed     bool
	IgnoreBasis bool
	// Basis lists the clauses in force that give the party the right to
	// offer all that is asked (see givesBasis).
	Basis []Decision
	// Blocking lists the exclusivities in force, covering part of what is
	// asked, that keep the party out (see bindsParty).
	Blocking []Decision
	// DecidedBy lists the clauses that decide the verdict: Blocking when
	// denied, Basis when allowed, none when there is no basis. (The answer
	// had it before it had Basis and Blocking.)
	DecidedBy []Decision
	// Damaged lists the agreements whose histories are damaged: they took
	// part only with their intact prefixes.
	Damaged []Damage
	// At and KnownAt echo the question (Check sets them; an avails
	// interval's Rights has none), and KnownAtAmendment the amendment
	// KnownAt was given as, if it was (see EchoKnownAt).
	At, KnownAt      time.Time
	KnownAtAmendment *AmendmentRef
}

// Decision is a clause that decides a rights check, and where it applies.
type Decision struct {
	Party
	Where scopeJSON `json:"where"` // the part of the query it covers
	Binds bool      `json:"binds"` // whether it keeps the party out
}

// newRights makes the answer of basis and blocking clauses, each in
// Check's order: denied when something blocks; otherwise allowed when
// something gives the party the right, and no_basis when nothing does.
func newRights(basis, blocking []Decision, ignoreBasis bool) Rights {
	r := Rights{Verdict: VerdictNoBasis, IgnoreBasis: ignoreBasis, Basis: nonNil(basis), Blocking: nonNil(blocking), DecidedBy: []Decision{}}
	switch {
	case len(blocking) > 0:
		r.Verdict, r.DecidedBy = VerdictDenied, r.Blocking
	case len(basis) > 0:
		r.Verdict, r.DecidedBy = VerdictAllowed, r.Basis
	}
	r.Allowed = r.Verdict == VerdictAllowed || ignoreBasis && r.Verdict != VerdictDenied
	return r
}

// MarshalJSON writes {"verdict","allowed","ignore_basis","basis","blocking","decided_by"},
// "damaged" when set, and the question's "at" and "known_at" (and
// "known_at_amendment") when it has them.
func (r Rights) MarshalJSON() ([]byte, error) {
	m := map[string]any{"verdict": r.Verdict, "allowed": r.Allowed, "ignore_basis": r.IgnoreBasis,
		"basis": nonNil(r.Basis), "blocking": nonNil(r.Blocking), "decided_by": nonNil(r.DecidedBy)}
	if len(r.Damaged) > 0 {
		m["damaged"] = r.Damaged
	}
	if !r.At.IsZero() {
		m["at"], m["known_at"] = events.FormatTime(r.At), timeOrNull(r.KnownAt)
	}
	if r.KnownAtAmendment != nil {
		m["known_at_amendment"] = r.KnownAtAmendment
	}
	return json.Marshal(m)
}

// Check answers a rights query. Its blocking clauses are the exclusivities
// in force that cover part of what is asked and bind the party (bindsParty:
// held by someone else, and not a sole grant the party made); its basis the
// clauses in force that give the party the right to offer all of it
// (givesBasis: a licence, exclusivity or right it holds, or one it granted).
// Exclusive licences are licences of IP and do not decide who may offer a
// product: they count as conflicts, and as a basis, but never block.
func (ix *Index) Check(q RightsQuery) Rights {
	defer ix.read()()
	var blocking []Decision
	ix.grantsAt(q.At, q.KnownAt, true, ix.grants.mask(q.Scope, false), false, 1, func(_ int, gs []grant) {
		for _, g := range gs {
			c := g.x.clause
			if !bindsParty(c, q.Party) {
				continue
			}
			if where, ok := c.Scope.Intersect(q.Scope); ok {
				blocking = append(blocking, Decision{Party: partyOf(g.agreement(), g.x), Where: scopeJSON{where}, Binds: true})
			}
		}
	})
	basis := ix.basisAt(q.Party, q.Scope, q.At, q.KnownAt)
	byClause := func(a, b Decision) int { return cmpParty(&a.Party, &b.Party) }
	slices.SortFunc(blocking, byClause)
	slices.SortFunc(basis, byClause)
	r := newRights(basis, blocking, q.IgnoreBasis)
	r.At, r.KnownAt = q.At, q.KnownAt
	return r
}

// changedSince calls visit with the view as known at cut of each agreement
// recorded since cut, and of each a held batch changed (tentatively: they
// are read as known at cut), once each, and returns them all: a question
// as known at cut reads these from their views, the others from the grant
// index. An agreement with nothing recorded by cut is returned, not visited.
func (ix *Index) changedSince(cut uint64, visit func(a *agreement, v *view, bound *events.Record)) map[*agreement]bool {
	changed := map[*agreement]bool{}
	var since []*agreement
	i := sort.Search(len(ix.all), func(i int) bool { return ix.all[i].Seq > cut })
	for _, r := range ix.all[i:] {
		since = append(since, ix.agreements[r.Agreement])
	}
	if ix.kept != nil {
		for name := range ix.kept.trials {
			if a := ix.agreements[name]; a != nil {
				since = append(since, a)
			}
		}
	}
	for _, a := range since {
		if changed[a] {
			continue
		}
		changed[a] = true
		if a.versionAt(cut) == 0 {
			continue
		}
		v, bound := ix.viewAt(a, cut)
		visit(a, v, bound)
	}
	return changed
}
