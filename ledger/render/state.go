package render

import (
	"io"
	"slices"
	"strings"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/projections"
)

// KindHeading is the heading of a group of clauses of kind k: "Revenue
// shares".
func KindHeading(k events.Kind) string {
	if s := events.Spec(k); s != nil {
		return s.Heading
	}
	return string(k)
}

// State writes an agreement's state: a heading with its status and
// parties, then one table per group of clauses in force.
func State(w io.Writer, s *projections.State) error {
	p := &printer{w: w}
	title := s.Agreement
	if s.Title != "" {
		title += " — " + s.Title
	}
	p.ln(title)
	p.f("at %s, %s (version %d)\n", Time(s.At), KnownAt(s.KnownAt, s.KnownAtAmendment), s.Version)
	p.f("status: %s\n", status(s))
	if len(s.Parties) > 0 {
		p.f("parties: %s\n", strings.Join(s.Parties, ", "))
	}
	for _, d := range s.Conditions {
		p.f("declared: %s on %s (amendment %s)\n", d.Condition, Time(d.At), d.Amendment)
	}
	if len(s.Clauses) == 0 {
		p.ln("no clause is in force")
		return p.err
	}
	for _, k := range events.Kinds {
		cs := s.Group(k)
		if len(cs) == 0 {
			continue
		}
		p.ln()
		p.ln(strings.ToUpper(KindHeading(k)))
		p.do(Clauses(w, k, cs))
	}
	return p.err
}

func status(s *projections.State) string {
	switch s.Status {
	case "not_open":
		if !s.Opened.IsZero() {
			return "not yet open (opens " + Time(s.Opened) + ")"
		}
		return "not open"
	case "closed":
		return "closed on " + Time(s.Closed)
	case "open":
		st := "open since " + Time(s.Opened)
		if !s.Closed.IsZero() {
			st += ", closes " + Time(s.Closed)
		}
		return st
	}
	return s.Status
}

// Parties writes the two parties of a clause as "openai → microsoft".
func Parties(c *events.Clause) string { return c.Grantor + " → " + c.Holder }

// InForce writes a clause's term as it stands.
func InForce(c *projections.ClauseState) string {
	endsOn := ""
	if c.Term != nil {
		endsOn = c.Term.EndsOn
	}
	return Term(c.Start, c.End, endsOn)
}

