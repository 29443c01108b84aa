package projections

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/oklog/ulid/v2"
	"github.com/shopspring/decimal"
)

// view is one agreement folded from a set of visible records.
//
// A view is changed only by push (apply the next record in fold order) and
// pop (take the last one back). Every change a record makes can be derived
// from the record and the view, so pop needs no log: it undoes the record's
// changes in reverse order. That lets the index insert a retroactive record
// by popping the records after it, pushing it and pushing them again, and
// lets a validation try amendments on a live view and then restore it.
type view struct {
	agreement string
	title     string
	parties   []string
	opened    *events.Record // the amendment that opened it; nil until opened
	closed    *events.Record // the amendment that closed it; nil until closed

	folded   []*events.Record // every visible record in fold order, applied or skipped
	seqMax   []uint64         // seqMax[i]: the largest Seq in folded[:(i+1)*seqBlock]
	versions []*version       // every clause version, in the order made (so of from)
	// clauses by id, once there are more than clauseScan of them (see
	// clause); order alone finds fewer, and most agreements have few: a
	// map each would be much of the memory a read model holds.
	clauses map[string]*line
	order   []*line    // clauses in the order they were added
	notes   *viewNotes // declarations and skipped records: noNotes until there are some
	endsOn  *condIndex // nil until a clause ends on a condition
	grants  []*version // versions of exclusive grants, for conflicts
	marks   []checkpoint

	gi  *grantIndex // the index whose grant entries follow this view, if any
	own *agreement
}

// viewNotes is what few views have: declarations and skipped records, and
// what a trial on a live view notes while it runs. (Kept apart, they would
// be a good part of every view.)
type viewNotes struct {
	// While set (see reusing), the versions amends made that rollback took
	// back, for amended.
	reuse map[reuseKey]*version
	// While set (see watching), what happened to exclusive grants.
	watch map[*version]*watched

	declared map[string]*events.Record
	decl     []Declared       // declarations by time, then condition: States share it (see undeclare)
	declBy   []*events.Record // the amendment behind each of decl
	problems []Anomaly        // amendments skipped when folding leniently
	skipped  []*events.Record // the records of problems, in fold order
}

// noNotes is the notes of every view that has none: read, never written.
var noNotes = &viewNotes{}

// writeNotes returns v's notes to change, made if it has none.
func (v *view) writeNotes() *viewNotes {
	if v.notes == noNotes {
		v.notes = &viewNotes{}
	}
	return v.notes
}

// watched is what a trial did to an exclusive grant version: whether it
// existed before (and its interval then), and whether it exists now.
type watched struct {
	existed bool
	before  interval
	alive   bool
}

// watching makes the view note every change to its exclusive grants (see
// watched) until done is called: a trial on a live view then knows which
// grants it made or changed without comparing every grant.
func (v *view) watching() (done func()) {
	n := v.writeNotes()
	n.watch = map[*version]*watched{}
	return func() { n.watch = nil }
}

// stopWatching ends watching, if it is on.
func (v *view) stopWatching() {
	if v.notes.watch != nil {
		v.notes.watch = nil
	}
}

// touch notes that x is about to change, the first time it does.
func (v *view) touch(x *version) {
	if v.notes.watch == nil || !x.clause.ExclusiveGrant() {
		return
	}
	if _, ok := v.notes.watch[x]; !ok {
		w := &watched{existed: true, alive: true}
		w.before.lo, w.before.hi, w.before.ok = x.interval()
		v.notes.watch[x] = w
	}
}

// line is the life of one clause: its versions and what happened to it.
type line struct {
	current *version       // latest version: a line has one from when it is added
	endRec  *events.Record // the amendment whose end, declared condition or close stopped it
	more    *lineMore      // revenue shares and investments (noMore until reported or funded)
	// ids of the amendments that made its versions, first to last: a
	// version's are ids[:depth+1], which States share (see dropVersion).
	// Nil while it has one version (most clauses never change): then the
	// id is its version's by.ID.
	ids     []ulid.ULID
	added   int64  // when it was added: micros, and
	pos     int32  // position in view.order
	addedNs uint16 // nanoseconds past them (see addedT)
	endOp   opCode // which of those it was
	kc      kindCode
}

// id is the clause's id (which amends do not change).
func (l *line) id() string { return l.current.clause.ID }

// addedT is when the clause was added: when its first version took effect.
func (l *line) addedT() time.Time {
	if l.added > minMicros && l.added < maxMicros {
		return time.UnixMicro(l.added).Add(time.Duration(l.addedNs)).UTC()
	}
	x := l.current
	for x.prev != nil {
		x = x.prev
	}
	return x.by.Effective
}

// kindCode says which clause kinds need more than their values in a state.
type kindCode uint8

const (
	kindOther kindCode = iota
	kindRevenueShare
	kindInvestment
)

