package projections

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/oklog/ulid/v2"
	"github.com/shopspring/decimal"
)

// view is one agreement folded from a set of visible records.
type view struct {
	agreement string
	title     string
	parties   []string
	opened    *stamp // nil until opened
	closed    *stamp // nil until closed

	records  []*events.Record // visible records in fold order: effective, then sequence
	versions []*version       // every clause version, in order of from
	clauses  map[string]*line
	order    []*line // clauses in the order they were added
	declared map[string]*stamp
	declSeq  []declaration // the declarations in fold order, so by time
	grants   []*version    // versions of exclusive grants, for conflicts
	marks    []checkpoint
	problems []Anomaly        // amendments skipped when folding leniently
	skipped  []*events.Record // the records of problems
}

// stamp says when something took effect and which amendment did it.
type stamp struct {
	at  time.Time
	rec *events.Record
}

// line is the life of one clause: its versions and what happened to it.
type line struct {
	id      string
	kind    events.Kind
	added   time.Time
	current *version // latest version
	ended   *stamp   // set when an end, a declared condition or close stopped it
	endedBy events.Op
	reports []*report         // revenue_share
	funded  map[string]*stamp // investment: tranche id → when paid in
	fundOrd []string          // tranche ids in the order funded
	cond    string            // for endedBy == Declare: the condition
	pos     int               // position in view.order
}

// version is a clause's values over the interval [from, until) of valid time.
type version struct {
	line    *line
	clause  *events.Clause
	from    time.Time
	until   time.Time // zero while current
	by      *events.Record
	prev    *version
	closeBy *events.Record // the amendment whose change closed it
	closeOp events.Op
}

// start is when the clause's term starts: the term's start, or when it was added.
func (v *version) start() time.Time {
	if v.clause.Term != nil && !v.clause.Term.Start.IsZero() {
		return v.clause.Term.Start
	}
	return v.line.added
}

// end is when the clause's term ends; zero means open-ended.
func (v *version) end() time.Time {
	if v.clause.Term != nil {
		return v.clause.Term.End
	}
	return time.Time{}
}

// interval is when this version is in force: [lo, hi), hi zero meaning open.
// ok is false when it never is.
func (v *version) interval() (lo, hi time.Time, ok bool) {
	lo = later(v.from, v.start())
	hi = earlier(v.until, v.end())
	return lo, hi, hi.IsZero() || lo.Before(hi)
}

// inForce reports whether the version is in force at t.
func (v *version) inForce(t time.Time) bool {
	lo, hi, ok := v.interval()
	return ok && !t.Before(lo) && (hi.IsZero() || t.Before(hi))
}

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

// report is one revenue report under a revenue share, with the running total
// owed after it.
type report struct {
	stamp
	change int
	period events.Period
	base   events.Money
	owed   *decimal.Decimal // rate × base; nil when it cannot be computed
	total  *decimal.Decimal // running total, clamped at the cap; nil when it cannot be computed
	cur    string           // currency of the totals
	why    string           // why total is nil
}

// Anomaly is an amendment a lenient fold skipped because it does not apply
// to the history it is in. The ledger's own appends never produce one; a
// message written around the ledger, or history changed by a retraction, can.
type Anomaly struct {
	Amendment string `json:"amendment"`
	Problem   string `json:"problem"`
}

// fold applies records to a view. Every change to the view is logged so that
// an amendment that does not apply can be taken back whole (its changes apply
// together or not at all), and so that a check can try amendments and then
// leave the view as it was.
type fold struct {
	v    *view
	undo []func()
}

func newView(agreement string) *view {
	return &view{agreement: agreement, clauses: map[string]*line{}, declared: map[string]*stamp{}}
}

// fresh folds records (already in fold order) into a new view.
func foldAll(agreement string, recs []*events.Record) *view {
	f := fold{v: newView(agreement)}
	for _, r := range recs {
		f.add(r, nil)
	}
	f.commit()
	return f.v
}