// Clauses writes clauses of one kind as an indented table, with the lines
// that do not fit a table (why an accrual cannot be computed, tranches,
// notes) after it.
func Clauses(w io.Writer, k events.Kind, cs []*projections.ClauseState) error {
	p := &printer{w: w}
	g, h := events.PartyFields(k)
	parties := strings.ToUpper(g + " → " + h)
	text := events.TextField(k)
	var t *table
	switch k {
	case events.License:
		t = newTable(w, "  ", "CLAUSE", parties, "SUBJECT", "EXCLUSIVE", "SCOPE", "IN FORCE", "SINCE")
	case events.Exclusivity:
		t = newTable(w, "  ", "CLAUSE", parties, "SCOPE", "SOLE", "IN FORCE", "SINCE")
	case events.RevenueShare:
		t = newTable(w, "  ", "CLAUSE", parties, "RATE", "CAP", "ACCRUED", "CAP REMAINING", "IN FORCE", "SINCE")
	case events.Commitment:
		t = newTable(w, "  ", "CLAUSE", parties, "AMOUNT", "WHAT", "IN FORCE", "SINCE")
	case events.Investment:
		t = newTable(w, "  ", "CLAUSE", parties, "COMMITTED", "FUNDED", "IN FORCE", "SINCE")
	case events.Right:
		t = newTable(w, "  ", "CLAUSE", parties, "RIGHT", "SCOPE", "IN FORCE", "SINCE")
	default: // its text, if it has one
		t = newTable(w, "  ", withText(text, "CLAUSE", parties, strings.ToUpper(text), "IN FORCE", "SINCE")...)
	}
	var extra []string
	for _, c := range cs {
		since := Time(c.Since)
		switch k {
		case events.License:
			t.Row(c.ID, Parties(c.Clause), Truncate(c.What, 40), Value("exclusive", c.Exclusive), Scope(c.Scope), InForce(c), since)
		case events.Exclusivity:
			t.Row(c.ID, Parties(c.Clause), Scope(c.Scope), Value("sole", c.Sole), InForce(c), since)
		case events.RevenueShare:
			var accrued, remaining *events.Money
			if c.Accrual != nil {
				accrued, remaining = c.Accrual.Accrued, c.Accrual.CapRemaining
			}
			capText := "no cap"
			if c.Cap != nil {
				capText = Money(c.Cap)
			}
			t.Row(c.ID, Parties(c.Clause), Rate(c.Rate), capText, Money(accrued), Money(remaining), InForce(c), since)
			if c.What != "" {
				extra = append(extra, c.ID+": the rate applies to "+c.What)
			}
			if c.Accrual != nil && c.Accrual.Why != "" {
				extra = append(extra, c.ID+": "+Accrual(c))
			}
			if s := CapCost(c); s != "" {
				extra = append(extra, c.ID+": "+s)
			}
		case events.Commitment:
			t.Row(c.ID, Parties(c.Clause), Money(c.Amount), Truncate(c.What, 40), InForce(c), since)
		case events.Investment:
			committed, funded := c.Totals()
			t.Row(c.ID, Parties(c.Clause), Money(committed), Money(funded), InForce(c), since)
			for _, tr := range c.Tranches {
				line := c.ID + ": tranche " + tr.ID + " " + Money(&tr.Amount)
				if tr.Condition != "" {
					line += " (" + tr.Condition + ")"
				}
				if tr.Funded.IsZero() {
					line += ", not funded"
				} else {
					line += ", funded " + Time(tr.Funded)
				}
				extra = append(extra, line)
			}
		case events.Right:
			t.Row(c.ID, Parties(c.Clause), c.What, Scope(c.Scope), InForce(c), since)
		default:
			t.Row(withText(text, c.ID, Parties(c.Clause), Truncate(c.What, 50), InForce(c), since)...)
		}
		if c.Note != "" {
			extra = append(extra, c.ID+": "+c.Note)
		}
	}
	p.table(t)
	for _, e := range extra {
		p.f("    %s\n", e)
	}
	return p.err
}

// withText returns the cells of a row of a kind without its own table: the
// third is its text, left out when the kind has none.
func withText(text string, cells ...string) []string {
	if text == "" {
		return slices.Delete(cells, 2, 3)
	}
	return cells
}

// Accrual writes what a revenue share has accrued and what remains under
// its cap, each with the reason when it cannot be computed or needs one:
// "accrued USD 0; cap remaining undisclosed (USD): the cap is undisclosed".
func Accrual(c *projections.ClauseState) string {
	a := c.Accrual
	if a == nil {
		return ""
	}
	reasons := map[string]string{}
	for _, part := range strings.Split(a.Why, "; ") {
		if name, reason, ok := strings.Cut(part, ": "); ok {
			reasons[name] = reason
		}
	}
	value := func(m *events.Money, name string) string {
		s := "cannot be computed"
		if m != nil {
			s = Money(m)
		}
		if r := reasons[name]; r != "" {
			s += ": " + r
		}
		return s
	}
	remaining := "none: the share has no cap"
	if c.Cap != nil {
		remaining = value(a.CapRemaining, "cap_remaining")
	}
	return "accrued " + value(a.Accrued, "accrued") + "; cap remaining " + remaining
}

// CapCost writes what a capped revenue share's cap cost: what its reports
// would have accrued without it, where that differs from what accrued, and
// the amendment with which it reached the cap. "" when there is nothing to
// say.
func CapCost(c *projections.ClauseState) string {
	if !c.HasCap() {
		return ""
	}
	a := c.Accrual
	var parts []string
	if a.Uncapped != nil && (a.Accrued == nil || a.Accrued.Amount.Cmp(a.Uncapped.Amount) != 0) {
		parts = append(parts, "uncapped "+Money(a.Uncapped)+" (rate × reported base)")
	}
	if a.CappedAt != nil {
		parts = append(parts, CapReached(a.CappedAt))
	}
	return strings.Join(parts, "; ")
}