// lineMore is what only revenue shares and investments keep.
type lineMore struct {
	reports []report  // revenue_share, in fold order
	funded  []funding // investment, in fold order
}

// noMore is the lineMore of every revenue share or investment with no
// reports or funding yet: read, never written.
var noMore = &lineMore{}

// writeMore returns l's lineMore to change, made if it is noMore.
func (l *line) writeMore() *lineMore {
	if l.more == noMore {
		l.more = &lineMore{}
	}
	return l.more
}

type funding struct {
	tranche string
	rec     *events.Record
}

func (l *line) kind() events.Kind { return l.current.clause.Kind }

// version is a clause's values over the interval [from, until) of valid time:
// from is when by takes effect, until when closeBy does (open while nil).
type version struct {
	line    *line
	clause  *events.Clause
	by      *events.Record
	prev    *version
	closeBy *events.Record // the amendment whose change closed it
	// Valid times as microseconds (see micros), for quick comparisons: from,
	// and hi, the end of the interval in force (math.MaxInt64 when
	// open-ended); it starts at from unless its term starts later (see lo).
	// Comparisons that tie fall back on the exact times.
	from, hi int64
	depth    int32  // versions of the line before this one
	fromNs   uint16 // from = micros from + fromNs nanoseconds
	closeOp  opCode
	flags    uint8
}

// version.flags
const (
	hasTerm     = 1 << iota // clause.Term != nil
	startsLater             // the term starts after from
)

// lo is when the version comes in force, in micros.
func (v *version) lo() int64 {
	if v.flags&startsLater != 0 {
		return micros(v.clause.Term.Start)
	}
	return v.from
}

// opCode is an op kept in a byte.
type opCode uint8

const (
	opNone opCode = iota
	opAmend
	opEnd
	opDeclare
	opClose
)

var opNames = [...]events.Op{opAmend: events.Amend, opEnd: events.End, opDeclare: events.Declare, opClose: events.Close}

func (o opCode) op() events.Op { return opNames[o] }

// fromT is when the version's values took effect: by.Effective, without
// reading by when from is exact.
func (v *version) fromT() time.Time {
	if v.from > minMicros && v.from < maxMicros {
		return time.UnixMicro(v.from).Add(time.Duration(v.fromNs)).UTC()
	}
	return v.by.Effective
}

// until is when the version was closed; zero while it is current.
func (v *version) until() time.Time {
	if v.closeBy == nil {
		return time.Time{}
	}
	return v.closeBy.Effective
}

// start is when the clause's term starts: the term's start, or when it was added.
func (v *version) start() time.Time {
	if v.flags&hasTerm != 0 && !v.clause.Term.Start.IsZero() {
		return v.clause.Term.Start
	}
	return v.line.addedT()
}

// end is when the clause's term ends; zero means open-ended.
func (v *version) end() time.Time {
	if v.flags&hasTerm != 0 {
		return v.clause.Term.End
	}
	return time.Time{}
}

// interval is when this version is in force: [lo, hi), hi zero meaning open.
// ok is false when it never is.
func (v *version) interval() (lo, hi time.Time, ok bool) {
	lo = later(v.fromT(), v.start())
	hi = earlier(v.until(), v.end())
	return lo, hi, hi.IsZero() || lo.Before(hi)
}

// inForce reports whether the version is in force at t (tm is micros(t)).
func (v *version) inForce(t time.Time, tm int64) bool {
	if lo := v.lo(); lo < tm && tm < v.hi {
		return true
	} else if tm < lo || tm > v.hi {
		return false
	}
	lo, hi, ok := v.interval()
	return ok && !t.Before(lo) && (hi.IsZero() || t.Before(hi))
}

// inForceBefore is inForce in the view folded up to bound: a close by an
// amendment at or after bound has not happened there. (bound nil: everything.)
func (v *version) inForceBefore(t time.Time, tm int64, bound *events.Record) bool {
	if v.closeBy == nil || before(v.closeBy, bound) {
		return v.inForce(t, tm)
	}
	lo, hi, ok := v.intervalBefore(bound)
	return ok && !t.Before(lo) && (hi.IsZero() || t.Before(hi))
}

// intervalBefore is interval in the view folded up to bound.
func (v *version) intervalBefore(bound *events.Record) (lo, hi time.Time, ok bool) {
	if v.closeBy == nil || before(v.closeBy, bound) {
		return v.interval()
	}
	lo, hi = later(v.fromT(), v.start()), v.end()
	return lo, hi, hi.IsZero() || lo.Before(hi)
}

// setHi recomputes hi after the version was closed or reopened.
func (v *version) setHi() {
	hi := earlier(v.until(), v.end())
	if hi.IsZero() {
		v.hi = math.MaxInt64
	} else {
		v.hi = micros(hi)
	}
}