// add applies r leniently: a record that does not apply is skipped and
// noted as an Anomaly. When p is non-nil it is strict instead: problems are
// recorded in p. Either way a record that does not apply changes nothing.
func (f *fold) add(r *events.Record, p *events.Problems) bool {
	mark := len(f.undo)
	var local events.Problems
	f.apply(r, &local)
	if local.Len() == 0 {
		set(f, &f.v.records, append(f.v.records, r))
		f.checkpoint()
		return true
	}
	f.rollback(mark)
	if p != nil {
		for _, e := range local.List() {
			p.Add(e.Path, "%s", e.Message)
		}
		return false
	}
	f.v.problems = append(f.v.problems, Anomaly{Amendment: r.ID.String(), Problem: local.List()[0].Error()})
	f.v.skipped = append(f.v.skipped, r)
	return false
}

// rollback undoes every change made since the undo log had length mark.
func (f *fold) rollback(mark int) {
	for i := len(f.undo) - 1; i >= mark; i-- {
		f.undo[i]()
	}
	f.undo = f.undo[:mark]
}

// commit forgets the undo log: what was applied stays.
func (f *fold) commit() { f.undo = f.undo[:0] }

// set assigns *dst = val and remembers how to undo it.
func set[T any](f *fold, dst *T, val T) {
	old := *dst
	f.undo = append(f.undo, func() { *dst = old })
	*dst = val
}

func (f *fold) apply(r *events.Record, p *events.Problems) {
	v := f.v
	at := r.Effective
	for i, c := range r.Changes {
		path := fmt.Sprintf("changes[%d]", i)
		if c.Op == events.Retract {
			continue // retractions act on which records are visible, not on valid time
		}
		if c.Op == events.Open {
			if v.opened != nil {
				p.Add(join(path, "op"), "the agreement is already open (opened %s by %s)", day(v.opened.at), who(v.opened.rec))
				return
			}
			set(f, &v.opened, &stamp{at, r})
			set(f, &v.title, c.Title)
			set(f, &v.parties, c.Parties)
			continue
		}
		if v.opened == nil {
			p.Add(join(path, "op"), "the agreement %s is not open at %s: its first amendment must open it", v.agreement, day(at))
			return
		}
		if v.closed != nil {
			p.Add(join(path, "op"), "the agreement was closed %s (%s); it takes no further changes", day(v.closed.at), who(v.closed.rec))
			return
		}
		switch c.Op {
		case events.Add:
			f.addClause(r, i, c.Clause, path, p)
		case events.Amend:
			l := f.live(c.ClauseID, join(path, "clause"), p)
			if l == nil {
				return
			}
			next := c.Set.Apply(l.current.clause, join(path, "set"), p)
			if p.Len() > 0 {
				return
			}
			if !f.checkParties(next, join(path, "set"), p) || !f.checkTerm(l, next, at, join(path, "set.term"), p) {
				return
			}
			f.closeVersion(l.current, at, r, events.Amend)
			f.newVersion(l, next, at, r)
		case events.End:
			l := f.live(c.ClauseID, join(path, "clause"), p)
			if l == nil {
				return
			}
			f.endLine(l, at, r, events.End, "")
		case events.Declare:
			if d := v.declared[c.Condition]; d != nil {
				p.Add(join(path, "condition"), "%s was already declared %s (%s)", c.Condition, day(d.at), who(d.rec))
				return
			}
			f.setDeclared(c.Condition, &stamp{at, r})
			for _, l := range v.order {
				if l.ended == nil && l.current.clause.Term != nil && l.current.clause.Term.EndsOn == c.Condition {
					f.endLine(l, at, r, events.Declare, c.Condition)
				}
			}
		case events.Report:
			f.report(r, i, c, path, p)
		case events.Fund:
			f.fund(r, c, path, p)
		case events.Close:
			set(f, &v.closed, &stamp{at, r})
			for _, l := range v.order {
				if l.ended == nil {
					f.endLine(l, at, r, events.Close, "")
				}
			}
		}
		if p.Len() > 0 {
			return
		}
	}
}

func (f *fold) setDeclared(cond string, s *stamp) {
	m := f.v.declared
	f.undo = append(f.undo, func() { delete(m, cond) })
	m[cond] = s
	set(f, &f.v.declSeq, append(f.v.declSeq, declaration{cond, s}))
}

// declaration is a condition and when it was declared.
type declaration struct {
	cond string
	*stamp
}

