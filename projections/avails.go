package projections

import (
	"encoding/json"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/agreement-ledger/ledger/events"
)

// Avails answer "from when to when may P offer X?": the rights check
// (Check) as a function of valid time over a window [From, To), as known at
// KnownAt. The window is cut into periods at every time an exclusivity that
// covers part of the query (and may block) comes in force or stops; a
// party's periods are cut again where a clause that gives it a basis for
// all of the query does. Each party's answer is the check's rule applied
// to each piece, and adjacent pieces with the same verdict and the same
// deciding clauses (basis and blocking) are merged. So at any time T in an
// interval the interval's verdict and clauses are what Check answers at T.
//
// The answer depends on the party only through the exclusivities that do
// not bind it (those it holds, and sole grants it made) and the clauses
// that give it a basis, so parties with none of the first and no basis
// starting or ending in the window share one list of intervals (one for
// those without a basis, one for those with one throughout). An interval
// keeps the period it starts with rather than a copy of its deciding
// clauses, which Rights finds again: in a store where hundreds of
// exclusivities cover one product, the answer is not hundreds of times the
// work.

// AvailsQuery asks when, over [From, To), parties may offer what Scope
// describes (one value per dimension, or a dimension left out for any; see
// RightsQuery), as known at KnownAt (zero: everything recorded).
type AvailsQuery struct {
	Scope *events.Scope
	// Party restricts the answer to one party. Without it, the answer has
	// every party that an exclusive grant (an exclusivity, or an exclusive
	// licence) covering Scope and in force in the window names, as grantor
	// or holder.
	Party    string
	From, To time.Time
	KnownAt  time.Time
	// IgnoreBasis asks the check's question with IgnoreBasis (see
	// RightsQuery): an interval is allowed unless denied.
	IgnoreBasis bool
}

// Verdict is a rights check's answer (Check), at a time or for an interval.
type Verdict string

// Verdicts.
const (
	VerdictAllowed Verdict = "allowed"  // something gives the party the right, nothing keeps it out
	VerdictDenied  Verdict = "denied"   // another's exclusivity keeps the party out
	VerdictNoBasis Verdict = "no_basis" // nothing keeps it out, and nothing gives it the right
)

// Avails is the answer to an AvailsQuery.
type Avails struct {
	Scope       *events.Scope
	Party       string // the party asked about, or "" for every party named
	From, To    time.Time
	KnownAt     time.Time
	IgnoreBasis bool
	Parties     []PartyAvails // by party name
	// Damaged lists the agreements whose histories are damaged: they took
	// part only with their intact prefixes.
	Damaged []Damage
	// KnownAtAmendment is the amendment KnownAt was given as, if it was
	// (see EchoKnownAt).
	KnownAtAmendment *AmendmentRef

	// The clauses that decide some interval: the exclusivities, then the
	// bases, each in Check's order (Binds unset; see decision).
	clauses []Decision
	clause  []*events.Clause // each one's values
	// each one's part: a basis of the parties that hold or granted it
	// (givesBasis), or else an exclusivity covering part of the query, which
	// blocks those it binds (bindsParty). A clause that is both is there
	// twice, once for each part.
	basis []bool
	// The exclusivities decide by period: periods[k].active lists those in
	// force. A basis decides one party only: own lists each party's, in
	// Check's order, and span when each is in force.
	periods []period
	own     map[string][]int32
	span    []interval
	// The decisions of the bases (the clauses after the exclusivities) are
	// made when asked for: lazy[i-len(exclusivities)] is basis i's, or empty
	// when av.clauses[i] is made.
	lazy []lazyDecision
}

// lazyDecision is a version, a basis, of which a Decision is made when
// asked for (basisDecision).
type lazyDecision struct {
	agreement string
	x         *version
}

// decision is clause i's decision (Binds unset).
func (av *Avails) decision(i int32) Decision {
	if j := int(i) - (len(av.clauses) - len(av.lazy)); j >= 0 && av.lazy[j].x != nil {
		return basisDecision(av.lazy[j].agreement, av.lazy[j].x, av.Scope)
	}
	return av.clauses[i]
}

// period is a stretch of the window in which the same exclusivities are in
// force.
type period struct {
	from, until time.Time
	active      []int32 // indices into Avails.clauses, in order
}

// PartyAvails is one party's intervals, which partition the window.
type PartyAvails struct {
	Party     string
	Intervals []Avail
}

