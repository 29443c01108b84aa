package projections

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
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

// CalendarEntry is one entry of a calendar. A standing entry's time is
// when, in the window, the risk it names is first there.
//
// A year of a large store has hundreds of thousands of entries, and all of
// time millions, so an entry is small: its time as microseconds and the
// nanoseconds past them, its kind and cause as bytes, and pointers to the
// clause's values and the amendment behind it (recorded input, which never
// changes); its other values are read from them when asked for. The dated
// entries of a calendar share the index's memory (see calendarCache).
type CalendarEntry struct {
	at     int64          // micros
	clause *events.Clause // the clause's values at the entry (just before, for an end)
	// The amendment behind it, or (when anon) one of its agreement's: for a
	// term's own start or end, and standing entries.
	rec  *events.Record
	more *entryMore // cap entries, cap_unknown, tranche_unfunded
	// Entries of the same kind for the same clause before this one, from
	// the clause's beginning (not the window's): see UID.
	nth     int32
	ns      uint16 // nanoseconds past at
	tranche int16  // tranche_unfunded: which of the clause's tranches
	kind    entryCode
	cause   entryCause
	anon    bool
}

// At is the entry's time.
func (e CalendarEntry) At() time.Time { return timeOf(e.at, e.ns) }

// Kind is what the entry announces.
func (e CalendarEntry) Kind() EntryKind { return kindOfCode[e.kind] }

// entryMore is what cap entries add: the amounts at At, or why they cannot
// be computed.
type entryMore struct {
	accrued, remaining *events.Money
	why                string
	funded             time.Time // tranche_unfunded: when it was funded (zero: not yet)
	// uid of an entry read back from a document, which holds the uid but
	// not the count it was derived from (see UID).
	uid string
}

// entryCause is what made an entry: see CalendarEntry.Cause.
type entryCause uint8

const (
	causeNone entryCause = iota // a term's own start or end; a standing entry
	causeAdd
	causeAmend
	causeEnd
	causeDeclare
	causeClose
	causeReport
)

var causeNames = [...]string{causeAdd: "add", causeAmend: "amend", causeEnd: "end", causeDeclare: "declare", causeClose: "close", causeReport: "report"}

// closedBy is the cause of a version closed by op.
func closedBy(op opCode) entryCause {
	switch op {
	case opAmend:
		return causeAmend
	case opEnd:
		return causeEnd
	case opDeclare:
		return causeDeclare
	case opClose:
		return causeClose
	}
	return causeNone
}

// Agreement is the agreement of the entry's clause.
func (e CalendarEntry) Agreement() string { return e.rec.Agreement }

// Clause is the id of the entry's clause.
func (e CalendarEntry) Clause() string { return e.clause.ID }

// ClauseKind is the kind of the entry's clause.
func (e CalendarEntry) ClauseKind() events.Kind { return e.clause.Kind }

// Cause says how a clause starts (add; amend: it is in force again after a
// gap; term: its term starts later than it was added) or ends (term, end,
// amend, declare, close); for a cap entry what moved the amounts (report,
// or add and amend: the clause's values); "" for a standing entry.
func (e CalendarEntry) Cause() string {
	switch {
	case e.cause != causeNone:
		return causeNames[e.cause]
	case e.Kind() == EntryStarts || e.Kind() == EntryEnds:
		return "term"
	}
	return ""
}

// Amendment is the id of the amendment behind the entry: the one that
// added, amended or ended the clause, or the report that crossed; zero for
// a term's own start or end and for standing entries.
func (e CalendarEntry) Amendment() ulid.ULID {
	if e.anon {
		return ulid.ULID{}
	}
	return e.rec.ID
}

