package projections

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/shopspring/decimal"
)

// Timeline is an agreement's life drawn as bars: for each clause the
// intervals of valid time it was in force, with the values it had and the
// amendments at each edge.
type Timeline struct {
	Agreement  string       `json:"agreement"`
	KnownAt    time.Time    `json:"-"`
	Title      string       `json:"title"`
	Parties    []string     `json:"parties"`
	Opened     time.Time    `json:"-"`
	Closed     time.Time    `json:"-"`
	Clauses    []ClauseLife `json:"clauses"`
	Amendments []Marker     `json:"amendments"`
	Conditions []Declared   `json:"conditions"`
	Anomalies  []Anomaly    `json:"anomalies,omitempty"`
	Span       [2]time.Time `json:"-"` // earliest and latest time worth drawing
	Damaged    *Damage      `json:"damaged,omitempty"`
	// KnownAtAmendment is the amendment KnownAt was given as, if it was
	// (see EchoKnownAt).
	KnownAtAmendment *AmendmentRef `json:"known_at_amendment,omitempty"`
}

// ClauseLife is one clause's bars.
type ClauseLife struct {
	ID       string      `json:"id"`
	Kind     events.Kind `json:"kind"`
	Segments []Segment   `json:"segments"`
	Ended    *Edge       `json:"ended"` // what ended the clause, if something did
}

// Segment is an interval in which a clause was in force with the same values.
type Segment struct {
	From   time.Time      `json:"-"`
	Until  time.Time      `json:"-"` // zero: open-ended
	Fields map[string]any `json:"fields"`
	Opened Edge           `json:"opened"` // the amendment that gave it these values
	Closed *Edge          `json:"closed"` // what stopped it: an amendment, or the term's end
}

// Edge is what happened at the start or end of a segment.
type Edge struct {
	Amendment string    `json:"amendment,omitempty"`
	Op        string    `json:"op"` // add, amend, end, declare, close, or "term" for a term's own end
	At        time.Time `json:"-"`
}

// Marker is an amendment on the time axis.
type Marker struct {
	ID        string    `json:"id"`
	Version   uint64    `json:"version"`
	Effective time.Time `json:"-"`
	Recorded  time.Time `json:"-"`
	Summary   string    `json:"summary,omitempty"`
	Ops       []string  `json:"ops"`
	Retracted bool      `json:"retracted,omitempty"`
}

func (e Edge) MarshalJSON() ([]byte, error) {
	type plain Edge
	return json.Marshal(struct {
		plain
		At string `json:"at"`
	}{plain(e), events.FormatTime(e.At)})
}

func (s Segment) MarshalJSON() ([]byte, error) {
	type plain Segment
	return json.Marshal(struct {
		plain
		From  string `json:"from"`
		Until any    `json:"until"`
	}{plain(s), events.FormatTime(s.From), timeOrNull(s.Until)})
}

func (m Marker) MarshalJSON() ([]byte, error) {
	type plain Marker
	return json.Marshal(struct {
		plain
		Effective string `json:"effective"`
		Recorded  string `json:"recorded"`
	}{plain(m), events.FormatTime(m.Effective), m.Recorded.UTC().Format(time.RFC3339Nano)})
}

func (t *Timeline) MarshalJSON() ([]byte, error) {
	type plain Timeline
	return json.Marshal(struct {
		*plain
		KnownAt any `json:"known_at"`
		Opened  any `json:"opened"`
		Closed  any `json:"closed"`
		From    any `json:"from"`
		Until   any `json:"until"`
	}{(*plain)(t), timeOrNull(t.KnownAt), timeOrNull(t.Opened), timeOrNull(t.Closed), timeOrNull(t.Span[0]), timeOrNull(t.Span[1])})
}

