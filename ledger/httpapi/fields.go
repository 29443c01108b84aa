package httpapi

import (
	"fmt"
	"slices"
	"strings"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger/render"
	"github.com/agreement-ledger/ledger/projections"
)

// The fields of a clause as the page lists them (the state table, the
// details of a bar); money, rates, dates and scopes are written by package
// render, as everywhere else.

// termText describes a term: "2026-04-27 until 2033-01-01", "ends when agi is declared".
func termText(t *events.Term) string {
	if t == nil {
		return ""
	}
	var parts []string
	if !t.Start.IsZero() {
		parts = append(parts, "from "+render.Time(t.Start))
	}
	if !t.End.IsZero() {
		parts = append(parts, "until "+render.Time(t.End)+" (exclusive)")
	}
	if t.EndsOn != "" {
		parts = append(parts, "ends when "+t.EndsOn+" is declared")
	}
	if len(parts) == 0 {
		return "open-ended"
	}
	return strings.Join(parts, "; ")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// row is one labelled value of a clause, for tables and details.
type row struct{ Label, Value string }

// Undisclosed reports whether the value is one the parties did not disclose.
func (r row) Undisclosed() bool { return strings.HasPrefix(r.Value, "undisclosed") }

// clauseRows lists a clause's fields in reading order.
func clauseRows(c *events.Clause) []row {
	var out []row
	g, hName := events.PartyFields(c.Kind)
	if g != "" {
		out = append(out, row{g, c.Grantor})
	}
	if hName != "" {
		out = append(out, row{hName, c.Holder})
	}
	names := events.FieldNames(c.Kind)
	has := func(n string) bool { return slices.Contains(names, n) }
	switch c.Kind {
	case events.License:
		out = append(out, row{"subject", c.What}, row{"exclusive", yesNo(c.Exclusive)})
	case events.Exclusivity:
		out = append(out, row{"sole", yesNo(c.Sole) + map[bool]string{true: " (the grantor keeps its own right)", false: ""}[c.Sole]})
	case events.RevenueShare:
		out = append(out, row{"rate", render.Rate(c.Rate)})
		if c.What != "" {
			out = append(out, row{"base", c.What})
		}
		if c.Cap == nil {
			out = append(out, row{"cap", "none (uncapped)"})
		} else {
			out = append(out, row{"cap", render.Money(c.Cap)})
		}
	case events.Commitment:
		out = append(out, row{"amount", render.Money(c.Amount)}, row{"what", c.What})
	case events.Right:
		out = append(out, row{"right", c.What})
	case events.Obligation:
		out = append(out, row{"what", c.What})
	}
	if has("scope") {
		out = append(out, row{"scope", render.ScopeWords(c.Scope)})
	}
	if c.Kind == events.Investment {
		for _, t := range c.Tranches {
			v := render.Money(&t.Amount)
			if t.Condition != "" {
				v += " — condition: " + t.Condition
			}
			out = append(out, row{"tranche " + t.ID, v})
		}
	}
	if c.Term != nil {
		out = append(out, row{"term", termText(c.Term)})
	}
	if c.Note != "" {
		out = append(out, row{"note", c.Note})
	}
	return out
}

// stateRows adds what the state knows about a clause in force.
func stateRows(cs *projections.ClauseState) []row {
	out := clauseRows(cs.Clause)
	if cs.Kind == events.Investment {
		out = out[:0:0]
		for _, r := range clauseRows(cs.Clause) {
			if !strings.HasPrefix(r.Label, "tranche ") {
				out = append(out, r)
			}
		}
		for _, t := range cs.Tranches {
			v := render.Money(&t.Amount)
			if t.Condition != "" {
				v += " — condition: " + t.Condition
			}
			if t.Funded.IsZero() {
				v += " — not funded"
			} else {
				v += " — funded " + render.Time(t.Funded)
			}
			out = append(out, row{"tranche " + t.ID, v})
		}
		committed, funded := cs.Totals()
		out = append(out, row{"committed", render.Money(committed)}, row{"funded", render.Money(funded)})
	}
	if a := cs.Accrual; a != nil {
		acc := render.Money(a.Accrued)
		if a.Accrued == nil {
			acc = "cannot be computed"
		}
		out = append(out, row{"accrued", fmt.Sprintf("%s (%d reports)", acc, a.Reports)})
		if cs.Cap != nil {
			rem := render.Money(a.CapRemaining)
			if a.CapRemaining == nil {
				rem = "cannot be computed"
			}
			out = append(out, row{"cap remaining", rem})
		}
		if a.Why != "" {
			out = append(out, row{"why", a.Why})
		}
	}
	out = append(out, row{"in force since", render.Time(cs.Since)})
	return out
}

func statusText(s string) string {
	switch s {
	case "not_open":
		return "not yet open"
	}
	return s
}