// endsOn is the condition the version ends on, or "".
func (v *version) endsOn() string {
	if v == nil || v.clause.Term == nil {
		return ""
	}
	return v.clause.Term.EndsOn
}

// micros is t in microseconds since 1970, rounded down: an order-preserving
// key (saturating far outside the years 1900–9999 that input allows) that
// ties only where the exact times must be compared.
func micros(t time.Time) int64 {
	s := t.Unix()
	const lim = math.MaxInt64/1_000_000 - 1
	switch {
	case s > lim:
		return maxMicros
	case s < -lim:
		return minMicros
	}
	return s*1_000_000 + int64(t.Nanosecond()/1000)
}

// The values micros saturates at.
const (
	minMicros = math.MinInt64 + 1
	maxMicros = math.MaxInt64 - 1
)

// before reports whether r comes before bound in fold order; everything
// does when bound is nil.
func before(r, bound *events.Record) bool { return bound == nil || foldOrder(r, bound) < 0 }

// later returns the later of two times.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// earlier returns the earlier of two times where zero means never.
func earlier(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero():
		return a
	case a.Before(b):
		return a
	}
	return b
}

// report is one revenue report under a revenue share, with the running
// total owed after it, clamped at the cap, and what the cap cut from it.
type report struct {
	at    int64 // micros(rec.Effective)
	rec   *events.Record
	total decimal.Decimal // running total, clamped at the cap, when it can be computed
	// excess is the uncapped running total (of each report's rate × base)
	// less total: zero, and nothing allocated, until a cap cuts. Where
	// total cannot be computed it is the uncapped running total itself.
	excess decimal.Decimal
	cur    string // currency of the totals
	why    string // why total cannot be computed; "" when it can
	// rateUnknown: the uncapped running total cannot be computed, for a
	// report under an undisclosed rate.
	rateUnknown bool
}

// plus is a + b, without allocating when either is zero.
func plus(a, b decimal.Decimal) decimal.Decimal {
	switch {
	case a.IsZero():
		return b
	case b.IsZero():
		return a
	}
	return a.Add(b)
}

// uncapped is the running total of each report's rate × base, unless
// rateUnknown.
func (r *report) uncapped() decimal.Decimal {
	switch {
	case r.why != "":
		return r.excess
	case r.excess.IsZero():
		return r.total
	}
	return r.total.Add(r.excess)
}

// Anomaly is an amendment a lenient fold skipped because it does not apply
// to the history it is in. The ledger's own appends never produce one; a
// message written around the ledger, or history changed by a retraction, can.
type Anomaly struct {
	Amendment string `json:"amendment"`
	Problem   string `json:"problem"`
}

func newView(agreement string) *view {
	return &view{agreement: agreement, notes: noNotes}
}

// clauseScan is how many clauses a view finds by scanning order, before it
// keeps a map of them.
const clauseScan = 48

// clause returns the clause with id, or nil.
func (v *view) clause(id string) *line {
	if v.clauses != nil {
		return v.clauses[id]
	}
	for _, l := range v.order {
		if l.id() == id {
			return l
		}
	}
	return nil
}

// addLine appends l to the clauses, mapping them once there are many.
func (v *view) addLine(l *line) {
	v.order = append(v.order, l)
	switch {
	case v.clauses != nil:
		v.clauses[l.id()] = l
	case len(v.order) > clauseScan:
		v.clauses = make(map[string]*line, 2*len(v.order))
		for _, x := range v.order {
			v.clauses[x.id()] = x
		}
	}
}

// foldAll folds records (already in fold order) into a new view.
func foldAll(agreement string, recs []*events.Record) *view {
	v := newView(agreement)
	v.folded = make([]*events.Record, 0, len(recs))
	for _, r := range recs {
		v.push(r, nil)
	}
	return v
}

// push applies r, the next record in fold order, leniently: a record that
// does not apply is skipped and noted as an Anomaly. When p is non-nil it is
// strict instead: problems are recorded in p and r is not folded at all.
// Either way a record that does not apply changes nothing of the clauses.
func (v *view) push(r *events.Record, p *events.Problems) bool {
	var local events.Problems
	done := v.apply(r, &local)
	if local.Len() == 0 {
		v.appendFolded(r)
		v.checkpoint()
		return true
	}
	v.unapply(r, done)
	if p != nil {
		for _, e := range local.List() {
			p.Add(e.Path, "%s", e.Message)
		}
		return false
	}
	n := v.writeNotes()
	n.problems = append(n.problems, Anomaly{Amendment: r.ID.String(), Problem: local.List()[0].Error()})
	n.skipped = append(n.skipped, r)
	v.appendFolded(r)
	return false
}

