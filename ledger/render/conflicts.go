package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/projections"
)

// Conflicts writes a conflict report: a count, then one block per conflict.
func Conflicts(w io.Writer, r *projections.ConflictReport) error {
	p := &printer{w: w}
	if len(r.Conflicts) == 0 {
		p.f("no conflicts at %s, %s\n", Time(r.At), KnownAt(r.KnownAt, r.KnownAtAmendment))
		return p.err
	}
	p.f("%s at %s, %s\n", Plural(len(r.Conflicts), "conflict", "conflicts"), Time(r.At), KnownAt(r.KnownAt, r.KnownAtAmendment))
	for _, c := range r.Conflicts {
		p.ln()
		p.do(Conflict(w, c))
	}
	return p.err
}

// Conflict writes one conflict as a block: who granted what twice, over
// which scope, in which window, and the two clauses.
func Conflict(w io.Writer, c projections.Conflict) error {
	p := &printer{w: w}
	p.f("CONFLICT  %s granted exclusive rights over %s to both %s and %s\n",
		c.Grantor, Scope(c.Scope), c.Clauses[0].Holder, c.Clauses[1].Holder)
	p.f("  window  %s\n", Window(c.From, c.Until))
	t := newTable(w, "  ", "AGREEMENT", "CLAUSE", "KIND", "HOLDER", "SCOPE", "SINCE")
	for _, x := range c.Clauses {
		t.Row(x.Agreement, x.Clause, string(x.Kind), x.Holder, Scope(x.Scope.Scope), x.Since)
	}
	p.table(t)
	return p.err
}

// ConflictLines writes conflicts compactly, one line each, for summaries
// such as the result of an append.
func ConflictLines(w io.Writer, cs []projections.Conflict, indent string) error {
	p := &printer{w: w}
	for _, c := range cs {
		p.f("%s%s: %s/%s (held by %s) and %s/%s (held by %s) both cover %s, %s\n", indent, c.Grantor,
			c.Clauses[0].Agreement, c.Clauses[0].Clause, c.Clauses[0].Holder,
			c.Clauses[1].Agreement, c.Clauses[1].Clause, c.Clauses[1].Holder,
			Scope(c.Scope), Window(c.From, c.Until))
	}
	return p.err
}

// Rights writes the answer to a rights check: the verdict, then the
// clauses that keep the party out (blocking) and those that give it the
// right (basis), each with its agreement and clause.
func Rights(w io.Writer, q projections.RightsQuery, r projections.Rights) error {
	p := &printer{w: w}
	what := Scope(q.Scope)
	// The answer echoes the question when it came back from a ledger (at
	// and known-at, and the amendment known-at was given as).
	if !r.At.IsZero() {
		q.At, q.KnownAt = r.At, r.KnownAt
	}
	when := Time(q.At)
	if !q.KnownAt.IsZero() {
		when += ", " + KnownAt(q.KnownAt, r.KnownAtAmendment)
	}
	switch {
	case r.Verdict == projections.VerdictAllowed:
		p.f("ALLOWED  %s may offer %s at %s\n", q.Party, what, when)
	case r.Verdict == projections.VerdictDenied:
		p.f("DENIED  %s may not offer %s at %s\n", q.Party, what, when)
	case r.Allowed: // no basis, asked with --ignore-basis
		p.f("ALLOWED (basis not asked)  nothing keeps %s from offering %s at %s\n", q.Party, what, when)
	default:
		p.f("NO BASIS  %s may not offer %s at %s: nothing in force gives it the right\n", q.Party, what, when)
	}
	if len(r.Blocking) > 0 {
		p.ln("  kept out by:")
		decisions(p, w, q.Party, r.Blocking)
	} else {
		p.ln("  no exclusivity in force keeps " + q.Party + " out")
	}
	if len(r.Basis) > 0 {
		p.ln("  what gives " + q.Party + " the right (basis):")
		decisions(p, w, q.Party, r.Basis)
		return p.err
	}
	p.ln("  nothing in force gives " + q.Party + " the right: no licence, exclusivity or right it holds or granted covers all of it")
	var all []string
	for i, name := range events.Dimensions {
		if q.Scope.Dim(i) == nil {
			all = append(all, name)
		}
	}
	if len(all) > 0 {
		p.f("  (%s not given: a basis must cover all of them)\n", strings.Join(all, " and "))
	}
	return p.err
}

// decisions writes the clauses that decide a check as a table.
func decisions(p *printer, w io.Writer, party string, ds []projections.Decision) {
	t := newTable(w, "  ", "AGREEMENT", "CLAUSE", "KIND", "GRANTOR → HOLDER", "COVERS", "SINCE", "WHY")
	for _, d := range ds {
		t.Row(d.Agreement, d.Clause, string(d.Kind), d.Grantor+" → "+d.Holder, Scope(d.Where.Scope), d.Since, decisionWhy(party, d))
	}
	p.table(t)
}

func decisionWhy(party string, d projections.Decision) string {
	switch {
	case d.Binds:
		return fmt.Sprintf("exclusive to %s", d.Holder)
	case d.Holder == party:
		return fmt.Sprintf("held by %s", party)
	case d.Grantor == party:
		return fmt.Sprintf("granted by %s", party)
	}
	return ""
}

// History writes an agreement's amendments in recording order.
func History(w io.Writer, h *projections.History) error {
	p := &printer{w: w}
	p.f("%s: %s\n", h.Agreement, Plural(len(h.Amendments), "amendment", "amendments"))
	t := newTable(w, "", "VERSION", "EFFECTIVE", "RECORDED", "ID", "OPS", "SUMMARY")
	for _, e := range h.Amendments {
		ops := make([]string, len(e.Changes))
		for i, c := range e.Changes {
			ops[i] = string(c.Op)
		}
		summary := Truncate(e.Summary, 72)
		if e.RetractedBy != "" {
			summary = "[retracted by " + e.RetractedBy + "] " + summary
		}
		t.Row(fmt.Sprint(e.Version), Time(e.Effective), Recorded(e.Recorded), e.ID.String(), compactOps(ops), summary)
	}
	p.table(t)
	return p.err
}

// compactOps writes ops as "open, add×4".
func compactOps(ops []string) string {
	var out []string
	for i := 0; i < len(ops); {
		j := i
		for j < len(ops) && ops[j] == ops[i] {
			j++
		}
		if j-i > 1 {
			out = append(out, fmt.Sprintf("%s×%d", ops[i], j-i))
		} else {
			out = append(out, ops[i])
		}
		i = j
	}
	return strings.Join(out, ",")
}