// Avail is a maximal interval [From, Until) of the window in which a party's
// verdict and the clauses that decide it stay the same.
type Avail struct {
	From, Until time.Time
	Verdict     Verdict
	first       int32 // the period it starts in; its blocking clauses are that period's
}

// bindsParty is the rule of a rights check: an exclusivity keeps a party out
// unless the party holds it, or made it as a sole grant (which does not bind
// its own grantor).
func bindsParty(c *events.Clause, party string) bool {
	return c.Holder != party && !(c.Sole && c.Grantor == party)
}

// Rights is the check's answer in interval a of party: its verdict and the
// clauses that decide it, exactly as Check answers at any time in a.
func (av *Avails) Rights(party string, a Avail) Rights {
	var basis, blocking []Decision
	av.deciders(party, a, func(i int32) { basis = append(basis, av.decision(i)) }, func(i int32) {
		d := av.decision(i)
		d.Binds = true
		blocking = append(blocking, d)
	})
	return newRights(basis, blocking, av.IgnoreBasis)
}

// deciders calls basis with each clause that gives party a basis in
// interval a, then blocking with each that keeps it out, each in Check's
// order.
func (av *Avails) deciders(party string, a Avail, basis, blocking func(i int32)) {
	for _, i := range av.own[party] {
		if sp := av.span[i]; !sp.lo.After(a.From) && (sp.hi.IsZero() || sp.hi.After(a.From)) {
			basis(i)
		}
	}
	for _, i := range av.periods[a.first].active {
		if bindsParty(av.clause[i], party) {
			blocking(i)
		}
	}
}

// At returns the interval of party that holds t, and whether there is one
// (t in the window, party in the answer).
func (av *Avails) At(party string, t time.Time) (Avail, bool) {
	i, ok := slices.BinarySearchFunc(av.Parties, party, func(p PartyAvails, name string) int { return strings.Compare(p.Party, name) })
	if !ok || t.Before(av.From) || !t.Before(av.To) {
		return Avail{}, false
	}
	ivs := av.Parties[i].Intervals
	j := sort.Search(len(ivs), func(j int) bool { return ivs[j].Until.After(t) })
	return ivs[j], true
}

// Avails answers an AvailsQuery.
func (ix *Index) Avails(q AvailsQuery) (*Avails, error) { return ix.avails(q, byPartyMost) }