// pop takes back the last record folded. Callers fix seqMax (rollback does).
func (v *view) pop() {
	n := len(v.folded) - 1
	r := v.folded[n]
	if m, k := v.notes, len(v.notes.skipped)-1; k >= 0 && m.skipped[k] == r {
		m.skipped[k] = nil
		m.skipped, m.problems = m.skipped[:k], m.problems[:k]
	} else {
		v.unapply(r, len(r.Changes))
		v.dropMarks()
	}
	v.folded[n] = nil
	v.folded = v.folded[:n]
}

// reusing makes rollback keep what amends made for amended, until done is
// called.
func (v *view) reusing() (done func()) {
	n := v.writeNotes()
	n.reuse = map[reuseKey]*version{}
	return func() { n.reuse = nil }
}

// rollback pops records until n are left.
func (v *view) rollback(n int) {
	if len(v.folded) <= n {
		return
	}
	for len(v.folded) > n {
		v.pop()
	}
	v.seqMax = v.seqMax[:(n+seqBlock-1)/seqBlock]
	if i := n - n%seqBlock; i < n {
		m := uint64(0)
		if i > 0 {
			m = v.seqMax[i/seqBlock-1]
		}
		for _, r := range v.folded[i:n] {
			m = max(m, r.Seq)
		}
		v.seqMax[i/seqBlock] = m
	}
}

// seqBlock is how many records of folded share an entry of seqMax.
const seqBlock = 32

func (v *view) appendFolded(r *events.Record) {
	n := len(v.folded)
	v.folded = append(v.folded, r)
	switch k := n / seqBlock; {
	case k < len(v.seqMax):
		v.seqMax[k] = max(v.seqMax[k], r.Seq)
	case k > 0:
		v.seqMax = append(v.seqMax, max(v.seqMax[k-1], r.Seq))
	default:
		v.seqMax = append(v.seqMax, r.Seq)
	}
}

// prefix returns how many of the first records folded were recorded at or
// before sequence cut.
func (v *view) prefix(cut uint64) int {
	k, _ := slices.BinarySearchFunc(v.seqMax, cut, func(m, cut uint64) int {
		if m <= cut {
			return -1
		}
		return 1
	})
	i := k * seqBlock
	for i < len(v.folded) && v.folded[i].Seq <= cut {
		i++
	}
	return i
}

// position returns where r is, or would go, in folded.
func (v *view) position(r *events.Record) (int, bool) {
	return slices.BinarySearchFunc(v.folded, r, foldOrder)
}

// earliest is the first position in folded that recs change: where the
// earliest of them is, or would be (len(folded) when recs is empty).
func (v *view) earliest(recs []*events.Record) int {
	p := len(v.folded)
	for _, r := range recs {
		i, _ := v.position(r)
		p = min(p, i)
	}
	return p
}

func chPath(i int) string { return "changes[" + strconv.Itoa(i) + "]" }

// apply applies r's changes in order until one does not apply, recording
// its problems in p; it returns how many applied. A change that does not
// apply changes nothing: every check comes before the change it guards.
func (v *view) apply(r *events.Record, p *events.Problems) int {
	at := r.Effective
	for i, c := range r.Changes {
		if c.Op == events.Retract {
			continue // retractions act on which records are visible, not on valid time
		}
		if c.Op == events.Open {
			if v.opened != nil {
				p.Add(join(chPath(i), "op"), "the agreement is already open (opened %s by %s)", day(v.opened.Effective), who(v.opened))
				return i
			}
			v.opened, v.title, v.parties = r, c.Of().Title, c.Of().Parties
			continue
		}
		if v.opened == nil {
			p.Add(join(chPath(i), "op"), "the agreement %s is not open at %s: its first amendment must open it", v.agreement, day(at))
			return i
		}
		if v.closed != nil {
			p.Add(join(chPath(i), "op"), "the agreement was closed %s (%s); it takes no further changes", day(v.closed.Effective), who(v.closed))
			return i
		}
		switch c.Op {
		case events.Add:
			if !v.addClause(r, i, c.Clause, p) {
				return i
			}
		case events.Amend:
			l := v.live(c.ClauseID, i, p)
			if l == nil {
				return i
			}
			next := v.amended(r, i, l.current.clause, c.Set, p)
			if next == nil {
				return i
			}
			if !v.checkParties(next, i, "set", p) || !v.checkTerm(l, next, i, "set.term", p) {
				return i
			}
			v.closeVersion(l.current, r, opAmend)
			v.newVersion(l, next, r)
		case events.End:
			l := v.live(c.ClauseID, i, p)
			if l == nil {
				return i
			}
			v.endLine(l, r, opEnd)
		case events.Declare:
			if d := v.notes.declared[c.Of().Condition]; d != nil {
				p.Add(join(chPath(i), "condition"), "%s was already declared %s (%s)", c.Of().Condition, day(d.Effective), who(d))
				return i
			}
			v.declare(c.Of().Condition, r)
			for _, l := range v.endsOn.get(c.Of().Condition) {
				if l.endRec == nil && l.current.endsOn() == c.Of().Condition {
					v.endLine(l, r, opDeclare)
				}
			}
		case events.Report:
			if !v.report(r, i, c, p) {
				return i
			}
		case events.Fund:
			if !v.fund(r, i, c, p) {
				return i
			}
		case events.Close:
			v.closed = r
			for _, l := range v.order {
				if l.endRec == nil {
					v.endLine(l, r, opClose)
				}
			}
		}
	}
	return len(r.Changes)
}

