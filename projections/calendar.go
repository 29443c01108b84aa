package projections

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/oklog/ulid/v2"
	"github.com/shopspring/decimal"
)

// The deal calendar: the dated events a deal desk must act on in a window
// of valid time, as known at a transaction time — clauses coming in force
// and stopping, revenue shares reaching 80 % of their cap or the cap — and
// the standing risks that have no date: clauses that end on a condition,
// caps whose crossing cannot be computed, conditional tranches not funded.
// Every entry is read from the agreement's view by the rules a state uses,
// so the state just before a dated entry and at it differ as the entry says.

// CalendarQuery asks for the calendar of [From, To), as known at KnownAt
// (zero: everything recorded), of one agreement or ("") of every one.
type CalendarQuery struct {
	Agreement string
	From, To  time.Time
	KnownAt   time.Time
}

// EntryKind is what a calendar entry announces.
type EntryKind string

// Kinds of dated entries, then of standing ones.
const (
	EntryStarts     EntryKind = "starts"      // a clause comes in force
	EntryEnds       EntryKind = "ends"        // a clause stops being in force (Cause says why)
	EntryCap80      EntryKind = "cap_80"      // a revenue share's accrued amount reaches 80 % of its cap
	EntryCapReached EntryKind = "cap_reached" // … reaches its cap

	EntryEndsOn          EntryKind = "ends_on"          // a clause ends when a condition is declared
	EntryCapUnknown      EntryKind = "cap_unknown"      // a revenue share's cap may be reached, but when cannot be computed
	EntryTrancheUnfunded EntryKind = "tranche_unfunded" // a conditional tranche is not funded by the window's end
)

// Dated reports whether entries of kind k have a date.
func (k EntryKind) Dated() bool {
	return k == EntryStarts || k == EntryEnds || k == EntryCap80 || k == EntryCapReached
}

// CalendarEntry is one entry of a calendar. A standing entry's At is when,
// in the window, the risk it names is first there.
type CalendarEntry struct {
	At         time.Time
	Agreement  string
	Clause     string
	ClauseKind events.Kind
	Kind       EntryKind
	// Cause says how a clause starts (add, amend: it starts again after a
	// gap, term: its term starts later than it was added) or ends (term,
	// end, amend, declare, close); for a cap entry, what moved the
	// amounts: report or amend.
	Cause     string
	Amendment ulid.ULID // the amendment behind it (none for a term's own start or end)
	Condition string    // ends_on and a declare's condition; a tranche's condition
	Tranche   string
	Amount    *events.Money // the tranche's amount; a cap entry's cap; a commitment's amount
	Accrued   *events.Money // cap entries: accrued at At
	Remaining *events.Money // cap entries: cap remaining at At
	Why       string        // cap_unknown: why it cannot be computed
	// Entries of the same kind for the same clause before this one, from
	// the clause's beginning (not the window's): see UID.
	nth int
}

// UID is the entry's stable identifier, for calendar files: derived from
// the agreement, the clause and the kind (and, for a clause that starts,
// ends or crosses again, how many times it did before), not from the date,
// so that an entry whose date a later amendment moves keeps its UID and a
// calendar application updates it rather than adding another.
func (e CalendarEntry) UID() string {
	key := e.Agreement + "\x00" + e.Clause + "\x00" + string(e.Kind)
	if e.nth > 0 {
		key += "\x00" + strconv.Itoa(e.nth)
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16]) + "@agreement-ledger"
}

// What says in words what happens.
func (e CalendarEntry) What() string {
	kind := strings.ReplaceAll(string(e.ClauseKind), "_", " ")
	if e.ClauseKind == events.License {
		kind = "licence"
	}
	switch e.Kind {
	case EntryStarts:
		switch e.Cause {
		case "term":
			return "the " + kind + "'s term starts"
		case "amend":
			return "the " + kind + " is in force again (amended)"
		}
		return "the " + kind + " comes in force"
	case EntryEnds:
		switch e.Cause {
		case "term":
			switch e.ClauseKind {
			case events.Exclusivity, events.License:
				return "the " + kind + " expires (its term ends)"
			}
			return "the " + kind + "'s term ends"
		case "end":
			return "the " + kind + " is ended by an amendment"
		case "amend":
			return "the " + kind + " stops being in force (amended)"
		case "declare":
			return "the " + kind + " ends: " + e.Condition + " is declared"
		case "close":
			return "the " + kind + " ends: the agreement closes"
		}
		return "the " + kind + " ends"
	case EntryCap80:
		return "accrued " + moneyText(e.Accrued) + " reaches 80 % of the cap of " + moneyText(e.Amount) + " (" + moneyText(e.Remaining) + " left)"
	case EntryCapReached:
		return "accrued " + moneyText(e.Accrued) + " reaches the cap of " + moneyText(e.Amount)
	case EntryEndsOn:
		return "the " + kind + " ends if " + e.Condition + " is declared"
	case EntryCapUnknown:
		return "when the cap is reached cannot be computed: " + e.Why
	case EntryTrancheUnfunded:
		s := "tranche " + e.Tranche + " (" + moneyText(e.Amount) + ") is not funded"
		if e.Condition != "" {
			s += "; condition: " + e.Condition
		}
		return s
	}
	return string(e.Kind)
}