// Timeline returns the bars of an agreement as known at knownAt.
func (ix *Index) Timeline(agreement string, knownAt time.Time) (*Timeline, error) {
	defer ix.read()()
	cut := ix.cut(knownAt)
	a, err := ix.find(agreement, cut, knownAt)
	if err != nil {
		return nil, err
	}
	v := ix.fullViewAt(a, cut)
	tl := &Timeline{Agreement: agreement, KnownAt: knownAt, Title: v.title, Parties: nonNil(v.parties),
		Clauses: []ClauseLife{}, Conditions: append([]Declared{}, v.notes.decl...), Anomalies: slices.Clone(v.notes.problems)}
	if v.opened != nil {
		tl.Opened = v.opened.Effective
	}
	if v.closed != nil {
		tl.Closed = v.closed.Effective
	}
	for _, l := range v.order {
		life := ClauseLife{ID: l.id(), Kind: l.kind(), Segments: []Segment{}}
		for _, x := range l.versions() {
			lo, hi, ok := x.interval()
			if !ok {
				continue
			}
			seg := Segment{From: lo, Until: hi, Fields: x.clause.Fields(),
				Opened: Edge{Amendment: x.by.ID.String(), Op: opOf(x), At: x.fromT()}}
			switch {
			case x.closeBy != nil && (x.end().IsZero() || !x.end().Before(x.until())):
				seg.Closed = &Edge{Amendment: x.closeBy.ID.String(), Op: string(x.closeOp.op()), At: x.until()}
			case !x.end().IsZero():
				seg.Closed = &Edge{Op: "term", At: x.end()}
			}
			life.Segments = append(life.Segments, seg)
		}
		if l.endRec != nil {
			life.Ended = &Edge{Amendment: l.endRec.ID.String(), Op: string(l.endOp.op()), At: l.endRec.Effective}
		}
		tl.Clauses = append(tl.Clauses, life)
	}
	retractedAt := func(r *events.Record) bool {
		by := a.retracted[r.ID]
		return by != nil && by.Seq <= cut
	}
	for _, r := range a.records {
		if r.Seq > cut {
			break
		}
		m := Marker{ID: r.ID.String(), Version: r.Version, Effective: r.Effective, Recorded: r.Recorded, Summary: r.Summary, Retracted: retractedAt(r)}
		for _, c := range r.Changes {
			m.Ops = append(m.Ops, string(c.Op))
		}
		tl.Amendments = append(tl.Amendments, m)
	}
	sort.SliceStable(tl.Amendments, func(i, j int) bool { return tl.Amendments[i].Effective.Before(tl.Amendments[j].Effective) })
	tl.Span = span(tl)
	return tl, nil
}

func opOf(x *version) string {
	if x.prev == nil {
		return string(events.Add)
	}
	return string(events.Amend)
}

// span is the range of valid time a drawing of tl should cover.
func span(tl *Timeline) [2]time.Time {
	var lo, hi time.Time
	see := func(t time.Time) {
		if t.IsZero() {
			return
		}
		if lo.IsZero() || t.Before(lo) {
			lo = t
		}
		if hi.IsZero() || t.After(hi) {
			hi = t
		}
	}
	see(tl.Opened)
	see(tl.Closed)
	for _, m := range tl.Amendments {
		see(m.Effective)
	}
	for _, c := range tl.Clauses {
		for _, s := range c.Segments {
			see(s.From)
			see(s.Until)
		}
	}
	return [2]time.Time{lo, hi}
}

// Diff is what changed in an agreement between two valid times: its
// clauses, and the money under them.
type Diff struct {
	Agreement  string         `json:"agreement"`
	From       time.Time      `json:"-"`
	To         time.Time      `json:"-"`
	KnownAt    time.Time      `json:"-"`
	StatusFrom string         `json:"status_from"`
	StatusTo   string         `json:"status_to"`
	Added      []*ClauseState `json:"added"`
	Ended      []*ClauseState `json:"ended"`
	Changed    []ClauseChange `json:"changed"`
	// The revenue shares and investments in force at the later time whose
	// money moved: reported, accrued, capped, funded.
	Accruals []AccrualChange `json:"accruals"`
	Funding  []FundingChange `json:"funding"`
	Damaged  *Damage         `json:"damaged,omitempty"`
	// KnownAtAmendment is the amendment KnownAt was given as, if it was
	// (see EchoKnownAt).
	KnownAtAmendment *AmendmentRef `json:"known_at_amendment,omitempty"`
}

// AccrualChange is what moved in a revenue share between the two states:
// the reports effective in the window (previewing amendments: the reports
// they add), its accrued amount and what remains under its cap in both,
// and the amendment with which it reached its cap, when that is in the
// window (or is one previewed).
type AccrualChange struct {
	ID           string      `json:"id"`
	Reports      []Reported  `json:"reports"`
	Accrued      MoneyChange `json:"accrued"`
	CapRemaining MoneyChange `json:"cap_remaining"`
	CapReached   *CapReached `json:"cap_reached"`
}

// Reported is a revenue report: the amendment that made it ("" when not
// recorded: a dry run), when it took effect, its period and its revenue.
type Reported struct {
	Amendment string
	At        time.Time
	Period    events.Period
	Base      events.Money
}

// MoneyChange is an amount in the earlier state and in the later one (nil:
// not in force then, or not computable), and the change between them,
// To − From in their currency, when both are disclosed amounts of one
// currency. (Money is never negative: the change is a signed decimal.)
type MoneyChange struct {
	From   *events.Money    `json:"from"`
	To     *events.Money    `json:"to"`
	Change *decimal.Decimal `json:"change"`
}