// unapply takes back the first n changes of r, which apply made, last first.
func (v *view) unapply(r *events.Record, n int) {
	for i := n - 1; i >= 0; i-- {
		c := r.Changes[i]
		switch c.Op {
		case events.Open:
			v.opened, v.title, v.parties = nil, "", nil
		case events.Add:
			l := v.order[len(v.order)-1] // the last clause added
			if v.clauses != nil {
				delete(v.clauses, l.id())
			}
			v.dropVersion(l.current)
			v.order[len(v.order)-1] = nil
			v.order = v.order[:len(v.order)-1]
		case events.Amend:
			x := v.versions[len(v.versions)-1] // the last version made
			v.dropVersion(x)
			v.reopen(x.prev)
			v.remember(r, i, x)
		case events.End:
			v.unend(v.clause(c.ClauseID))
		case events.Declare:
			ls := v.endsOn.get(c.Of().Condition)
			for j := len(ls) - 1; j >= 0; j-- {
				if l := ls[j]; l.endRec == r && l.endOp == opDeclare && l.current.endsOn() == c.Of().Condition {
					v.unend(l)
				}
			}
			v.undeclare(c.Of().Condition)
		case events.Report:
			m := v.clause(c.ClauseID).more
			m.reports = m.reports[:len(m.reports)-1]
		case events.Fund:
			m := v.clause(c.ClauseID).more
			m.funded = m.funded[:len(m.funded)-1]
		case events.Close:
			v.closed = nil
			for j := len(v.order) - 1; j >= 0; j-- {
				if l := v.order[j]; l.endRec == r && l.endOp == opClose {
					v.unend(l)
				}
			}
		}
	}
}

// amended returns clause c with the fields of change i of r set, or nil
// with problems in p. While a view is folded again after a rollback, the
// clause an amend made the first time is used again when it was made from
// the same clause (a patch's result depends only on both).
func (v *view) amended(r *events.Record, i int, c *events.Clause, set *events.Patch, p *events.Problems) *events.Clause {
	if v.notes.reuse != nil {
		if x, ok := v.notes.reuse[reuseKey{r, i}]; ok && x.prev.clause == c {
			return x.clause
		}
	}
	var tmp events.Problems
	next := set.Apply(c, "", &tmp)
	if tmp.Len() == 0 {
		return next
	}
	set.Apply(c, join(chPath(i), "set"), p) // again, for the problems' paths: they are rare
	return nil
}

// remember keeps the version an amend made, which rollback took back, for
// amended.
func (v *view) remember(r *events.Record, i int, x *version) {
	if v.notes.reuse != nil {
		v.notes.reuse[reuseKey{r, i}] = x
	}
}

type reuseKey struct {
	r *events.Record
	i int
}

// declare notes that cond was declared by r, keeping decl in order.
func (v *view) declare(cond string, r *events.Record) {
	n := v.writeNotes()
	if n.declared == nil {
		n.declared = map[string]*events.Record{}
	}
	n.declared[cond] = r
	d := Declared{Condition: cond, At: r.Effective, Amendment: r.ID.String()}
	i := len(n.decl)
	for i > 0 && n.decl[i-1].At.Equal(d.At) && n.decl[i-1].Condition > cond {
		i--
	}
	if i == len(n.decl) {
		n.decl = append(n.decl, d)
		n.declBy = append(n.declBy, r)
		return
	}
	// States share decl up to its length: never write over what one may hold.
	n.decl = slices.Insert(slices.Clip(n.decl), i, d)
	n.declBy = slices.Insert(n.declBy, i, r)
}

func (v *view) undeclare(cond string) {
	n := v.writeNotes()
	delete(n.declared, cond)
	i := len(n.decl) - 1
	for n.decl[i].Condition != cond {
		i--
	}
	// Clipped, so that the next append copies rather than write over what
	// a State may hold.
	n.decl = append(slices.Clip(n.decl[:i]), n.decl[i+1:]...)
	n.declBy = slices.Delete(n.declBy, i, i+1)
}

