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
	Reports      int           // reports effective so far
	Why          string
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

// MarshalJSON writes the clause's input fields under their input names, and
// since, start, end and amendments; a revenue share adds accrued,
// cap_remaining and why; an investment adds funding to its tranches.
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
	}
	if c.Tranches != nil {
		var ts []map[string]any
		for _, t := range c.Tranches {
			ts = append(ts, map[string]any{"id": t.ID, "amount": t.Amount, "condition": nonEmptyOrNull(t.Condition), "funded": timeOrNull(t.Funded)})
		}
		m["tranches"] = ts
		m["committed"], m["funded"] = c.Totals()
	}
	return json.Marshal(m)
}

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
	// One allocation for the clauses.
	css := make([]ClauseState, len(xs))
	s.Clauses = make([]*ClauseState, len(xs))
	for i, x := range xs {
		x.fill(&css[i], t, bound)
		s.Clauses[i] = &css[i]
	}
	return s
}

// declaredBy returns the conditions declared at or before t, folded up to
// bound, by time then condition. Without a bound it shares the view's slice:
// the view never writes over what it has handed out.
func (v *view) declaredBy(t time.Time, bound *events.Record) []Declared {
	n, _ := slices.BinarySearchFunc(v.decl, t, func(d Declared, t time.Time) int {
		if d.At.After(t) {
			return 1
		}
		return -1
	})
	if n == 0 {
		return nil
	}
	out := v.decl[:n:n]
	if bound == nil || t.Before(bound.Effective) {
		return out
	}
	for i := range n {
		if !before(v.declBy[i], bound) {
			var keep []Declared
			for j, d := range out {
				if before(v.declBy[j], bound) {
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
	*cs = ClauseState{Clause: x.clause, Since: x.fromT(), Start: l.addedT(), Amendments: l.ids[: x.depth+1 : x.depth+1]}
	if x.flags&hasTerm != 0 {
		cs.Start, cs.End = x.start(), x.end()
	}
	switch l.kc {
	case kindRevenueShare:
		cs.Accrual = l.accrual(x.clause, t, bound)
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
		a                Accrual
		accrued, capLeft events.Money
	}{}
	a := &box.a
	var whyAccrued, whyCap string
	var rep *report
	if a.Reports = l.reportsBy(t, bound); a.Reports > 0 {
		rep = &l.more.reports[a.Reports-1]
	}
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
	switch {
	case whyAccrued == "":
		a.Why = whyCap
	case whyCap == "":
		a.Why = whyAccrued
	default:
		a.Why = whyAccrued + "; " + whyCap
	}
	return a
}