// Condition is the condition a clause ends on (ends_on), the one whose
// declaration ended it (an end by declare), or a tranche's condition.
func (e CalendarEntry) Condition() string {
	switch {
	case e.Kind() == EntryTrancheUnfunded:
		return e.clause.Tranches[e.tranche].Condition
	case (e.Kind() == EntryEndsOn || e.cause == causeDeclare) && e.clause.Term != nil:
		return e.clause.Term.EndsOn
	}
	return ""
}

// Tranche is the id of an unfunded tranche, or "".
func (e CalendarEntry) Tranche() string {
	if e.Kind() != EntryTrancheUnfunded {
		return ""
	}
	return e.clause.Tranches[e.tranche].ID
}

// Amount is a tranche's amount, a revenue share's cap (cap entries) or a
// commitment's amount; nil otherwise.
func (e CalendarEntry) Amount() *events.Money {
	c := e.clause
	switch {
	case e.Kind() == EntryTrancheUnfunded:
		return &c.Tranches[e.tranche].Amount
	case e.kind == codeCap80 || e.kind == codeCapReached || e.kind == codeCapUnknown:
		return c.Cap
	case c.Kind == events.Commitment:
		return c.Amount
	}
	return nil
}

// Accrued is what a revenue share had accrued at a cap entry; nil otherwise.
func (e CalendarEntry) Accrued() *events.Money {
	if e.more == nil {
		return nil
	}
	return e.more.accrued
}

// Remaining is the cap remaining at a cap entry; nil otherwise.
func (e CalendarEntry) Remaining() *events.Money {
	if e.more == nil {
		return nil
	}
	return e.more.remaining
}

// Why says why a cap's crossing cannot be computed (cap_unknown).
func (e CalendarEntry) Why() string {
	if e.more == nil {
		return ""
	}
	return e.more.why
}

// UID is the entry's stable identifier, for calendar files: derived from
// the agreement, the clause and the kind (and, for a clause that starts,
// ends or crosses again, how many times it did before), not from the date,
// so that an entry whose date a later amendment moves keeps its UID and a
// calendar application updates it rather than adding another.
func (e CalendarEntry) UID() string {
	if e.more != nil && e.more.uid != "" {
		return e.more.uid
	}
	key := e.rec.Agreement + "\x00" + e.clause.ID + "\x00" + string(e.Kind())
	if e.nth > 0 {
		key += "\x00" + strconv.Itoa(int(e.nth))
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16]) + "@agreement-ledger"
}

// What says in words what happens.
func (e CalendarEntry) What() string {
	ck := e.ClauseKind()
	kind := strings.ReplaceAll(string(ck), "_", " ")
	if ck == events.License {
		kind = "licence"
	}
	switch e.Kind() {
	case EntryStarts:
		switch e.Cause() {
		case "term":
			return "the " + kind + "'s term starts"
		case "amend":
			return "the " + kind + " is in force again (amended)"
		}
		return "the " + kind + " comes in force"
	case EntryEnds:
		switch e.Cause() {
		case "term":
			switch ck {
			case events.Exclusivity, events.License:
				return "the " + kind + " expires (its term ends)"
			}
			return "the " + kind + "'s term ends"
		case "end":
			return "the " + kind + " is ended by an amendment"
		case "amend":
			return "the " + kind + " stops being in force (amended)"
		case "declare":
			return "the " + kind + " ends: " + e.Condition() + " is declared"
		case "close":
			return "the " + kind + " ends: the agreement closes"
		}
		return "the " + kind + " ends"
	case EntryCap80:
		return "accrued " + moneyText(e.Accrued()) + " reaches 80 % of the cap of " + moneyText(e.Amount()) + " (" + moneyText(e.Remaining()) + " left)"
	case EntryCapReached:
		return "accrued " + moneyText(e.Accrued()) + " reaches the cap of " + moneyText(e.Amount())
	case EntryEndsOn:
		return "the " + kind + " ends if " + e.Condition() + " is declared"
	case EntryCapUnknown:
		return "when the cap is reached cannot be computed: " + e.Why()
	case EntryTrancheUnfunded:
		s := "tranche " + e.Tranche() + " (" + moneyText(e.Amount()) + ") is not funded"
		if c := e.Condition(); c != "" {
			s += "; condition: " + c
		}
		return s
	}
	return string(e.Kind())
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
		"at":          events.FormatTime(e.At()),
		"agreement":   e.Agreement(),
		"clause":      e.Clause(),
		"clause_kind": e.ClauseKind(),
		"kind":        e.Kind(),
		"cause":       nonEmptyOrNull(e.Cause()),
		"amendment":   nil,
		"what":        e.What(),
	}
	if id := e.Amendment(); id != (ulid.ULID{}) {
		m["amendment"] = id.String()
	}
	if e.Kind().Dated() {
		m["uid"] = e.UID()
	}
	for k, v := range map[string]string{"condition": e.Condition(), "tranche": e.Tranche(), "why": e.Why()} {
		if v != "" {
			m[k] = v
		}
	}
	for k, v := range map[string]*events.Money{"amount": e.Amount(), "accrued": e.Accrued(), "cap_remaining": e.Remaining()} {
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
	// Damaged lists the agreements whose histories are damaged: their
	// entries come from their intact prefixes.
	Damaged []Damage
	// KnownAtAmendment is the amendment KnownAt was given as, if it was
	// (see EchoKnownAt).
	KnownAtAmendment *AmendmentRef
}