// avails answers q, finding the bases of at most byParty parties through
// the agreements they are named in (see basisDuring).
func (ix *Index) avails(q AvailsQuery, byParty int) (*Avails, error) {
	if err := checkWindow(q.From, q.To); err != nil {
		return nil, err
	}
	defer ix.read()()
	av := &Avails{Scope: q.Scope, Party: q.Party, From: q.From, To: q.To, KnownAt: q.KnownAt, IgnoreBasis: q.IgnoreBasis}
	type found struct {
		c      *events.Clause
		lo, hi time.Time
		d      Decision
	}
	var rule []found // the exclusivities that may block
	named := map[string]bool{}
	ix.grantsDuring(q.From, q.To, q.KnownAt, false, "", ix.grants.mask(q.Scope, false), func(g grant, lo, hi time.Time) {
		c := g.x.clause
		where, ok := c.Scope.Intersect(q.Scope)
		if !ok {
			return
		}
		named[c.Grantor], named[c.Holder] = true, true
		if c.Kind == events.Exclusivity { // exclusive licences are IP: they do not block (see Check)
			rule = append(rule, found{c, lo, hi, Decision{Party: partyOf(g.agreement(), g.x), Where: scopeJSON{where}}})
		}
	})
	slices.SortFunc(rule, func(a, b found) int { return cmpParty(&a.d.Party, &b.d.Party) })
	var parties []string
	if q.Party != "" {
		parties = []string{q.Party}
	} else {
		for p := range named {
			parties = append(parties, p)
		}
		slices.Sort(parties)
	}
	// The bases: their decisions are made when asked for (decision).
	type basisOf struct {
		agreement string
		x         *version
		lo, hi    time.Time
	}
	var bases []basisOf
	ix.basisDuring(parties, byParty, q.Scope, q.From, q.To, q.KnownAt, func(agreement string, x *version, lo, hi time.Time) {
		bases = append(bases, basisOf{agreement, x, lo, hi})
	})
	// In Check's order; versions of one clause, never in force together,
	// by when they took effect.
	slices.SortFunc(bases, func(a, b basisOf) int {
		if c := strings.Compare(a.agreement, b.agreement); c != 0 {
			return c
		}
		if c := strings.Compare(a.x.clause.ID, b.x.clause.ID); c != 0 {
			return c
		}
		return a.x.fromT().Compare(b.x.fromT())
	})
	all := len(rule) + len(bases)
	av.clauses = make([]Decision, all)
	av.clause = make([]*events.Clause, all)
	av.basis = make([]bool, all)
	av.span = make([]interval, all)
	av.lazy = make([]lazyDecision, len(bases))
	av.own = map[string][]int32{}
	for i, f := range rule {
		av.clauses[i], av.clause[i], av.span[i] = f.d, f.c, interval{f.lo, f.hi, true}
	}
	for j, b := range bases {
		i := len(rule) + j
		c := b.x.clause
		av.clause[i], av.basis[i], av.span[i] = c, true, interval{b.lo, b.hi, true}
		av.lazy[j] = lazyDecision{b.agreement, b.x}
		av.own[c.Holder] = append(av.own[c.Holder], int32(i))
		if c.Grantor != c.Holder {
			av.own[c.Grantor] = append(av.own[c.Grantor], int32(i))
		}
	}

	// The periods: the window cut where an exclusivity comes in force or
	// stops.
	var cuts []time.Time
	for _, f := range rule {
		for _, t := range [2]time.Time{f.lo, f.hi} {
			if t.After(q.From) && t.Before(q.To) {
				cuts = append(cuts, t)
			}
		}
	}
	slices.SortFunc(cuts, time.Time.Compare)
	cuts = slices.CompactFunc(cuts, time.Time.Equal)
	n := len(cuts) + 1
	// periodOf is the first period that starts at or after t.
	periodOf := func(t time.Time) int32 {
		return int32(sort.Search(len(cuts), func(i int) bool { return !cuts[i].Before(t) }) + 1)
	}
	start, end := make([]int32, len(rule)), make([]int32, len(rule))
	av.periods = make([]period, n)
	counts := make([]int32, n+1) // exclusivities in force per period (as differences, then counts)
	changes := make([]int32, n)  // changes[k]: exclusivities that start or end where period k starts
	for i, f := range rule {
		start[i], end[i] = 0, int32(n)
		if f.lo.After(q.From) {
			start[i] = periodOf(f.lo)
		}
		if !f.hi.IsZero() && f.hi.Before(q.To) {
			end[i] = periodOf(f.hi)
		}
		counts[start[i]]++
		counts[end[i]]--
		changes[start[i]]++
		if end[i] < int32(n) {
			changes[end[i]]++
		}
	}
	for k := range av.periods {
		p := &av.periods[k]
		p.from, p.until = q.From, q.To
		if k > 0 {
			p.from = cuts[k-1]
			counts[k] += counts[k-1]
		}
		if k < n-1 {
			p.until = cuts[k]
		}
		p.active = make([]int32, 0, counts[k])
	}
	for i := range rule { // in Check's order, so each period's list is too
		for k := start[i]; k < end[i]; k++ {
			av.periods[k].active = append(av.periods[k].active, int32(i))
		}
	}

	// Each party's intervals. free[p] lists the exclusivities that do not
	// bind party p (those bindsParty says no to: p holds them, or granted
	// them sole). A party with none of them, and no basis that starts or
	// ends in the window, has the intervals any such party has: one of
	// those without a basis, or of those with one throughout (an interval
	// keeps no basis of its own: Rights finds the party's).
	free := map[string][]int32{}
	for i, f := range rule {
		c := f.c
		free[c.Holder] = append(free[c.Holder], int32(i))
		if c.Sole && c.Grantor != c.Holder {
			free[c.Grantor] = append(free[c.Grantor], int32(i))
		}
	}
	// The parties' intervals, on every core for many: each worker writes
	// its share of av.Parties and reads the rest.
	av.Parties = make([]PartyAvails, len(parties))
	workers := max(min(runtime.GOMAXPROCS(0), len(parties)*n/minPerWorker), 1)
	inParallel(workers, func(w int) {
		lo, hi := w*len(parties)/workers, (w+1)*len(parties)/workers
		av.intervals(parties[lo:hi], av.Parties[lo:hi], free, start, end, counts, changes)
	})
	return av, nil
}

