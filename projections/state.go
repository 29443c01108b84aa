package projections

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/oklog/ulid/v2"
	"github.com/shopspring/decimal"
)

// State is what an agreement said at valid time At, as known at transaction
// time KnownAt (zero: everything recorded).
type State struct {
	Agreement  string
	At         time.Time
	KnownAt    time.Time
	Version    uint64 // the agreement's version as known at KnownAt
	Title      string
	Status     string // "not_open", "open" or "closed"
	Opened     time.Time
	Closed     time.Time
	Parties    []string
	Conditions []Declared // conditions declared at or before At
	Clauses    []*ClauseState
	// Damaged, when set, says the answer comes from the intact prefix of a
	// damaged history (see Damage).
	Damaged *Damage
	// KnownAtAmendment is the amendment KnownAt was given as, if it was
	// (see EchoKnownAt).
	KnownAtAmendment *AmendmentRef
}

// Declared is a condition that has been declared.
type Declared struct {
	Condition string    `json:"condition"`
	At        time.Time `json:"-"`
	Amendment string    `json:"amendment"`
}

// MarshalJSON writes the declaration with its time as a date where it can.
func (d Declared) MarshalJSON() ([]byte, error) {
	type plain Declared
	return json.Marshal(struct {
		plain
		At string `json:"at"`
	}{plain(d), events.FormatTime(d.At)})
}

// ClauseState is one clause in force, with the values it had at the state's time.
type ClauseState struct {
	*events.Clause
	Since      time.Time   // when its current values took effect
	Start      time.Time   // when its term started
	End        time.Time   // when its term ends; zero: open-ended
	Amendments []ulid.ULID // ids of the amendments that made its current values, oldest first
	Accrual    *Accrual    // revenue shares
	Tranches   []TrancheState
}

// Accrual is what a revenue share has accrued. A nil amount cannot be
// computed (or nothing was reported): Why says which and why.
type Accrual struct {
	Accrued      *events.Money
	CapRemaining *events.Money // undisclosed when the cap is
	// Uncapped and CappedAt are kept for a share with a cap only (see
	// HasCap): what the cap cost.
	//
	// Uncapped is what the reports would have accrued without the cap: the
	// sum of each report's rate × base, at the rate in force when it took
	// effect. Nil when it cannot be computed, for the reason Why gives for
	// accrued, or one of its own.
	Uncapped *events.Money
	// CappedAt is the amendment with which accrued reached the cap, while it
	// stands there (cap_remaining is zero); nil while it does not, or
	// cannot be known to.
	CappedAt *CapReached
	Reports  int // reports effective so far
	Why      string
	// The reports effective so far, shared with the view they were read
	// from: valid while it is not changed, or after pin.
	reports []report
}

// CapReached is the amendment with which a revenue share's accrued amount
// reached its cap: normally a report; an add or amend when it set the cap
// at or below what had accrued.
type CapReached struct {
	Amendment string    // "" for an amendment not recorded (a dry run)
	At        time.Time // when it took effect
	Op        events.Op // report, add or amend
}

// MarshalJSON writes {"amendment","at","op"}; an amendment not recorded is null.
func (c *CapReached) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"amendment": nonEmptyOrNull(c.Amendment), "at": events.FormatTime(c.At), "op": c.Op})
}

// TrancheState is an investment tranche and whether it was paid in.
type TrancheState struct {
	events.Tranche
	Funded time.Time // zero: not yet
}

// Group returns the clauses of kind k.
func (s *State) Group(k events.Kind) []*ClauseState {
	var out []*ClauseState
	for _, c := range s.Clauses {
		if c.Kind == k {
			out = append(out, c)
		}
	}
	return out
}