func (f *fold) addClause(r *events.Record, i int, c *events.Clause, path string, p *events.Problems) {
	v := f.v
	if old := v.clauses[c.ID]; old != nil {
		p.Add(join(path, "clause.id"), "clause %s already exists in %s (added %s by %s); clause ids are unique within an agreement", c.ID, v.agreement, day(old.added), who(old.versions()[0].by))
		return
	}
	l := &line{id: c.ID, kind: c.Kind, added: r.Effective, pos: len(v.order)}
	if !f.checkParties(c, join(path, "clause"), p) || !f.checkTerm(l, c, r.Effective, join(path, "clause.term"), p) {
		return
	}
	clauses := v.clauses
	f.undo = append(f.undo, func() { delete(clauses, c.ID) })
	clauses[c.ID] = l
	set(f, &v.order, append(v.order, l))
	f.newVersion(l, c, r.Effective, r)
}

// live returns the clause id names if it exists and has not ended.
func (f *fold) live(id, path string, p *events.Problems) *line {
	l := f.v.clauses[id]
	if l == nil {
		p.Add(path, "no clause %s in %s%s", id, f.v.agreement, f.suggest(id))
		return nil
	}
	if l.ended != nil {
		how := map[events.Op]string{events.End: "ended", events.Declare: "ended when " + l.cond + " was declared", events.Close: "ended when the agreement closed"}[l.endedBy]
		p.Add(path, "clause %s %s %s (%s)", id, how, day(l.ended.at), who(l.ended.rec))
		return nil
	}
	return l
}

func (f *fold) suggest(id string) string {
	if len(f.v.order) == 0 {
		return " (it has no clauses)"
	}
	var ids []string
	for _, l := range f.v.order {
		ids = append(ids, l.id)
	}
	if len(ids) > 12 {
		ids = append(ids[:12], "…")
	}
	return fmt.Sprintf(" (its clauses: %s)", joinComma(ids))
}

// checkParties checks that both parties of c are parties of the agreement.
func (f *fold) checkParties(c *events.Clause, path string, p *events.Problems) bool {
	grantor, holder := events.PartyFields(c.Kind)
	ok := true
	for _, pr := range []struct{ name, party string }{{grantor, c.Grantor}, {holder, c.Holder}} {
		if !slices.Contains(f.v.parties, pr.party) {
			p.Add(join(path, pr.name), "%s is not a party to %s (its parties: %s)", pr.party, f.v.agreement, joinComma(f.v.parties))
			ok = false
		}
	}
	return ok
}

// checkTerm checks a clause's term as it would be from at on.
func (f *fold) checkTerm(l *line, c *events.Clause, at time.Time, path string, p *events.Problems) bool {
	t := c.Term
	if t == nil {
		return true
	}
	start := t.Start
	if start.IsZero() {
		start = l.added
	}
	if !t.End.IsZero() && !t.End.After(start) {
		p.Add(join(path, "end"), "must be after the term's start (%s)", day(start))
		return false
	}
	if t.EndsOn != "" {
		if d := f.v.declared[t.EndsOn]; d != nil {
			p.Add(join(path, "ends_on"), "%s was already declared %s (%s), so the clause would never be in force", t.EndsOn, day(d.at), who(d.rec))
			return false
		}
	}
	return true
}

func (f *fold) newVersion(l *line, c *events.Clause, at time.Time, r *events.Record) {
	v := f.v
	nv := &version{line: l, clause: c, from: at, by: r, prev: l.current}
	set(f, &l.current, nv)
	set(f, &v.versions, append(v.versions, nv))
	if c.ExclusiveGrant() {
		set(f, &v.grants, append(v.grants, nv))
	}
}

func (f *fold) closeVersion(cur *version, at time.Time, r *events.Record, op events.Op) {
	set(f, &cur.until, at)
	set(f, &cur.closeBy, r)
	set(f, &cur.closeOp, op)
}

func (f *fold) endLine(l *line, at time.Time, r *events.Record, op events.Op, cond string) {
	f.closeVersion(l.current, at, r, op)
	set(f, &l.ended, &stamp{at, r})
	set(f, &l.endedBy, op)
	set(f, &l.cond, cond)
}