// intervals writes the intervals of parties into out, given: the
// exclusivities that do not bind each party (free), the period each
// exclusivity starts and ends in, how many are in force and how many start
// or end in each period (see avails).
func (av *Avails) intervals(parties []string, out []PartyAvails, free map[string][]int32, start, end, counts, changes []int32) {
	n := len(av.periods)
	type edge struct {
		at    time.Time
		delta int32
	}
	var common [2][]Avail         // without a basis, with one throughout
	unbound := make([]int32, n+1) // exclusivities not binding the party in force per period (as differences, then counts)
	unboundCut := make([]int32, n)
	var edges []edge
	var slab []Avail
	for pi, name := range parties {
		mine, bases := free[name], av.own[name]
		// The party's bases come in force and stop at their own times,
		// which may cut a period: their edges, in time order.
		based := int32(0)
		edges = edges[:0]
		for _, i := range bases {
			sp := av.span[i]
			if sp.lo.After(av.From) {
				edges = append(edges, edge{sp.lo, 1})
			} else {
				based++
			}
			if !sp.hi.IsZero() && sp.hi.Before(av.To) {
				edges = append(edges, edge{sp.hi, -1})
			}
		}
		shared := len(mine) == 0 && len(edges) == 0
		throughout := min(based, 1)
		if shared && common[throughout] != nil {
			out[pi] = PartyAvails{Party: name, Intervals: common[throughout]}
			continue
		}
		clear(unbound)
		clear(unboundCut)
		for _, i := range mine {
			unbound[start[i]]++
			unbound[end[i]]--
			unboundCut[start[i]]++
			if end[i] < int32(n) {
				unboundCut[end[i]]++
			}
		}
		slices.SortFunc(edges, func(a, b edge) int { return a.at.Compare(b.at) })
		// The intervals are at most the periods and the edges: taken from
		// one slab, for the many parties of a product.
		most := n + len(edges)
		if cap(slab)-len(slab) < most {
			slab = make([]Avail, 0, max(most, 4096))
		}
		ivs := slab[len(slab):len(slab):cap(slab)]
		e := 0
		for k := range av.periods {
			p := &av.periods[k]
			if k > 0 {
				unbound[k] += unbound[k-1]
			}
			// The deciding clauses stay the same across a cut where no
			// exclusivity binding the party and no basis of it starts or
			// ends.
			same := k == 0 || changes[k] == unboundCut[k]
			from := p.from
			for {
				for ; e < len(edges) && !edges[e].at.After(from); e++ {
					based += edges[e].delta
					same = false
				}
				until := p.until
				if e < len(edges) && edges[e].at.Before(until) {
					until = edges[e].at
				}
				v := verdict(int(counts[k]-unbound[k]), int(based))
				if m := len(ivs) - 1; m >= 0 && same && ivs[m].Verdict == v {
					ivs[m].Until = until
				} else {
					ivs = append(ivs, Avail{From: from, Until: until, Verdict: v, first: int32(k)})
				}
				if !until.Before(p.until) {
					break
				}
				from, same = until, true
			}
		}
		ivs = slices.Clip(ivs)
		slab = slab[:len(slab)+len(ivs)]
		if shared {
			common[throughout] = ivs
		}
		out[pi] = PartyAvails{Party: name, Intervals: ivs}
	}

}

// verdict applies the check's rule to a period in which blocking
// exclusivities bind the party and basis clauses give it the right.
func verdict(blocking, basis int) Verdict {
	switch {
	case blocking > 0:
		return VerdictDenied
	case basis > 0:
		return VerdictAllowed
	}
	return VerdictNoBasis
}

// checkWindow checks a window [from, to) of valid time.
func checkWindow(from, to time.Time) error {
	if !to.After(from) {
		return &events.Error{Kind: events.Invalid, Message: "the window is empty",
			Fields: []events.FieldError{{Path: "to", Message: "must be after from (" + events.FormatTime(from) + "); a window is [from, to)"}}}
	}
	return nil
}