// MarshalJSON writes {"agreement","from","to","known_at","entries","standing"},
// and "damaged" when set.
func (c *Calendar) MarshalJSON() ([]byte, error) {
	m := map[string]any{
		"agreement": nonEmptyOrNull(c.Agreement),
		"from":      events.FormatTime(c.From),
		"to":        events.FormatTime(c.To),
		"known_at":  timeOrNull(c.KnownAt),
		"entries":   nonNil(c.Entries),
		"standing":  nonNil(c.Standing),
	}
	if c.KnownAtAmendment != nil {
		m["known_at_amendment"] = c.KnownAtAmendment
	}
	if len(c.Damaged) > 0 {
		m["damaged"] = c.Damaged
	}
	return json.Marshal(m)
}

// Calendar answers a CalendarQuery. The calendar of every agreement as
// known now is read from facts the index keeps (see calendarCache); others
// from facts gathered from the views asked about, by the same code.
func (ix *Index) Calendar(q CalendarQuery) (*Calendar, error) {
	if err := checkWindow(q.From, q.To); err != nil {
		return nil, err
	}
	defer ix.read()()
	cal := &Calendar{Agreement: q.Agreement, From: q.From, To: q.To, KnownAt: q.KnownAt}
	cut := ix.cut(q.KnownAt)
	if q.Agreement == "" && ix.kept == nil && cut >= ix.lastSeq() {
		ix.calendar.window(ix, q.From, q.To, cal)
		return cal, nil
	}
	var as []*agreement
	if q.Agreement != "" {
		a, err := ix.find(q.Agreement, cut, q.KnownAt)
		if err != nil {
			return nil, err
		}
		as = []*agreement{a}
	} else {
		for _, a := range ix.agreements {
			if a.versionAt(cut) > 0 {
				as = append(as, a)
			}
		}
	}
	f := gather(as, func(a *agreement) *view { return ix.fullViewAt(a, cut) }, q.From, q.To)
	f.window(q.From, q.To, cal)
	return cal, nil
}

// Facts are what calendars are read from: of some agreements, every dated
// entry (over all time, or those that may be in a window) in date order,
// and the spans of valid time in which standing risks stand, by agreement
// and clause. Once made they are not changed: calendars share them.
type facts struct {
	dated []CalendarEntry
	spans []riskSpan
}