// addClause adds clause c, made by change i of r.
func (v *view) addClause(r *events.Record, i int, c *events.Clause, p *events.Problems) bool {
	if old := v.clause(c.ID); old != nil {
		p.Add(join(chPath(i), "clause.id"), "clause %s already exists in %s (added %s by %s); clause ids are unique within an agreement", c.ID, v.agreement, day(old.addedT()), who(old.versions()[0].by))
		return false
	}
	l := &line{added: micros(r.Effective), addedNs: uint16(r.Effective.Nanosecond() % 1000), pos: int32(len(v.order))}
	if !v.checkParties(c, i, "clause", p) || !v.checkTerm(l, c, i, "clause.term", p) {
		return false
	}
	switch c.Kind {
	case events.RevenueShare:
		l.more, l.kc = noMore, kindRevenueShare
	case events.Investment:
		l.more, l.kc = noMore, kindInvestment
	}
	v.newVersion(l, c, r)
	v.addLine(l)
	return true
}

// live returns the clause id names if it exists and has not ended.
func (v *view) live(id string, i int, p *events.Problems) *line {
	l := v.clause(id)
	if l == nil {
		p.Add(join(chPath(i), "clause"), "no clause %s in %s%s", id, v.agreement, v.suggest())
		return nil
	}
	if l.endRec != nil {
		how := map[opCode]string{opEnd: "ended", opDeclare: "ended when " + l.current.endsOn() + " was declared", opClose: "ended when the agreement closed"}[l.endOp]
		p.Add(join(chPath(i), "clause"), "clause %s %s %s (%s)", id, how, day(l.endRec.Effective), who(l.endRec))
		return nil
	}
	return l
}

func (v *view) suggest() string {
	if len(v.order) == 0 {
		return " (it has no clauses)"
	}
	n := min(len(v.order), 12)
	ids := make([]string, 0, n+1)
	for _, l := range v.order[:n] {
		ids = append(ids, l.id())
	}
	if len(v.order) > n {
		ids = append(ids, "…")
	}
	return " (its clauses: " + joinComma(ids) + ")"
}

// checkParties checks that both parties of c are parties of the agreement.
func (v *view) checkParties(c *events.Clause, i int, sub string, p *events.Problems) bool {
	grantor, holder := events.PartyFields(c.Kind)
	ok := true
	for _, pr := range [2]struct{ name, party string }{{grantor, c.Grantor}, {holder, c.Holder}} {
		if !slices.Contains(v.parties, pr.party) {
			p.Add(join(join(chPath(i), sub), pr.name), "%s is not a party to %s (its parties: %s)", pr.party, v.agreement, joinComma(v.parties))
			ok = false
		}
	}
	return ok
}

// checkTerm checks a clause's term as it would be from now on.
func (v *view) checkTerm(l *line, c *events.Clause, i int, sub string, p *events.Problems) bool {
	t := c.Term
	if t == nil {
		return true
	}
	start := t.Start
	if start.IsZero() {
		start = l.addedT()
	}
	if !t.End.IsZero() && !t.End.After(start) {
		p.Add(join(join(chPath(i), sub), "end"), "must be after the term's start (%s)", day(start))
		return false
	}
	if t.EndsOn != "" {
		if d := v.notes.declared[t.EndsOn]; d != nil {
			p.Add(join(join(chPath(i), sub), "ends_on"), "%s was already declared %s (%s), so the clause would never be in force", t.EndsOn, day(d.Effective), who(d))
			return false
		}
	}
	return true
}

func (v *view) newVersion(l *line, c *events.Clause, r *events.Record) {
	nv := &version{line: l, clause: c, by: r, prev: l.current}
	if c.Term != nil {
		nv.flags |= hasTerm
		if c.Term.Start.After(r.Effective) {
			nv.flags |= startsLater
		}
	}
	if l.current != nil {
		nv.depth = l.current.depth + 1
		if l.ids == nil {
			l.ids = append(make([]ulid.ULID, 0, 2), l.current.by.ID)
		}
		l.ids = append(l.ids, r.ID)
	}
	nv.from, nv.fromNs = micros(r.Effective), uint16(r.Effective.Nanosecond()%1000)
	nv.setHi()
	l.current = nv
	v.versions = append(v.versions, nv)
	if cond := nv.endsOn(); cond != "" && nv.prev.endsOn() != cond {
		if v.endsOn == nil {
			v.endsOn = &condIndex{}
		}
		v.endsOn.add(cond, l)
	}
	if c.ExclusiveGrant() {
		v.grants = append(v.grants, nv)
		if v.gi != nil {
			v.gi.add(v.own, nv)
		}
		if v.notes.watch != nil {
			v.notes.watch[nv] = &watched{alive: true}
		}
	} else if v.gi != nil && otherGrant(c) {
		v.gi.addBasis(v.own, nv)
	}
}

// condIndex lists, for each condition, the clauses whose versions came to
// end on it, in the order they did. Most views have a few conditions, if
// any: a slice holds them, in much less memory than a map; past
// condScan of them, a map does.
type condIndex struct {
	few  []condLines
	many map[string][]*line
}

type condLines struct {
	cond  string
	lines []*line
}

const condScan = 8