// grantsDuring calls fn with every exclusive grant version (exclusivities
// only when excl; held by holder only when holder is not "") in force at
// some time in [from, to) as known at knownAt, whose scope may meet a scope
// of mask qmask (0: any), with the interval it is in force. It reads what
// grantsAt reads: the grant index, and agreements recorded since knownAt as
// they were known then.
func (ix *Index) grantsDuring(from, to, knownAt time.Time, excl bool, holder string, qmask uint64, fn func(g grant, lo, hi time.Time)) {
	cut := ix.cut(knownAt)
	if cut == 0 {
		return
	}
	g := ix.grants
	fm, tm := micros(from), micros(to)
	during := func(gr grant) {
		lo, hi, ok := gr.interval()
		if ok && lo.Before(to) && (hi.IsZero() || hi.After(from)) {
			fn(gr, lo, hi)
		}
	}
	hid := int32(-1)
	if holder != "" {
		h, ok := g.holders[holder]
		if !ok && cut == math.MaxUint64 {
			return // nobody ever held anything under that name
		}
		if ok {
			hid = h
		} else {
			hid = -2 // matches no entry
		}
	}
	var changed map[*agreement]bool
	if cut != math.MaxUint64 {
		changed = ix.changedSince(cut, func(a *agreement, v *view, bound *events.Record) {
			for _, x := range v.grantsBefore(bound) {
				c := x.clause
				if excl && c.Kind != events.Exclusivity || holder != "" && c.Holder != holder || !mayMeet(g.mask(c.Scope, false), qmask) {
					continue
				}
				during(grant{a: a, x: x, bound: bound, key: -1, holder: -1})
			}
		})
	}
	for i := range g.es {
		e := &g.es[i]
		if excl && !e.excl || hid != -1 && e.holder != hid || e.hi < fm || e.lo > tm || !mayMeet(e.mask, qmask) || changed != nil && changed[e.a] {
			continue
		}
		during(grant{a: e.a, x: e.x, key: e.key, holder: e.holder})
	}
}

// HoldingsQuery asks what Holder holds exclusively over [From, To), as
// known at KnownAt: its exclusivities and exclusive licences, limited to
// Scope (nil: everything).
type HoldingsQuery struct {
	Holder   string
	Scope    *events.Scope
	From, To time.Time
	KnownAt  time.Time
}

// Holdings is the answer to a HoldingsQuery: intervals that partition the
// window, cut where what the holder holds changes.
type Holdings struct {
	Holder    string
	Scope     *events.Scope
	From, To  time.Time
	KnownAt   time.Time
	Intervals []HeldInterval
	Damaged   []Damage // as in Avails
	// KnownAtAmendment is the amendment KnownAt was given as, if it was
	// (see EchoKnownAt).
	KnownAtAmendment *AmendmentRef
}

// HeldInterval is what the holder holds exclusively over [From, Until).
type HeldInterval struct {
	From, Until time.Time
	Holds       []Holding // in the order of a check's clauses
}

// Holding is an exclusive grant held, and the part of it within the
// query's scope.
type Holding struct {
	Party
	Where scopeJSON `json:"where"`
}

// Holdings answers a HoldingsQuery.
func (ix *Index) Holdings(q HoldingsQuery) (*Holdings, error) {
	if err := checkWindow(q.From, q.To); err != nil {
		return nil, err
	}
	defer ix.read()()
	h := &Holdings{Holder: q.Holder, Scope: q.Scope, From: q.From, To: q.To, KnownAt: q.KnownAt}
	type found struct {
		lo, hi time.Time
		h      Holding
	}
	var held []found
	ix.grantsDuring(q.From, q.To, q.KnownAt, false, q.Holder, ix.grants.mask(q.Scope, false), func(g grant, lo, hi time.Time) {
		where, ok := g.x.clause.Scope.Intersect(q.Scope)
		if ok {
			held = append(held, found{lo, hi, Holding{Party: partyOf(g.agreement(), g.x), Where: scopeJSON{where}}})
		}
	})
	slices.SortFunc(held, func(a, b found) int { return cmpParty(&a.h.Party, &b.h.Party) })
	cuts := []time.Time{q.From, q.To}
	for _, f := range held {
		for _, t := range [2]time.Time{f.lo, f.hi} {
			if t.After(q.From) && t.Before(q.To) {
				cuts = append(cuts, t)
			}
		}
	}
	slices.SortFunc(cuts, time.Time.Compare)
	cuts = slices.CompactFunc(cuts, time.Time.Equal)
	h.Intervals = make([]HeldInterval, len(cuts)-1)
	for k := range h.Intervals {
		iv := HeldInterval{From: cuts[k], Until: cuts[k+1], Holds: []Holding{}}
		for _, f := range held {
			if !f.lo.After(iv.From) && (f.hi.IsZero() || f.hi.After(iv.From)) {
				iv.Holds = append(iv.Holds, f.h)
			}
		}
		h.Intervals[k] = iv
	}
	return h, nil
}