// Clause returns the clause with id in force, or nil.
func (s *State) Clause(id string) *ClauseState {
	for _, c := range s.Clauses {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// MarshalJSON writes the state document of the CLI and HTTP API.
func (s *State) MarshalJSON() ([]byte, error) {
	m := map[string]any{
		"agreement":  s.Agreement,
		"at":         events.FormatTime(s.At),
		"known_at":   timeOrNull(s.KnownAt),
		"version":    s.Version,
		"title":      s.Title,
		"status":     s.Status,
		"opened":     timeOrNull(s.Opened),
		"closed":     timeOrNull(s.Closed),
		"parties":    nonNil(s.Parties),
		"conditions": nonNil(s.Conditions),
	}
	for _, k := range events.Kinds {
		m[events.Spec(k).Group] = nonNil(s.Group(k))
	}
	if s.KnownAtAmendment != nil {
		m["known_at_amendment"] = s.KnownAtAmendment
	}
	if s.Damaged != nil {
		m["damaged"] = s.Damaged
	}
	return json.Marshal(m)
}

// HasCap reports whether the clause is a revenue share with a cap, disclosed
// or not: one whose state says what the cap cost (uncapped, capped_at).
func (c *ClauseState) HasCap() bool { return c.Accrual != nil && c.Cap != nil }

// MarshalJSON writes the clause's input fields under their input names, and
// since, start, end and amendments; a revenue share adds accrued,
// cap_remaining, reports and why, and with a cap uncapped and capped_at; an
// investment adds funding to its tranches.
func (c *ClauseState) MarshalJSON() ([]byte, error) {
	m := c.Fields()
	m["id"] = c.ID
	m["kind"] = c.Kind
	m["since"] = events.FormatTime(c.Since)
	m["start"] = events.FormatTime(c.Start)
	m["end"] = timeOrNull(c.End)
	m["amendments"] = c.Amendments
	if a := c.Accrual; a != nil {
		m["accrued"] = a.Accrued
		m["cap_remaining"] = a.CapRemaining
		m["reports"] = a.Reports
		if a.Why != "" {
			m["why"] = a.Why
		}
		if c.HasCap() {
			m["uncapped"] = a.Uncapped
			m["capped_at"] = a.CappedAt
		}
	}
	if c.Tranches != nil {
		var ts []map[string]any
		for _, t := range c.Tranches {
			ts = append(ts, t.doc())
		}
		m["tranches"] = ts
		m["committed"], m["funded"] = c.Totals()
	}
	return json.Marshal(m)
}

// doc is the tranche's document: {"id","amount","condition","funded"}.
func (t TrancheState) doc() map[string]any {
	return map[string]any{"id": t.ID, "amount": t.Amount, "condition": nonEmptyOrNull(t.Condition), "funded": timeOrNull(t.Funded)}
}

// MarshalJSON writes the tranche as a state's investment lists it.
func (t TrancheState) MarshalJSON() ([]byte, error) { return json.Marshal(t.doc()) }

// Totals returns the sum of an investment's tranches and of those funded; a
// total is undisclosed when a tranche in it is, and nil across currencies.
func (c *ClauseState) Totals() (committed, funded *events.Money) {
	sum := func(keep func(TrancheState) bool) *events.Money {
		var total *events.Money
		for _, t := range c.Tranches {
			if !keep(t) {
				continue
			}
			switch {
			case total == nil:
				m := t.Amount
				total = &m
			case t.Amount.Currency != "" && total.Currency != "" && t.Amount.Currency != total.Currency:
				return nil
			case t.Amount.Undisclosed || total.Undisclosed:
				total = &events.Money{Undisclosed: true, Currency: total.Currency}
			default:
				total = &events.Money{Amount: total.Amount.Add(t.Amount.Amount), Currency: total.Currency}
			}
		}
		if total == nil && len(c.Tranches) > 0 {
			cur := c.Tranches[0].Amount.Currency
			return &events.Money{Amount: decimal.Zero, Currency: cur}
		}
		return total
	}
	return sum(func(TrancheState) bool { return true }), sum(func(t TrancheState) bool { return !t.Funded.IsZero() })
}

func timeOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return events.FormatTime(t)
}

func nonEmptyOrNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// stateAt builds the state of the view at t, as folded up to bound (nil:
// everything): the work is proportional to the clauses in force.
func (v *view) stateAt(t time.Time, bound *events.Record) *State {
	s := &State{Agreement: v.agreement, At: t, Status: v.status(t, bound)}
	if o := v.openedBefore(bound); o != nil {
		s.Title, s.Parties, s.Opened = v.title, v.parties, o.Effective
	}
	if c := v.closedBefore(bound); c != nil && !c.Effective.After(t) {
		s.Closed = c.Effective // a close effective after t is not part of the state at t
	}
	s.Conditions = v.declaredBy(t, bound)
	xs := v.inForce(t, bound)
	if len(xs) == 0 {
		return s
	}
	// One allocation for the clauses, and one for the ids of those of one
	// version, which the view does not keep (see line.ids).
	css := make([]ClauseState, len(xs))
	s.Clauses = make([]*ClauseState, len(xs))
	n := 0
	for _, x := range xs {
		if x.line.ids == nil {
			n++
		}
	}
	ids := make([]ulid.ULID, n)
	for i, x := range xs {
		x.fill(&css[i], t, bound)
		if x.line.ids == nil {
			css[i].Amendments, ids = ids[:1:1], ids[1:]
			css[i].Amendments[0] = x.by.ID
		}
		s.Clauses[i] = &css[i]
	}
	return s
}

// declaredBy returns the conditions declared at or before t, folded up to
// bound, by time then condition. Without a bound it shares the view's slice:
// the view never writes over what it has handed out.
func (v *view) declaredBy(t time.Time, bound *events.Record) []Declared {
	n, _ := slices.BinarySearchFunc(v.notes.decl, t, func(d Declared, t time.Time) int {
		if d.At.After(t) {
			return 1
		}
		return -1
	})
	if n == 0 {
		return nil
	}
	out := v.notes.decl[:n:n]
	if bound == nil || t.Before(bound.Effective) {
		return out
	}
	for i := range n {
		if !before(v.notes.declBy[i], bound) {
			var keep []Declared
			for j, d := range out {
				if before(v.notes.declBy[j], bound) {
					keep = append(keep, d)
				}
			}
			return keep
		}
	}
	return out
}

// fill makes cs the version as a clause in force at t, folded up to bound.
func (x *version) fill(cs *ClauseState, t time.Time, bound *events.Record) {
	l := x.line
	*cs = ClauseState{Clause: x.clause, Since: x.fromT(), Start: l.addedT()}
	if l.ids != nil {
		cs.Amendments = l.ids[: x.depth+1 : x.depth+1]
	}
	if x.flags&hasTerm != 0 {
		cs.Start, cs.End = x.start(), x.end()
	}
	switch l.kc {
	case kindRevenueShare:
		a := l.accrual(x.clause, t, bound)
		if c := x.clause.Cap; c != nil && !c.Undisclosed && a.CapRemaining != nil && !a.CapRemaining.Amount.IsPositive() {
			a.CappedAt = l.cappedAt(x, a.Reports)
		}
		cs.Accrual = a
	case kindInvestment:
		cs.Tranches = make([]TrancheState, len(x.clause.Tranches))
		for i, tr := range x.clause.Tranches {
			cs.Tranches[i] = TrancheState{Tranche: tr}
			if r := l.fundedBy(tr.ID); r != nil && !r.Effective.After(t) && before(r, bound) {
				cs.Tranches[i].Funded = r.Effective
			}
		}
	}
}

// accrual is what the revenue share has accrued by t, under clause values c.
func (l *line) accrual(c *events.Clause, t time.Time, bound *events.Record) *Accrual {
	// One allocation for the accrual and its amounts.
	box := &struct {
		a                          Accrual
		accrued, capLeft, uncapped events.Money
	}{}
	a := &box.a
	var whyAccrued, whyCap, whyUncapped string
	var rep *report
	if a.Reports = l.reportsBy(t, bound); a.Reports > 0 {
		rep = &l.more.reports[a.Reports-1]
	}
	a.reports = l.more.reports[:a.Reports:a.Reports]
	cur := ""
	if c.Cap != nil {
		cur = c.Cap.Currency
	}
	switch {
	case rep == nil && cur != "" && !c.Rate.Undisclosed:
		box.accrued = events.Money{Amount: decimal.Zero, Currency: cur}
		a.Accrued = &box.accrued
	case rep == nil && c.Rate.Undisclosed:
		whyAccrued = "accrued: no revenue has been reported, and the rate is undisclosed"
	case rep == nil:
		whyAccrued = "accrued: no revenue has been reported"
	case rep.why != "":
		whyAccrued = "accrued: " + rep.why
	default:
		box.accrued = events.Money{Amount: rep.total, Currency: rep.cur}
		a.Accrued = &box.accrued
	}
	switch {
	case c.Cap == nil:
		whyCap = "cap_remaining: the share has no cap"
	case c.Cap.Undisclosed:
		box.capLeft = *c.Cap
		a.CapRemaining = &box.capLeft
		whyCap = "cap_remaining: the cap is undisclosed"
	case a.Accrued == nil:
		whyCap = "cap_remaining: the accrued amount is not known"
	default:
		rem := c.Cap.Amount.Sub(a.Accrued.Amount)
		if rem.IsNegative() {
			rem = decimal.Zero
		}
		box.capLeft = events.Money{Amount: rem, Currency: c.Cap.Currency}
		a.CapRemaining = &box.capLeft
	}
	if c.Cap != nil {
		switch {
		case rep == nil: // nothing reported: the same as accrued, for the same reason
			a.Uncapped = a.Accrued
		case rep.rateUnknown:
			if why := "the rate of " + c.ID + " is undisclosed"; why != rep.why {
				whyUncapped = "uncapped: " + why
			}
		default:
			box.uncapped = events.Money{Amount: rep.uncapped(), Currency: rep.cur}
			a.Uncapped = &box.uncapped
		}
	}
	for _, w := range [...]string{whyAccrued, whyCap, whyUncapped} {
		switch {
		case w == "":
		case a.Why == "":
			a.Why = w
		default:
			a.Why += "; " + w
		}
	}
	return a
}

// cappedAt returns the amendment with which the share's accrued amount
// reached its cap and has stood there since, under version x after its
// first n reports (as a state shows it): the last amendment (a report, or
// the add or an amend that set its values) before which it was not at its
// cap. It walks the clause's history back from there, so it is asked
// only of a share at its cap.
func (l *line) cappedAt(x *version, n int) *CapReached {
	rs := l.more.reports[:n]
	for {
		// The last amendment that did something to the clause, undone.
		var r *events.Record
		switch {
		case x == nil && n == 0:
			return nil // not at its cap: the caller asked amiss
		case x == nil:
			r = rs[n-1].rec
		case n == 0 || foldOrder(rs[n-1].rec, x.by) < 0:
			r = x.by
		default:
			r = rs[n-1].rec
		}
		op := events.Op("")
		for ; x != nil && x.by == r; x = x.prev {
			op = events.Amend
			if x.prev == nil {
				op = events.Add
			}
		}
		for ; n > 0 && rs[n-1].rec == r; n-- {
			op = events.Report
		}
		if !l.atCap(x, n) {
			return &CapReached{Amendment: idString(r.ID), At: r.Effective, Op: op}
		}
	}
}

// atCap reports whether the share, under version x, stands at its cap after
// its first n reports, as accrual computes it.
func (l *line) atCap(x *version, n int) bool {
	if x == nil || x.clause.Cap == nil || x.clause.Cap.Undisclosed {
		return false
	}
	accrued := decimal.Zero
	switch {
	case n > 0 && l.more.reports[n-1].why != "":
		return false
	case n > 0:
		accrued = l.more.reports[n-1].total
	case x.clause.Cap.Currency == "" || x.clause.Rate.Undisclosed:
		return false
	}
	return !accrued.LessThan(x.clause.Cap.Amount)
}

// pin gives the state its own copy of what it shares with the view it was
// read from, so that it stays valid while the view changes.
func (s *State) pin() {
	for _, c := range s.Clauses {
		if c.Accrual != nil {
			c.Accrual.reports = slices.Clone(c.Accrual.reports)
		}
	}
}