// get returns the clauses that came to end on cond. ci may be nil.
func (ci *condIndex) get(cond string) []*line {
	switch {
	case ci == nil:
		return nil
	case ci.many != nil:
		return ci.many[cond]
	}
	for _, c := range ci.few {
		if c.cond == cond {
			return c.lines
		}
	}
	return nil
}

func (ci *condIndex) add(cond string, l *line) {
	if ci.many != nil {
		ci.many[cond] = append(ci.many[cond], l)
		return
	}
	for i := range ci.few {
		if c := &ci.few[i]; c.cond == cond {
			c.lines = append(c.lines, l)
			return
		}
	}
	if len(ci.few) < condScan {
		ci.few = append(ci.few, condLines{cond, []*line{l}})
		return
	}
	ci.many = make(map[string][]*line, 2*condScan)
	for _, c := range ci.few {
		ci.many[c.cond] = c.lines
	}
	ci.few = nil
	ci.many[cond] = []*line{l}
}

// pop takes back the last add of cond.
func (ci *condIndex) pop(cond string) {
	if ci.many != nil {
		ls := ci.many[cond]
		ls[len(ls)-1] = nil
		if len(ls) == 1 {
			delete(ci.many, cond)
		} else {
			ci.many[cond] = ls[:len(ls)-1]
		}
		return
	}
	for i := range ci.few {
		c := &ci.few[i]
		if c.cond != cond {
			continue
		}
		c.lines[len(c.lines)-1] = nil
		if c.lines = c.lines[:len(c.lines)-1]; len(c.lines) == 0 {
			ci.few = slices.Delete(ci.few, i, i+1)
		}
		return
	}
}

// dropVersion takes back newVersion of x, the last version made.
func (v *view) dropVersion(x *version) {
	l := x.line
	v.touch(x)
	if w := v.notes.watch[x]; w != nil {
		w.alive = false
	}
	if x.clause.ExclusiveGrant() {
		if v.gi != nil {
			v.gi.remove(x)
		}
		v.grants[len(v.grants)-1] = nil
		v.grants = v.grants[:len(v.grants)-1]
	} else if v.gi != nil && otherGrant(x.clause) {
		v.gi.removeBasis(x)
	}
	if cond := x.endsOn(); cond != "" && x.prev.endsOn() != cond {
		v.endsOn.pop(cond)
	}
	v.versions[len(v.versions)-1] = nil
	v.versions = v.versions[:len(v.versions)-1]
	l.current = x.prev
	// Clipped, so that the next append copies rather than write over ids a
	// State may hold.
	l.ids = slices.Clip(l.ids[:x.depth])
}

func (v *view) closeVersion(x *version, r *events.Record, op opCode) {
	v.touch(x)
	x.closeBy, x.closeOp = r, op
	x.setHi()
	v.indexHi(x)
}

func (v *view) reopen(x *version) {
	v.touch(x)
	x.closeBy, x.closeOp = nil, opNone
	x.setHi()
	v.indexHi(x)
}

// indexHi tells the grant index the new end of x, when it has x.
func (v *view) indexHi(x *version) {
	switch {
	case v.gi == nil:
	case x.clause.ExclusiveGrant():
		v.gi.update(x)
	case otherGrant(x.clause):
		v.gi.updateBasis(x)
	}
}

func (v *view) endLine(l *line, r *events.Record, op opCode) {
	v.closeVersion(l.current, r, op)
	l.endRec, l.endOp = r, op
}

func (v *view) unend(l *line) {
	l.endRec, l.endOp = nil, opNone
	v.reopen(l.current)
}