// riskSpan is a standing risk of a clause over [at, hi) (hi: math.MaxInt64
// when open-ended; as micros and nanoseconds, as an entry's time).
type riskSpan struct {
	CalendarEntry
	hi   int64
	hiNs uint16
	// cont: the span continues the clause's previous span of its kind
	// with the same risk (the previous version, in force up to its start;
	// for a tranche, any earlier version): in a window both meet, only
	// the first is an entry.
	cont bool
}

// entryCode is an EntryKind in a byte, numbered in the order entries at the
// same time are listed: what stops, then what replaces it, then caps.
type entryCode uint8

const (
	codeEnds entryCode = iota
	codeStarts
	codeCap80
	codeCapReached
	codeEndsOn
	codeCapUnknown
	codeTrancheUnfunded
)

var kindOfCode = [...]EntryKind{EntryEnds, EntryStarts, EntryCap80, EntryCapReached, EntryEndsOn, EntryCapUnknown, EntryTrancheUnfunded}

// timeOf is the time of micros m and ns nanoseconds past them.
func timeOf(m int64, ns uint16) time.Time {
	return time.UnixMicro(m).Add(time.Duration(ns)).UTC()
}

// exact is t as micros and the nanoseconds past them.
func exact(t time.Time) (int64, uint16) { return micros(t), uint16(t.Nanosecond() % 1000) }

func cmpExact(m1 int64, n1 uint16, m2 int64, n2 uint16) int {
	return cmp.Or(cmp.Compare(m1, m2), cmp.Compare(n1, n2))
}

// window writes the entries of [from, to) into cal: the dated ones there,
// and a standing entry for each risk there, from where it is first there.
func (f *facts) window(from, to time.Time, cal *Calendar) {
	fm, fn := exact(from)
	tm, tn := exact(to)
	i, _ := slices.BinarySearchFunc(f.dated, from, func(e CalendarEntry, _ time.Time) int { return cmpExact(e.at, e.ns, fm, fn) })
	j, _ := slices.BinarySearchFunc(f.dated, to, func(e CalendarEntry, _ time.Time) int { return cmpExact(e.at, e.ns, tm, tn) })
	cal.Entries = f.dated[i:j:j]
	// Two passes over the spans, counting then filling: a year of a large
	// store has a hundred thousand standing risks.
	scan := func(emit func(s *riskSpan, at int64, ns uint16)) {
		prevIn := false
		for k := range f.spans {
			s := &f.spans[k]
			am, an := s.at, s.ns // when it is first there: from, or its start
			if cmpExact(am, an, fm, fn) < 0 {
				am, an = fm, fn
			}
			in := cmpExact(am, an, tm, tn) < 0 && cmpExact(s.hi, s.hiNs, am, an) > 0
			if s.kind == codeTrancheUnfunded && s.more != nil && s.more.funded.Before(to) {
				in = false // funded in the window or before it
			}
			if in && !(s.cont && prevIn) {
				emit(s, am, an)
			}
			if s.cont {
				prevIn = prevIn || in
			} else {
				prevIn = in
			}
		}
	}
	n := 0
	scan(func(*riskSpan, int64, uint16) { n++ })
	if n > 0 {
		cal.Standing = make([]CalendarEntry, 0, n)
	}
	scan(func(s *riskSpan, at int64, ns uint16) {
		e := s.CalendarEntry
		e.at, e.ns = at, ns
		cal.Standing = append(cal.Standing, e)
	})
}

// cmpDated orders dated entries by time, agreement, clause, kind (what
// stops before what replaces it) and how many came before.
func cmpDated(a, b CalendarEntry) int {
	if c := cmpExact(a.at, a.ns, b.at, b.ns); c != 0 {
		return c
	}
	return cmp.Or(strings.Compare(a.rec.Agreement, b.rec.Agreement), strings.Compare(a.clause.ID, b.clause.ID), cmp.Compare(a.kind, b.kind), cmp.Compare(a.nth, b.nth))
}