// moved reports whether the amount changed by something other than zero.
func (m MoneyChange) moved() bool { return m.Change != nil && !m.Change.IsZero() }

// FundingChange is what moved in an investment between the two states: the
// tranches funded in the later one and not in the earlier, and the funded
// totals.
type FundingChange struct {
	ID       string         `json:"id"`
	Tranches []TrancheState `json:"tranches"`
	Funded   MoneyChange    `json:"funded"`
}

// MarshalJSON writes {"amendment","at","period","base"}; an amendment not
// recorded is null.
func (r Reported) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"amendment": nonEmptyOrNull(r.Amendment), "at": events.FormatTime(r.At), "period": r.Period, "base": r.Base})
}

// ClauseChange is a clause in force at both times whose fields differ.
type ClauseChange struct {
	ID     string        `json:"id"`
	Kind   events.Kind   `json:"kind"`
	Fields []FieldChange `json:"fields"`
}

// FieldChange is one field's value at the two times; nil means absent.
type FieldChange struct {
	Field string `json:"field"`
	From  any    `json:"from"`
	To    any    `json:"to"`
}

func (d *Diff) MarshalJSON() ([]byte, error) {
	type plain Diff
	return json.Marshal(struct {
		*plain
		From    string `json:"from"`
		To      string `json:"to"`
		KnownAt any    `json:"known_at"`
	}{(*plain)(d), events.FormatTime(d.From), events.FormatTime(d.To), timeOrNull(d.KnownAt)})
}

// Empty reports whether nothing changed.
func (d *Diff) Empty() bool {
	return d.StatusFrom == d.StatusTo && len(d.Added) == 0 && len(d.Ended) == 0 && len(d.Changed) == 0 &&
		len(d.Accruals) == 0 && len(d.Funding) == 0
}

// Diff returns what changed in agreement between valid times from and to, as
// known at knownAt.
func (ix *Index) Diff(agreement string, from, to, knownAt time.Time) (*Diff, error) {
	defer ix.read()()
	a, err := ix.state(agreement, from, knownAt)
	if err != nil {
		return nil, err
	}
	b, err := ix.state(agreement, to, knownAt)
	if err != nil {
		return nil, err
	}
	d := diffStates(a, b)
	d.KnownAt = knownAt
	return d, nil
}

// diffStates compares two states of one agreement: of one history at two
// times, or at one time before and after amendments (a preview). b's
// accruals must still share the view they were read from, and a's too or
// be pinned (see State.pin).
func diffStates(a, b *State) *Diff {
	d := &Diff{Agreement: a.Agreement, From: a.At, To: b.At, StatusFrom: a.Status, StatusTo: b.Status,
		Added: []*ClauseState{}, Ended: []*ClauseState{}, Changed: []ClauseChange{}, Accruals: []AccrualChange{}, Funding: []FundingChange{}}
	inA := make(map[string]*ClauseState, len(a.Clauses))
	for _, c := range a.Clauses {
		inA[c.ID] = c
	}
	inB := make(map[string]bool, len(b.Clauses))
	for _, c := range b.Clauses {
		inB[c.ID] = true
		old := inA[c.ID]
		if ac, ok := accrualChange(old, c, a.At, b.At); ok {
			d.Accruals = append(d.Accruals, ac)
		}
		if fc, ok := fundingChange(old, c); ok {
			d.Funding = append(d.Funding, fc)
		}
		if old == nil {
			d.Added = append(d.Added, c)
			continue
		}
		if fs := fieldChanges(old.Clause, c.Clause); len(fs) > 0 {
			d.Changed = append(d.Changed, ClauseChange{ID: c.ID, Kind: c.Kind, Fields: fs})
		}
	}
	for _, c := range a.Clauses {
		if !inB[c.ID] {
			d.Ended = append(d.Ended, c)
		}
	}
	return d
}