func (v *view) report(r *events.Record, i int, c events.Change, p *events.Problems) bool {
	l := v.clause(c.ClauseID)
	switch {
	case l == nil:
		p.Add(join(chPath(i), "clause"), "no clause %s in %s%s", c.ClauseID, v.agreement, v.suggest())
		return false
	case l.kind() != events.RevenueShare:
		p.Add(join(chPath(i), "clause"), "clause %s is %s, not a revenue share", c.ClauseID, l.kind())
		return false
	}
	cl := l.current.clause
	rep := report{at: micros(r.Effective), rec: r, cur: c.Of().Base.Currency}
	var prev *report
	if n := len(l.more.reports); n > 0 {
		prev = &l.more.reports[n-1]
	}
	if prev != nil && prev.cur != c.Of().Base.Currency {
		p.Add(join(chPath(i), "base.currency"), "is %s but earlier reports under %s are in %s", c.Of().Base.Currency, c.ClauseID, prev.cur)
		return false
	}
	if cl.Cap != nil && cl.Cap.Currency != "" && cl.Cap.Currency != c.Of().Base.Currency { // an undisclosed cap may still name its currency
		p.Add(join(chPath(i), "base.currency"), "is %s but the cap of %s is in %s", c.Of().Base.Currency, c.ClauseID, cl.Cap.Currency)
		return false
	}
	// What this report owes is rate × base, at the rate in force when it
	// takes effect; the uncapped running total needs only the rates, the
	// clamped one the caps as well.
	var owed decimal.Decimal
	rep.rateUnknown = prev != nil && prev.rateUnknown || cl.Rate.Undisclosed
	if !rep.rateUnknown {
		owed = cl.Rate.Value.Mul(c.Of().Base.Amount)
	}
	switch {
	case prev != nil && prev.why != "":
		rep.why = prev.why
	case cl.Rate.Undisclosed:
		rep.why = "the rate of " + c.ClauseID + " is undisclosed"
	case cl.Cap != nil && cl.Cap.Undisclosed:
		rep.why = "the cap of " + c.ClauseID + " is undisclosed, so the running total cannot be clamped to it"
	case prev != nil && cl.Cap != nil && !prev.total.LessThan(cl.Cap.Amount):
		// At or past the cap already (a lowered cap does not claw back
		// what was owed): the cap cuts all this report owes.
		rep.total, rep.excess = prev.total, plus(prev.excess, owed)
	default:
		uncut := owed
		if prev != nil {
			uncut, rep.excess = prev.total.Add(owed), prev.excess
		}
		rep.total = uncut
		if cl.Cap != nil && uncut.GreaterThan(cl.Cap.Amount) {
			rep.total = cl.Cap.Amount
			rep.excess = plus(rep.excess, uncut.Sub(rep.total))
		}
	}
	if rep.why != "" && !rep.rateUnknown {
		rep.excess = owed // the uncapped running total itself (see report)
		if prev != nil {
			rep.excess = plus(prev.uncapped(), owed)
		}
	}
	m := l.writeMore()
	m.reports = append(m.reports, rep)
	return true
}

func (v *view) fund(r *events.Record, i int, c events.Change, p *events.Problems) bool {
	l := v.clause(c.ClauseID)
	switch {
	case l == nil:
		p.Add(join(chPath(i), "clause"), "no clause %s in %s%s", c.ClauseID, v.agreement, v.suggest())
		return false
	case l.kind() != events.Investment:
		p.Add(join(chPath(i), "clause"), "clause %s is %s, not an investment", c.ClauseID, l.kind())
		return false
	}
	if !slices.ContainsFunc(l.current.clause.Tranches, func(t events.Tranche) bool { return t.ID == c.Of().Tranche }) {
		var ids []string
		for _, t := range l.current.clause.Tranches {
			ids = append(ids, t.ID)
		}
		p.Add(join(chPath(i), "tranche"), "investment %s has no tranche %s (its tranches: %s)", c.ClauseID, c.Of().Tranche, joinComma(ids))
		return false
	}
	if s := l.fundedBy(c.Of().Tranche); s != nil {
		p.Add(join(chPath(i), "tranche"), "tranche %s of %s was already funded %s (%s)", c.Of().Tranche, c.ClauseID, day(s.Effective), who(s))
		return false
	}
	m := l.writeMore()
	m.funded = append(m.funded, funding{c.Of().Tranche, r})
	return true
}

// versions returns the versions of a clause, first to last.
func (l *line) versions() []*version {
	out := make([]*version, l.current.depth+1)
	for v := l.current; v != nil; v = v.prev {
		out[v.depth] = v
	}
	return out
}

// fundedBy returns the amendment that paid tranche id in, or nil.
func (l *line) fundedBy(id string) *events.Record {
	if l.more == nil {
		return nil
	}
	for _, f := range l.more.funded {
		if f.tranche == id {
			return f.rec
		}
	}
	return nil
}

// reportsBy returns how many reports are effective at or before t, and
// before bound in fold order.
func (l *line) reportsBy(t time.Time, bound *events.Record) int {
	if l.more == nil {
		return 0
	}
	rs := l.more.reports
	tm := micros(t)
	i, _ := slices.BinarySearchFunc(rs, t, func(r report, t time.Time) int {
		if r.at > tm || r.at == tm && r.rec.Effective.After(t) {
			return 1
		}
		return -1
	})
	if bound != nil {
		j, _ := slices.BinarySearchFunc(rs[:i], bound, func(r report, b *events.Record) int { return foldOrder(r.rec, b) })
		i = j
	}
	return i
}

// foldOrder sorts records by effective time, then stream sequence.
func foldOrder(a, b *events.Record) int {
	if c := a.Effective.Compare(b.Effective); c != 0 {
		return c
	}
	return cmp.Compare(a.Seq, b.Seq)
}

// who names the amendment behind something, for messages.
func who(r *events.Record) string {
	if r.ID == (ulid.ULID{}) {
		return "an amendment of this input"
	}
	return "amendment " + r.ID.String()
}

func day(t time.Time) string { return events.FormatTime(t) }

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}