// cmpSpan orders one agreement's spans by clause, kind and tranche, then
// time: a clause's spans of a kind follow each other (see riskSpan.cont).
func cmpSpan(a, b riskSpan) int {
	return cmp.Or(strings.Compare(a.clause.ID, b.clause.ID), cmp.Compare(a.kind, b.kind), cmp.Compare(a.tranche, b.tranche),
		cmpExact(a.at, a.ns, b.at, b.ns))
}

// gather gathers the facts of agreements, as the views viewOf gives them,
// that may fall in [from, to) (zero times: all of them), on as many
// goroutines as are worth it. Agreements are taken in name order, so the
// spans, gathered agreement by agreement, are in calendar order.
func gather(as []*agreement, viewOf func(*agreement) *view, from, to time.Time) *facts {
	slices.SortFunc(as, func(a, b *agreement) int { return strings.Compare(a.name, b.name) })
	workers := max(min(runtime.GOMAXPROCS(0), len(as)/minPerWorker), 1)
	parts := make([]facts, workers)
	inParallel(workers, func(w int) {
		p := &parts[w]
		mine := as[w*len(as)/workers : (w+1)*len(as)/workers]
		vs := make([]*view, len(mine))
		lines := 0
		for i, a := range mine {
			vs[i] = viewOf(a)
			lines += len(vs[i].order)
		}
		p.dated = make([]CalendarEntry, 0, 2*lines) // most clauses start and end once
		cw := calendarWindow{fm: math.MinInt64, tm: math.MaxInt64}
		if !from.IsZero() {
			cw.fm, cw.tm = micros(from), micros(to)
		}
		for _, v := range vs {
			n := len(p.spans)
			cw.view(v, p)
			slices.SortFunc(p.spans[n:], cmpSpan)
		}
		slices.SortFunc(p.dated, cmpDated)
	})
	f := &parts[0]
	for _, p := range parts[1:] {
		f.dated = mergeSorted(f.dated, p.dated, cmpDated)
		f.spans = append(f.spans, p.spans...)
	}
	return f
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

// calendarCache keeps the facts of every agreement as known now, over all
// time, so that the calendar of a window is two binary searches and a scan
// rather than a walk through every agreement's clauses. They are gathered
// when first asked for, and kept up to date from the records added since:
// only their agreements' facts are gathered again.
type calendarCache struct {
	mu  sync.Mutex
	seq uint64 // the last sequence the facts include
	f   *facts
}

// window writes the calendar of every agreement as known now over [from,
// to) into cal. The caller holds the index's read lock, with no batch held.
func (c *calendarCache) window(ix *Index, from, to time.Time, cal *Calendar) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.update(ix)
	c.f.window(from, to, cal)
}

func (c *calendarCache) update(ix *Index) {
	last := ix.lastSeq()
	if c.f != nil && c.seq == last {
		return
	}
	current := func(a *agreement) *view { return a.v }
	var changed []*agreement
	if c.f != nil {
		seen := map[*agreement]bool{}
		i := sort.Search(len(ix.all), func(i int) bool { return ix.all[i].Seq > c.seq })
		for _, r := range ix.all[i:] {
			if a := ix.agreements[r.Agreement]; !seen[a] {
				seen[a] = true
				changed = append(changed, a)
			}
		}
		if len(changed) > 1024 && len(changed) > len(ix.agreements)/4 {
			c.f = nil // as cheap to gather everything
		}
	}
	c.seq = last
	if c.f == nil {
		as := make([]*agreement, 0, len(ix.agreements))
		for _, a := range ix.agreements {
			as = append(as, a)
		}
		c.f = gather(as, current, time.Time{}, time.Time{})
		return
	}
	// The changed agreements' facts go, and their new ones are merged in,
	// into new lists: calendars given out share the old ones. Spans stay
	// in agreement order.
	gone := make(map[string]bool, len(changed))
	for _, a := range changed {
		gone[a.name] = true
	}
	g := gather(changed, current, time.Time{}, time.Time{})
	f := &facts{dated: make([]CalendarEntry, 0, len(c.f.dated)+len(g.dated)), spans: make([]riskSpan, 0, len(c.f.spans)+len(g.spans))}
	for _, e := range c.f.dated {
		if !gone[e.rec.Agreement] {
			f.dated = append(f.dated, e)
		}
	}
	for _, s := range c.f.spans {
		if !gone[s.rec.Agreement] {
			f.spans = append(f.spans, s)
		}
	}
	f.dated = mergeSorted(f.dated, g.dated, cmpDated)
	f.spans = mergeSorted(f.spans, g.spans, func(a, b riskSpan) int { return strings.Compare(a.rec.Agreement, b.rec.Agreement) })
	c.f = f
}