func (f *fold) report(r *events.Record, i int, c events.Change, path string, p *events.Problems) {
	l := f.v.clauses[c.ClauseID]
	switch {
	case l == nil:
		p.Add(join(path, "clause"), "no clause %s in %s%s", c.ClauseID, f.v.agreement, f.suggest(c.ClauseID))
		return
	case l.kind != events.RevenueShare:
		p.Add(join(path, "clause"), "clause %s is %s, not a revenue share", c.ClauseID, l.kind)
		return
	}
	cl := l.current.clause
	rep := &report{stamp: stamp{r.Effective, r}, change: i, period: c.Period, base: *c.Base, cur: c.Base.Currency}
	var prev *report
	if n := len(l.reports); n > 0 {
		prev = l.reports[n-1]
	}
	if prev != nil && prev.cur != c.Base.Currency {
		p.Add(join(path, "base.currency"), "is %s but earlier reports under %s are in %s", c.Base.Currency, c.ClauseID, prev.cur)
		return
	}
	if cl.Cap != nil && cl.Cap.Currency != "" && cl.Cap.Currency != c.Base.Currency { // an undisclosed cap may still name its currency
		p.Add(join(path, "base.currency"), "is %s but the cap of %s is in %s", c.Base.Currency, c.ClauseID, cl.Cap.Currency)
		return
	}
	switch {
	case prev != nil && prev.total == nil:
		rep.why = prev.why
	case cl.Rate.Undisclosed:
		rep.why = "the rate of " + c.ClauseID + " is undisclosed"
	case cl.Cap != nil && cl.Cap.Undisclosed:
		owed := cl.Rate.Value.Mul(c.Base.Amount)
		rep.owed = &owed
		rep.why = "the cap of " + c.ClauseID + " is undisclosed, so the running total cannot be clamped to it"
	default:
		owed := cl.Rate.Value.Mul(c.Base.Amount)
		rep.owed = &owed
		total := owed
		if prev != nil {
			total = prev.total.Add(owed)
		}
		if cl.Cap != nil && total.GreaterThan(cl.Cap.Amount) {
			total = cl.Cap.Amount
			if prev != nil && prev.total.GreaterThan(total) {
				total = *prev.total // a lowered cap does not claw back what was owed
			}
		}
		rep.total = &total
	}
	set(f, &l.reports, append(l.reports, rep))
}

func (f *fold) fund(r *events.Record, c events.Change, path string, p *events.Problems) {
	l := f.v.clauses[c.ClauseID]
	switch {
	case l == nil:
		p.Add(join(path, "clause"), "no clause %s in %s%s", c.ClauseID, f.v.agreement, f.suggest(c.ClauseID))
		return
	case l.kind != events.Investment:
		p.Add(join(path, "clause"), "clause %s is %s, not an investment", c.ClauseID, l.kind)
		return
	}
	if !slices.ContainsFunc(l.current.clause.Tranches, func(t events.Tranche) bool { return t.ID == c.Tranche }) {
		var ids []string
		for _, t := range l.current.clause.Tranches {
			ids = append(ids, t.ID)
		}
		p.Add(join(path, "tranche"), "investment %s has no tranche %s (its tranches: %s)", c.ClauseID, c.Tranche, joinComma(ids))
		return
	}
	if s := l.funded[c.Tranche]; s != nil {
		p.Add(join(path, "tranche"), "tranche %s of %s was already funded %s (%s)", c.Tranche, c.ClauseID, day(s.at), who(s.rec))
		return
	}
	if l.funded == nil {
		set(f, &l.funded, map[string]*stamp{})
	}
	funded := l.funded
	f.undo = append(f.undo, func() { delete(funded, c.Tranche) })
	funded[c.Tranche] = &stamp{r.Effective, r}
	set(f, &l.fundOrd, append(l.fundOrd, c.Tranche))
}

// versions returns the versions of a clause, first to last.
func (l *line) versions() []*version {
	var out []*version
	for v := l.current; v != nil; v = v.prev {
		out = append(out, v)
	}
	slices.Reverse(out)
	return out
}

// fundedAt returns when tranche id was paid in as of t, or nil.
func (l *line) fundedAt(id string, t time.Time) *stamp {
	if s := l.funded[id]; s != nil && !s.at.After(t) {
		return s
	}
	return nil
}

// reportsBy returns how many reports are effective at or before t.
func (l *line) reportsBy(t time.Time) int {
	i, _ := slices.BinarySearchFunc(l.reports, t, func(r *report, t time.Time) int {
		if r.at.After(t) {
			return 1
		}
		return -1
	})
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
