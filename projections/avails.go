package projections

import (
	"encoding/json"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/agreement-ledger/ledger/events"
)

// Avails answer "from when to when may P offer X?": the rights check
// (Check) as a function of valid time over a window [From, To), as known at
// KnownAt. The window is cut at every time an exclusivity that covers the
// query comes in force or stops being in force (the periods); each party's
// answer is the check's rule applied period by period, and adjacent periods
// with the same verdict and the same deciding clauses are merged. So at any
// time T in an interval the interval's verdict and deciding clauses are what
// Check answers at T.
//
// The answer of a period depends on the party only through the
// exclusivities that do not bind it (those it holds, and sole grants it
// made), so a party that holds none of them shares one list of intervals,
// and an interval keeps the period it starts with rather than a copy of its
// deciding clauses: in a store where hundreds of exclusivities cover one
// product, the answer is not hundreds of times the work.

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
}

// Verdict is a rights rule's answer for an interval. Today's rule (Check)
// answers allowed or denied; a verdict is a word, not a bool, so that a rule
// with more answers (a check that also asks for a basis: no_basis) fits the
// same intervals.
type Verdict string

// Verdicts.
const (
	VerdictAllowed Verdict = "allowed"
	VerdictDenied  Verdict = "denied"
)

// Avails is the answer to an AvailsQuery.
type Avails struct {
	Scope    *events.Scope
	Party    string // the party asked about, or "" for every party named
	From, To time.Time
	KnownAt  time.Time
	Parties  []PartyAvails // by party name
	// Damaged lists the agreements whose histories are damaged: they took
	// part only with their intact prefixes.
	Damaged []Damage

	clauses []Decision       // the exclusivities that decide some period, in Check's order (Binds unset)
	clause  []*events.Clause // each one's values
	periods []period
	// KnownAtAmendment is the amendment KnownAt was given as, if it was
	// (see EchoKnownAt).
	KnownAtAmendment *AmendmentRef
}

// period is a stretch of the window in which the same exclusivities cover
// the query.
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
	first       int32 // the period it starts with; its deciding clauses are that period's
}

// bindsParty is the rule of a rights check: an exclusivity keeps a party out
// unless the party holds it, or made it as a sole grant (which does not bind
// its own grantor).
func bindsParty(c *events.Clause, party string) bool {
	return c.Holder != party && !(c.Sole && c.Grantor == party)
}

// Rights is the check's answer in interval a of party: its verdict and the
// clauses that decide it, exactly as Check lists them at any time in a.
func (av *Avails) Rights(party string, a Avail) Rights {
	var deny, allow []Decision
	for _, i := range av.periods[a.first].active {
		d := av.clauses[i]
		if d.Binds = bindsParty(av.clause[i], party); d.Binds {
			deny = append(deny, d)
		} else {
			allow = append(allow, d)
		}
	}
	if len(deny) > 0 {
		return Rights{Allowed: false, DecidedBy: deny}
	}
	return Rights{Allowed: true, DecidedBy: allow}
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
func (ix *Index) Avails(q AvailsQuery) (*Avails, error) {
	if err := checkWindow(q.From, q.To); err != nil {
		return nil, err
	}
	defer ix.read()()
	av := &Avails{Scope: q.Scope, Party: q.Party, From: q.From, To: q.To, KnownAt: q.KnownAt}
	type found struct {
		g      grant
		lo, hi time.Time
		d      Decision
	}
	var rule []found
	named := map[string]bool{}
	ix.grantsDuring(q.From, q.To, q.KnownAt, false, "", ix.grants.mask(q.Scope, false), func(g grant, lo, hi time.Time) {
		c := g.x.clause
		where, ok := c.Scope.Intersect(q.Scope)
		if !ok {
			return
		}
		named[c.Grantor], named[c.Holder] = true, true
		if c.Kind == events.Exclusivity { // exclusive licences are IP: they do not decide who may offer (see Check)
			rule = append(rule, found{g, lo, hi, Decision{Party: partyOf(g.agreement(), g.x), Where: scopeJSON{where}}})
		}
	})
	slices.SortFunc(rule, func(a, b found) int { return cmpParty(&a.d.Party, &b.d.Party) })

	// The periods: the window cut where a clause comes in force or stops.
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
	av.clauses = make([]Decision, len(rule))
	av.clause = make([]*events.Clause, len(rule))
	for i, f := range rule {
		av.clauses[i], av.clause[i] = f.d, f.g.x.clause
		start[i], end[i] = 0, int32(n)
		if f.lo.After(q.From) {
			start[i] = periodOf(f.lo)
		}
		if !f.hi.IsZero() && f.hi.Before(q.To) {
			end[i] = periodOf(f.hi)
		}
	}
	av.periods = make([]period, n)
	changes := make([]int32, n) // changes[k]: clauses that start or end where period k starts
	counts := make([]int32, n+1)
	for i := range rule {
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
		}
		if k < n-1 {
			p.until = cuts[k]
		}
		if k > 0 {
			counts[k] += counts[k-1]
		}
		p.active = make([]int32, 0, counts[k])
	}
	for i := range rule { // in Check's order, so each period's list is too
		for k := start[i]; k < end[i]; k++ {
			av.periods[k].active = append(av.periods[k].active, int32(i))
		}
	}

	// Each party's intervals. free[p] lists the clauses that do not bind
	// party p (those bindsParty says no to: p holds them, or granted them
	// sole); a party with none has the intervals any such party has.
	var parties []string
	if q.Party != "" {
		parties = []string{q.Party}
	} else {
		for p := range named {
			parties = append(parties, p)
		}
		slices.Sort(parties)
	}
	free := map[string][]int32{}
	for i, c := range av.clause {
		free[c.Holder] = append(free[c.Holder], int32(i))
		if c.Sole && c.Grantor != c.Holder {
			free[c.Grantor] = append(free[c.Grantor], int32(i))
		}
	}
	var common []Avail
	own := make([]int32, n+1)  // clauses not binding the party in force per period (as differences, then counts)
	ownCut := make([]int32, n) // of changes[k], how many are clauses not binding the party
	av.Parties = make([]PartyAvails, len(parties))
	for pi, name := range parties {
		mine := free[name]
		if len(mine) == 0 && common != nil {
			av.Parties[pi] = PartyAvails{Party: name, Intervals: common}
			continue
		}
		clear(own)
		clear(ownCut)
		for _, i := range mine {
			own[start[i]]++
			own[end[i]]--
			ownCut[start[i]]++
			if end[i] < int32(n) {
				ownCut[end[i]]++
			}
		}
		var ivs []Avail
		for k := range av.periods {
			if k > 0 {
				own[k] += own[k-1]
			}
			p := &av.periods[k]
			v := verdict(len(p.active), int(own[k]))
			if m := len(ivs) - 1; m >= 0 && ivs[m].Verdict == v && sameDeciders(v, changes[k], ownCut[k]) {
				ivs[m].Until = p.until
				continue
			}
			ivs = append(ivs, Avail{From: p.from, Until: p.until, Verdict: v, first: int32(k)})
		}
		if len(mine) == 0 {
			common = ivs
		}
		av.Parties[pi] = PartyAvails{Party: name, Intervals: ivs}
	}
	return av, nil
}