// calendarWindow gathers facts from views: those that may fall in [fm,
// tm] (as micros; the widest: every fact).
type calendarWindow struct {
	fm, tm int64
	buf    []*version // reused for each clause
	segs   []segment
}

// view adds the facts of v's clauses.
func (cw *calendarWindow) view(v *view, f *facts) {
	for _, l := range v.order {
		x := l.current
		if l.added > cw.tm || x.hi < cw.fm && x.from < cw.fm {
			continue // added after the window, or every version ended before it
		}
		if x.prev == nil && l.kc == kindOther && x.flags&hasTerm == 0 && x.lo() < cw.fm && x.hi > cw.tm {
			continue // in force throughout, unchanged, and nothing to watch
		}
		cw.line(l, f)
	}
}

// segment is a stretch of a clause's life: versions in force back to back.
type segment struct {
	lo, hi time.Time // hi zero: open-ended
	first  int       // index of its first version in the line's versions
	last   int
}

// line adds the facts of one clause: where each stretch of its life starts
// and ends, its cap crossings, and the spans of its standing risks.
func (cw *calendarWindow) line(l *line, f *facts) {
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
	dated := func(t time.Time, e CalendarEntry) {
		e.at, e.ns = exact(t)
		f.dated = append(f.dated, e)
	}
	var tranches []string // conditional tranches with a span already
	for si, s := range segs {
		x := vs[s.first]
		start := CalendarEntry{kind: codeStarts, clause: x.clause, rec: x.by, nth: int32(si)}
		switch {
		case s.lo.After(x.fromT()):
			start.anon = true // its term starts later
		case s.first == 0:
			start.cause = causeAdd
		default:
			start.cause = causeAmend
		}
		dated(s.lo, start)
		if !s.hi.IsZero() {
			y := vs[s.last]
			end := CalendarEntry{kind: codeEnds, clause: y.clause, nth: int32(si), rec: y.by, anon: true}
			if y.closeBy != nil && s.hi.Equal(y.until()) {
				end.cause, end.rec, end.anon = closedBy(y.closeOp), y.closeBy, false
			}
			dated(s.hi, end)
		}
		// The spans of standing risks, version by version.
		prevCond, prevUnknown := "", false
		for _, x := range vs[s.first : s.last+1] {
			lo, hi, ok := x.interval()
			if !ok {
				continue
			}
			risk := func(kind entryCode) riskSpan {
				sp := riskSpan{CalendarEntry: CalendarEntry{kind: kind, clause: x.clause, rec: x.by, anon: true}, hi: math.MaxInt64}
				sp.at, sp.ns = exact(lo)
				if !hi.IsZero() {
					sp.hi, sp.hiNs = exact(hi)
				}
				return sp
			}
			if c := x.endsOn(); c != "" {
				sp := risk(codeEndsOn)
				sp.cont = c == prevCond
				f.spans = append(f.spans, sp)
			}
			prevCond = x.endsOn()
			switch l.kc {
			case kindRevenueShare:
				if x.clause.Cap == nil {
					prevUnknown = false
					break
				}
				// Whether the cap remaining can be computed changes only
				// with the clause's values and where a report takes effect.
				cuts := []time.Time{lo}
				for _, r := range l.more.reports {
					if t := r.rec.Effective; t.After(lo) && (hi.IsZero() || t.Before(hi)) && !t.Equal(cuts[len(cuts)-1]) {
						cuts = append(cuts, t)
					}
				}
				for k, t := range cuts {
					a := l.accrual(x.clause, t, nil)
					unknown := a.CapRemaining == nil || a.CapRemaining.Undisclosed
					if unknown {
						sp := risk(codeCapUnknown)
						sp.at, sp.ns = exact(t)
						if k+1 < len(cuts) {
							sp.hi, sp.hiNs = exact(cuts[k+1])
						}
						sp.cont, sp.more = prevUnknown, &entryMore{why: capWhy(x.clause, a), remaining: a.CapRemaining}
						f.spans = append(f.spans, sp)
					}
					prevUnknown = unknown
				}
			case kindInvestment:
				for i, tr := range x.clause.Tranches {
					if tr.Condition == "" {
						continue
					}
					sp := risk(codeTrancheUnfunded)
					sp.tranche, sp.cont = int16(i), slices.Contains(tranches, tr.ID)
					if r := l.fundedBy(tr.ID); r != nil {
						sp.more = &entryMore{funded: r.Effective}
					}
					tranches = append(tranches, tr.ID)
					f.spans = append(f.spans, sp)
				}
			}
		}
	}
	if l.kc == kindRevenueShare && len(l.more.reports) > 0 && len(segs) > 0 {
		cw.caps(l, vs, dated)
	}
}