// MarshalJSON writes {"scope","party","from","to","known_at","ignore_basis","parties":[{"party","intervals":[…]}]},
// and "damaged" when set;
// each interval is {"from","until","verdict","allowed","basis","blocking","decided_by"},
// its answer that of a check inside it. Intervals list the same clauses
// again and again (hundreds each, where hundreds of exclusivities cover a
// product), so each clause is encoded once, bound and not, and its bytes
// are copied where it decides.
func (av *Avails) MarshalJSON() ([]byte, error) {
	m := map[string]any{
		"scope":        scopeJSON{av.Scope},
		"party":        nonEmptyOrNull(av.Party),
		"from":         events.FormatTime(av.From),
		"to":           events.FormatTime(av.To),
		"known_at":     timeOrNull(av.KnownAt),
		"ignore_basis": av.IgnoreBasis,
	}
	if av.KnownAtAmendment != nil {
		m["known_at_amendment"] = av.KnownAtAmendment
	}
	if len(av.Damaged) > 0 {
		m["damaged"] = av.Damaged
	}
	head, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	encoded := make([][]byte, len(av.clauses)) // per clause, as it decides: a basis not binding, an exclusivity binding
	decision := func(i int32) ([]byte, error) {
		if encoded[i] == nil {
			d := av.decision(i)
			d.Binds = !av.basis[i]
			b, err := json.Marshal(d)
			if err != nil {
				return nil, err
			}
			encoded[i] = b
		}
		return encoded[i], nil
	}
	str := func(b []byte, s string) []byte {
		q, _ := json.Marshal(s)
		return append(b, q...)
	}
	// add appends a clause deciding an interval to the list of its part
	// (basis or blocking).
	var basisB, blockingB []byte
	add := func(to *[]byte) func(i int32) {
		return func(i int32) {
			d, e := decision(i)
			if e != nil {
				err = e
			}
			if len(*to) > 0 {
				*to = append(*to, ',')
			}
			*to = append(*to, d...)
		}
	}
	b := append(head[:len(head)-1], `,"parties":[`...)
	for i, p := range av.Parties {
		if i > 0 {
			b = append(b, ',')
		}
		b = str(append(b, `{"party":`...), p.Party)
		b = append(b, `,"intervals":[`...)
		for j, a := range p.Intervals {
			if j > 0 {
				b = append(b, ',')
			}
			b = str(append(b, `{"from":`...), events.FormatTime(a.From))
			b = str(append(b, `,"until":`...), events.FormatTime(a.Until))
			b = str(append(b, `,"verdict":`...), string(a.Verdict))
			b = append(b, `,"allowed":`...)
			b = strconv.AppendBool(b, a.Verdict == VerdictAllowed || av.IgnoreBasis && a.Verdict != VerdictDenied)
			basisB, blockingB = basisB[:0], blockingB[:0]
			av.deciders(p.Party, a, add(&basisB), add(&blockingB))
			if err != nil {
				return nil, err
			}
			b = append(append(b, `,"basis":[`...), basisB...)
			b = append(append(b, `],"blocking":[`...), blockingB...)
			b = append(b, `],"decided_by":[`...)
			switch a.Verdict { // the blocking clauses of a denial, the basis of an allowance
			case VerdictDenied:
				b = append(b, blockingB...)
			case VerdictAllowed:
				b = append(b, basisB...)
			}
			b = append(b, "]}"...)
		}
		b = append(b, "]}"...)
	}
	return append(b, "]}"...), nil
}

// MarshalJSON writes {"holder","scope","from","to","known_at","intervals":[{"from","until","holds"}]},
// and "damaged" when set.
func (h *Holdings) MarshalJSON() ([]byte, error) {
	type interval struct {
		From  string    `json:"from"`
		Until string    `json:"until"`
		Holds []Holding `json:"holds"`
	}
	ivs := make([]interval, len(h.Intervals))
	for i, iv := range h.Intervals {
		ivs[i] = interval{events.FormatTime(iv.From), events.FormatTime(iv.Until), iv.Holds}
	}
	m := map[string]any{
		"holder":    h.Holder,
		"scope":     scopeJSON{h.Scope},
		"from":      events.FormatTime(h.From),
		"to":        events.FormatTime(h.To),
		"known_at":  timeOrNull(h.KnownAt),
		"intervals": ivs,
	}
	if h.KnownAtAmendment != nil {
		m["known_at_amendment"] = h.KnownAtAmendment
	}
	if len(h.Damaged) > 0 {
		m["damaged"] = h.Damaged
	}
	return json.Marshal(m)
}