func moneyText(m *events.Money) string {
	if m == nil {
		return "nothing"
	}
	return m.String()
}

// MarshalJSON writes the entry with its time as a date where it is one,
// its words ("what") and, for a dated entry, its uid.
func (e CalendarEntry) MarshalJSON() ([]byte, error) {
	m := map[string]any{
		"at":          events.FormatTime(e.At),
		"agreement":   e.Agreement,
		"clause":      e.Clause,
		"clause_kind": e.ClauseKind,
		"kind":        e.Kind,
		"cause":       nonEmptyOrNull(e.Cause),
		"amendment":   nil,
		"what":        e.What(),
	}
	if e.Amendment != (ulid.ULID{}) {
		m["amendment"] = e.Amendment.String()
	}
	if e.Kind.Dated() {
		m["uid"] = e.UID()
	}
	for k, v := range map[string]string{"condition": e.Condition, "tranche": e.Tranche, "why": e.Why} {
		if v != "" {
			m[k] = v
		}
	}
	for k, v := range map[string]*events.Money{"amount": e.Amount, "accrued": e.Accrued, "cap_remaining": e.Remaining} {
		if v != nil {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

// Calendar is the answer to a CalendarQuery.
type Calendar struct {
	Agreement string
	From, To  time.Time
	KnownAt   time.Time
	Entries   []CalendarEntry // dated, in date order (then agreement, clause, kind)
	Standing  []CalendarEntry // by agreement, clause, kind
}

// MarshalJSON writes {"agreement","from","to","known_at","entries","standing"}.
func (c *Calendar) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{
		"agreement": nonEmptyOrNull(c.Agreement),
		"from":      events.FormatTime(c.From),
		"to":        events.FormatTime(c.To),
		"known_at":  timeOrNull(c.KnownAt),
		"entries":   nonNil(c.Entries),
		"standing":  nonNil(c.Standing),
	})
}

// Calendar answers a CalendarQuery.
func (ix *Index) Calendar(q CalendarQuery) (*Calendar, error) {
	if err := checkWindow(q.From, q.To); err != nil {
		return nil, err
	}
	defer ix.read()()
	cal := &Calendar{Agreement: q.Agreement, From: q.From, To: q.To, KnownAt: q.KnownAt}
	cut := ix.cut(q.KnownAt)
	var as []*agreement
	if q.Agreement != "" {
		a, err := ix.find(q.Agreement, cut, q.KnownAt)
		if err != nil {
			return nil, err
		}
		as = []*agreement{a}
	} else {
		as = make([]*agreement, 0, len(ix.agreements))
		for _, a := range ix.agreements {
			if a.versionAt(cut) > 0 {
				as = append(as, a)
			}
		}
	}
	type part struct{ dated, standing []CalendarEntry }
	workers := max(min(runtime.GOMAXPROCS(0), len(as)/minPerWorker), 1)
	parts := make([]part, workers)
	inParallel(workers, func(w int) {
		p := &parts[w]
		cw := calendarWindow{from: q.From, to: q.To, fm: micros(q.From), tm: micros(q.To)}
		for _, a := range as[w*len(as)/workers : (w+1)*len(as)/workers] {
			cw.view(ix.fullViewAt(a, cut), &p.dated, &p.standing)
		}
		slices.SortFunc(p.dated, cmpDated)
	})
	cal.Entries = parts[0].dated
	for _, p := range parts[1:] {
		cal.Entries = mergeSorted(cal.Entries, p.dated, cmpDated)
	}
	for _, p := range parts {
		cal.Standing = append(cal.Standing, p.standing...)
	}
	slices.SortFunc(cal.Standing, cmpStanding)
	return cal, nil
}

// mergeSorted merges two lists sorted by cmp.
func mergeSorted[T any](a, b []T, cmp func(x, y T) int) []T {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	out := make([]T, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if cmp(b[0], a[0]) < 0 {
			out, b = append(out, b[0]), b[1:]
		} else {
			out, a = append(out, a[0]), a[1:]
		}
	}
	return append(append(out, a...), b...)
}

// kindOrder orders the kinds of entries at the same time: ends before
// starts (what stops, then what replaces it), then caps.
func kindOrder(k EntryKind) int {
	switch k {
	case EntryEnds:
		return 0
	case EntryStarts:
		return 1
	case EntryCap80:
		return 2
	case EntryCapReached:
		return 3
	case EntryEndsOn:
		return 4
	case EntryCapUnknown:
		return 5
	}
	return 6
}

func cmpDated(a, b CalendarEntry) int {
	return cmp.Or(a.At.Compare(b.At), strings.Compare(a.Agreement, b.Agreement), strings.Compare(a.Clause, b.Clause),
		kindOrder(a.Kind)-kindOrder(b.Kind), a.nth-b.nth)
}

func cmpStanding(a, b CalendarEntry) int {
	return cmp.Or(strings.Compare(a.Agreement, b.Agreement), strings.Compare(a.Clause, b.Clause),
		kindOrder(a.Kind)-kindOrder(b.Kind), strings.Compare(a.Tranche, b.Tranche), a.At.Compare(b.At))
}

// calendarWindow gathers the entries of views in [from, to) (fm, tm: as micros).
type calendarWindow struct {
	from, to time.Time
	fm, tm   int64
	buf      []*version // reused for each clause
	segs     []segment
	tranches []string
}

// view adds the entries of v's clauses.
func (cw *calendarWindow) view(v *view, dated, standing *[]CalendarEntry) {
	for _, l := range v.order {
		x := l.current
		if l.added > cw.tm || x.hi < cw.fm && x.from < cw.fm {
			continue // added after the window, or every version ended before it
		}
		if x.prev == nil && l.kc == kindOther && x.flags&hasTerm == 0 && x.lo() < cw.fm && x.hi > cw.tm {
			continue // in force throughout, unchanged, and nothing to watch
		}
		cw.line(v, l, dated, standing)
	}
}

// segment is a stretch of a clause's life: versions in force back to back.
type segment struct {
	lo, hi time.Time // hi zero: open-ended
	first  int       // index of its first version in the line's versions
	last   int
}

// line adds the entries of one clause.
func (cw *calendarWindow) line(v *view, l *line, dated, standing *[]CalendarEntry) {
	vs := cw.buf[:0]
	for x := l.current; x != nil; x = x.prev {
		vs = append(vs, x)
	}
	slices.Reverse(vs)
	cw.buf = vs
	segs := cw.segs[:0]
	defer func() { cw.segs = segs }()
	for i, x := range vs {
		lo, hi, ok := x.interval()
		if !ok {
			continue
		}
		if n := len(segs) - 1; n >= 0 && !segs[n].hi.IsZero() && segs[n].hi.Equal(lo) {
			segs[n].hi, segs[n].last = hi, i
			continue
		}
		segs = append(segs, segment{lo: lo, hi: hi, first: i, last: i})
	}
	entry := func(at time.Time, x *version, kind EntryKind) CalendarEntry {
		return CalendarEntry{At: at, Agreement: v.agreement, Clause: l.id, ClauseKind: x.clause.Kind, Kind: kind}
	}
	in := func(t time.Time) bool { return !t.Before(cw.from) && t.Before(cw.to) }
	cw.tranches = cw.tranches[:0]
	for si, s := range segs {
		if in(s.lo) {
			x := vs[s.first]
			e := entry(s.lo, x, EntryStarts)
			e.Amendment, e.nth = x.by.ID, si
			switch {
			case s.lo.After(x.fromT()):
				e.Cause = "term"
			case s.first == 0:
				e.Cause = "add"
			default:
				e.Cause = "amend"
			}
			if x.clause.Kind == events.Commitment {
				e.Amount = x.clause.Amount
			}
			*dated = append(*dated, e)
		}
		if !s.hi.IsZero() && in(s.hi) {
			y := vs[s.last]
			e := entry(s.hi, y, EntryEnds)
			e.nth, e.Cause = si, "term"
			if y.closeBy != nil && s.hi.Equal(y.until()) {
				e.Cause, e.Amendment = string(y.closeOp.op()), y.closeBy.ID
				if y.closeOp == opDeclare {
					e.Condition = y.endsOn()
				}
			}
			if y.clause.Kind == events.Commitment {
				e.Amount = y.clause.Amount
			}
			*dated = append(*dated, e)
		}
		// Standing risks, from where each is first there in the window.
		prevCond, prevUnknown := "", false
		for _, x := range vs[s.first : s.last+1] {
			lo, hi, _ := x.interval()
			at := later(lo, cw.from)
			if !at.Before(cw.to) || !hi.IsZero() && !hi.After(at) {
				continue // not in force in the window: the next version that is is the first there
			}
			if c := x.endsOn(); c != "" && c != prevCond {
				e := entry(at, x, EntryEndsOn)
				e.Condition = c
				*standing = append(*standing, e)
			}
			prevCond = x.endsOn()
			switch l.kc {
			case kindRevenueShare:
				unknown := false
				if c := x.clause; c.Cap != nil {
					a := l.accrual(c, at, nil)
					if unknown = a.CapRemaining == nil || a.CapRemaining.Undisclosed; unknown && !prevUnknown {
						e := entry(at, x, EntryCapUnknown)
						e.Amount, e.Why = c.Cap, a.Why
						*standing = append(*standing, e)
					}
				}
				prevUnknown = unknown
			case kindInvestment:
				for _, tr := range x.clause.Tranches {
					if tr.Condition == "" {
						continue
					}
					if r := l.fundedBy(tr.ID); r != nil && r.Effective.Before(cw.to) {
						continue // funded in the window or before it
					}
					if slices.Contains(cw.tranches, tr.ID) {
						continue // named for an earlier version
					}
					cw.tranches = append(cw.tranches, tr.ID)
					e := entry(at, x, EntryTrancheUnfunded)
					e.Tranche, e.Condition = tr.ID, tr.Condition
					amount := tr.Amount
					e.Amount = &amount
					*standing = append(*standing, e)
				}
			}
		}
	}
	if l.kc == kindRevenueShare && len(l.more.reports) > 0 && len(segs) > 0 {
		cw.caps(v, l, vs, segs, dated)
	}
}

// caps adds the times a revenue share's accrued amount reaches 80 % of its
// cap, and the cap, in the window: where it does so at a time and not just
// before, by the accruals a state shows. The amounts change only where a
// report takes effect or the clause's values (its cap, its rate) or its
// being in force change, so those are the times to look at, from the
// clause's beginning so that crossings are counted for their UIDs.
func (cw *calendarWindow) caps(v *view, l *line, vs []*version, segs []segment, dated *[]CalendarEntry) {
	var times []time.Time
	for _, r := range l.more.reports {
		if r.rec.Effective.Before(cw.to) {
			times = append(times, r.rec.Effective)
		}
	}
	for _, x := range vs {
		if lo, _, ok := x.interval(); ok && lo.Before(cw.to) {
			times = append(times, lo)
		}
	}
	slices.SortFunc(times, time.Time.Compare)
	times = slices.CompactFunc(times, time.Time.Equal)
	inForce := func(t time.Time) *version {
		for _, x := range vs {
			if lo, hi, ok := x.interval(); ok && !t.Before(lo) && (hi.IsZero() || t.Before(hi)) {
				return x
			}
		}
		return nil
	}
	fifth := decimal.New(2, -1)
	// level says whether the cap is reached, and 80 % of it, at t.
	level := func(t time.Time) (x *version, a *Accrual, eighty, reached bool) {
		x = inForce(t)
		if x == nil || x.clause.Cap == nil || x.clause.Cap.Undisclosed {
			return x, nil, false, false
		}
		a = l.accrual(x.clause, t, nil)
		if a.CapRemaining == nil || a.CapRemaining.Undisclosed {
			return x, a, false, false
		}
		rem := a.CapRemaining.Amount
		return x, a, !rem.GreaterThan(x.clause.Cap.Amount.Mul(fifth)), !rem.IsPositive()
	}
	var n80, nCap int
	for _, t := range times {
		_, _, was80, wasCap := level(t.Add(-time.Nanosecond))
		x, a, is80, isCap := level(t)
		for _, c := range [2]struct {
			kind    EntryKind
			was, is bool
			nth     *int
		}{{EntryCap80, was80, is80, &n80}, {EntryCapReached, wasCap, isCap, &nCap}} {
			if !c.is || c.was {
				continue
			}
			if !t.Before(cw.from) {
				e := CalendarEntry{At: t, Agreement: v.agreement, Clause: l.id, ClauseKind: x.clause.Kind, Kind: c.kind, nth: *c.nth,
					Amount: x.clause.Cap, Accrued: a.Accrued, Remaining: a.CapRemaining}
				e.Cause, e.Amendment = opOf(x), x.by.ID // its values, or its coming in force
				if k := l.reportsBy(t, nil); k > 0 && l.more.reports[k-1].rec.Effective.Equal(t) {
					e.Cause, e.Amendment = "report", l.more.reports[k-1].rec.ID // the report that crossed
				}
				*dated = append(*dated, e)
			}
			*c.nth++
		}
	}
}