// accrualChange is what moved in revenue share b, at to, since old, at from
// (nil: not in force then); ok is false when nothing did: no report, no cap
// reached, and no amount that changed by a computable amount other than
// zero (a cap made undisclosed is a change of the clause's fields, not of
// money).
func accrualChange(old, b *ClauseState, from, to time.Time) (ac AccrualChange, ok bool) {
	if b.Accrual == nil {
		return ac, false
	}
	var was Accrual
	now := b.Accrual.reports
	if old != nil && old.Accrual != nil {
		was = *old.Accrual
	}
	prior := was.reports
	if !from.Equal(to) {
		// Two times of one history: the reports new at to are those
		// effective after from (a share not in force at from counts none
		// then), and none when to is the earlier.
		k, _ := slices.BinarySearchFunc(now, from, func(r report, t time.Time) int {
			if r.rec.Effective.After(t) {
				return 1
			}
			return -1
		})
		now, prior = now[k:], nil
		if to.Before(from) {
			now = nil
		}
	}
	ac = AccrualChange{ID: b.ID, Reports: newReports(b.ID, prior, now),
		Accrued: moneyChange(was.Accrued, b.Accrual.Accrued), CapRemaining: moneyChange(was.CapRemaining, b.Accrual.CapRemaining)}
	if r := b.Accrual.CappedAt; r != nil && (from.Equal(to) && !sameCap(was.CappedAt, r) || !from.Equal(to) && r.At.After(from)) {
		ac.CapReached = r // in the window, or by the amendments previewed
	}
	return ac, len(ac.Reports) > 0 || ac.CapReached != nil || ac.Accrued.moved() || ac.CapRemaining.moved()
}

// newReports lists the reports under clause id of now that were not among
// those of was.
func newReports(id string, was, now []report) []Reported {
	var fresh []int // indexes into now
	if len(was) == 0 {
		for i := range now {
			fresh = append(fresh, i)
		}
	} else {
		seen := make(map[*events.Record]int, len(was))
		for _, r := range was {
			seen[r.rec]++
		}
		for i, r := range now {
			if seen[r.rec] > 0 {
				seen[r.rec]--
				continue
			}
			fresh = append(fresh, i)
		}
	}
	out := make([]Reported, 0, len(fresh))
	for _, i := range fresh {
		r := now[i].rec
		// An amendment's reports under one clause are consecutive, in the
		// order of its changes: this is its k-th under the clause.
		k := 0
		for j := i - 1; j >= 0 && now[j].rec == r; j-- {
			k++
		}
		rep := Reported{Amendment: idString(r.ID), At: r.Effective}
		for _, c := range r.Changes {
			if c.Op != events.Report || c.ClauseID != id {
				continue
			}
			if k == 0 {
				rep.Period, rep.Base = c.Of().Period, *c.Of().Base
				break
			}
			k--
		}
		out = append(out, rep)
	}
	return out
}

// fieldChanges compares two clauses field by field, through their JSON form
// so that equal values written differently compare equal.
func fieldChanges(a, b *events.Clause) []FieldChange {
	fa, fb := jsonFields(a), jsonFields(b)
	var names []string
	for n := range fa {
		names = append(names, n)
	}
	for n := range fb {
		if _, ok := fa[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var out []FieldChange
	for _, n := range names {
		if !reflect.DeepEqual(fa[n], fb[n]) {
			out = append(out, FieldChange{Field: n, From: fa[n], To: fb[n]})
		}
	}
	return out
}

func jsonFields(c *events.Clause) map[string]any {
	b, _ := json.Marshal(c.Fields())
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// fundingChange is what moved in investment b since old (nil: not in force
// then); ok is false when nothing did: no tranche funded, and the funded
// total the same.
func fundingChange(old, b *ClauseState) (fc FundingChange, ok bool) {
	if b.Kind != events.Investment {
		return fc, false
	}
	fc = FundingChange{ID: b.ID, Tranches: []TrancheState{}}
	wasFunded := map[string]bool{}
	var was *events.Money
	if old != nil && old.Kind == events.Investment {
		for _, t := range old.Tranches {
			wasFunded[t.ID] = !t.Funded.IsZero()
		}
		_, was = old.Totals()
	}
	for _, t := range b.Tranches {
		if !t.Funded.IsZero() && !wasFunded[t.ID] {
			fc.Tranches = append(fc.Tranches, t)
		}
	}
	_, now := b.Totals()
	fc.Funded = moneyChange(was, now)
	return fc, len(fc.Tranches) > 0 || fc.Funded.moved()
}

// moneyChange is from and to, and the change between them when it can be
// computed.
func moneyChange(from, to *events.Money) MoneyChange {
	mc := MoneyChange{From: from, To: to}
	if from != nil && to != nil && !from.Undisclosed && !to.Undisclosed && from.Currency == to.Currency {
		d := to.Amount.Sub(from.Amount)
		mc.Change = &d
	}
	return mc
}

// sameCap reports whether a and b name the same reaching of a cap.
func sameCap(a, b *CapReached) bool {
	return a != nil && b != nil && a.Amendment == b.Amendment && a.At.Equal(b.At) && a.Op == b.Op
}
