package httpapi

import (
	"fmt"
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

// The page's words for a field's value where the value alone does not say
// it: what a true flag means, and what an absent amount means.
var (
	meansWhenTrue   = map[string]string{"sole": " (the grantor keeps its own right)"}
	meansWhenAbsent = map[string]string{"cap": "none (uncapped)"}
)

// clauseRows lists a clause's fields in reading order: its parties, then its
// kind's fields as the kinds table lists them, each written by its type
// (the scope and the tranches after the others), then its term and note.
func clauseRows(c *events.Clause) []row {
	var out, tranches []row
	spec := events.Spec(c.Kind)
	if spec == nil {
		return nil
	}
	out = append(out, row{spec.Grantor, c.Grantor}, row{spec.Holder, c.Holder})
	values := c.Fields()
	hasScope := false
	for _, name := range spec.Fields {
		f := events.FieldOf(name)
		switch v := values[name]; f.Type {
		case events.TextType, events.SlugType:
			if s, _ := v.(string); s != "" || f.Required {
				out = append(out, row{name, s})
			}
		case events.BoolType:
			b, _ := v.(bool)
			out = append(out, row{name, yesNo(b) + map[bool]string{true: meansWhenTrue[name]}[b]})
		case events.RateType:
			r, _ := v.(*events.Rate)
			out = append(out, row{name, render.Rate(r)})
		case events.MoneyType:
			m, _ := v.(*events.Money)
			if text := meansWhenAbsent[name]; m == nil && text != "" {
				out = append(out, row{name, text})
			} else {
				out = append(out, row{name, render.Money(m)})
			}
		case events.ScopeType:
			hasScope = true
		case events.TranchesType:
			for _, t := range c.Tranches {
				v := render.Money(&t.Amount)
				if t.Condition != "" {
					v += " — condition: " + t.Condition
				}
				tranches = append(tranches, row{"tranche " + t.ID, v})
			}
		}
	}
	if hasScope {
		out = append(out, row{"scope", render.ScopeWords(c.Scope)})
	}
	out = append(out, tranches...)
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
	if cs.Tranches != nil { // an investment: the state knows which were funded
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