// capWhy says why a revenue share's cap remaining cannot be computed:
// which of its values are undisclosed, or else what its accrual says.
func capWhy(c *events.Clause, a *Accrual) string {
	switch {
	case c.Cap.Undisclosed && c.Rate.Undisclosed:
		return "the rate and the cap of " + c.ID + " are undisclosed"
	case c.Cap.Undisclosed:
		return "the cap of " + c.ID + " is undisclosed"
	case c.Rate.Undisclosed:
		return "the rate of " + c.ID + " is undisclosed"
	}
	return a.Why
}

// caps adds the times a revenue share's accrued amount reaches 80 % of its
// cap, and the cap: where it does so at a time and not just before, by the
// accruals a state shows. The amounts change only where a report takes
// effect or the clause's values (its cap, its rate) or its being in force
// change, so those are the times to look at.
func (cw *calendarWindow) caps(l *line, vs []*version, dated func(time.Time, CalendarEntry)) {
	var times []time.Time
	for _, r := range l.more.reports {
		if r.at <= cw.tm {
			times = append(times, r.rec.Effective)
		}
	}
	for _, x := range vs {
		if lo, _, ok := x.interval(); ok && micros(lo) <= cw.tm {
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
	var n80, nCap int32
	for _, t := range times {
		_, _, was80, wasCap := level(t.Add(-time.Nanosecond))
		x, a, is80, isCap := level(t)
		for _, c := range [2]struct {
			kind    entryCode
			was, is bool
			nth     *int32
		}{{codeCap80, was80, is80, &n80}, {codeCapReached, wasCap, isCap, &nCap}} {
			if !c.is || c.was {
				continue
			}
			e := CalendarEntry{kind: c.kind, clause: x.clause, nth: *c.nth, cause: causeAmend, rec: x.by,
				more: &entryMore{accrued: a.Accrued, remaining: a.CapRemaining}}
			if x.prev == nil {
				e.cause = causeAdd // its values, or its coming in force
			}
			if k := l.reportsBy(t, nil); k > 0 && l.more.reports[k-1].rec.Effective.Equal(t) {
				e.cause, e.rec = causeReport, l.more.reports[k-1].rec // the report that crossed
			}
			dated(t, e)
			*c.nth++
		}
	}
}