// verdict applies the check's rule to a period in which covering
// exclusivities are in force, free of which do not bind the party: denied
// when any other does.
func verdict(covering, free int) Verdict {
	if covering > free {
		return VerdictDenied
	}
	return VerdictAllowed
}

// sameDeciders reports whether a party's deciding clauses stay the same
// across a cut where changed clauses start or end, free of them not binding
// the party, its verdict v on both sides. A denial is decided by the clauses
// that bind: the same when every change is to one that does not. An
// allowance lists every covering clause: the same only when none changed.
func sameDeciders(v Verdict, changed, free int32) bool {
	if v == VerdictDenied {
		return changed == free
	}
	return changed == 0
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

// MarshalJSON writes {"scope","party","from","to","known_at","parties":[{"party","intervals":[…]}]},
// and "damaged" when set;
// each interval is {"from","until","verdict","allowed","decided_by"}, its
// allowed and decided_by those of a check inside it. Intervals list the
// same clauses again and again (hundreds each, where hundreds of
// exclusivities cover a product), so each clause is encoded once, bound and
// not, and its bytes are copied where it decides.
func (av *Avails) MarshalJSON() ([]byte, error) {
	m := map[string]any{
		"scope":    scopeJSON{av.Scope},
		"party":    nonEmptyOrNull(av.Party),
		"from":     events.FormatTime(av.From),
		"to":       events.FormatTime(av.To),
		"known_at": timeOrNull(av.KnownAt),
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
	encoded := make([][2][]byte, len(av.clauses)) // per clause: not binding, binding
	decision := func(i int32, binds bool) ([]byte, error) {
		k := 0
		if binds {
			k = 1
		}
		if encoded[i][k] == nil {
			d := av.clauses[i]
			d.Binds = binds
			b, err := json.Marshal(d)
			if err != nil {
				return nil, err
			}
			encoded[i][k] = b
		}
		return encoded[i][k], nil
	}
	str := func(b []byte, s string) []byte {
		q, _ := json.Marshal(s)
		return append(b, q...)
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
			denied := a.Verdict == VerdictDenied
			b = append(b, `,"allowed":`...)
			b = strconv.AppendBool(b, !denied)
			b = append(b, `,"decided_by":[`...)
			n := 0
			for _, c := range av.periods[a.first].active {
				binds := bindsParty(av.clause[c], p.Party)
				if binds != denied {
					continue // a denial lists the clauses that bind; an allowance those that do not (all of them)
				}
				d, err := decision(c, binds)
				if err != nil {
					return nil, err
				}
				if n > 0 {
					b = append(b, ',')
				}
				b = append(b, d...)
				n++
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
