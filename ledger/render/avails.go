package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/projections"
)

// maxDeciders is how many deciding clauses an interval names in text; the
// rest are counted (-o json has them all).
const maxDeciders = 3

// Avails writes when each party may offer what was asked: per party, its
// intervals of the window with the verdict and the clauses that decide it.
func Avails(w io.Writer, av *projections.Avails) error {
	p := &printer{w: w}
	p.f("When may each party offer %s? %s, %s\n", Scope(av.Scope), Window(av.From, av.To), KnownAt(av.KnownAt, av.KnownAtAmendment))
	if len(av.Parties) == 0 {
		p.ln("  no exclusive grant in force in the window covers it: every party may offer it throughout")
		return p.err
	}
	p.ln()
	t := newTable(w, "  ", "PARTY", "FROM", "UNTIL", "VERDICT", "DECIDED BY")
	for _, pa := range av.Parties {
		for i, a := range pa.Intervals {
			name := pa.Party
			if i > 0 {
				name = ""
			}
			verdict := string(a.Verdict)
			if a.Verdict == projections.VerdictDenied {
				verdict = "DENIED"
			}
			t.Row(name, Time(a.From), Time(a.Until), verdict, deciders(pa.Party, av.Rights(pa.Party, a)))
		}
	}
	p.table(t)
	return p.err
}

// deciders writes the clauses that decide an interval, briefly.
func deciders(party string, r projections.Rights) string {
	if len(r.DecidedBy) == 0 {
		return "no exclusivity covers it"
	}
	// A verdict of more than allowed or denied (a check that asks for a
	// basis) would be written here.
	var parts []string
	for i, d := range r.DecidedBy {
		if i == maxDeciders {
			parts = append(parts, fmt.Sprintf("and %d more", len(r.DecidedBy)-maxDeciders))
			break
		}
		parts = append(parts, fmt.Sprintf("%s/%s (%s)", d.Agreement, d.Clause, decisionWhy(party, d)))
	}
	if r.Allowed {
		return "free of " + strings.Join(parts, ", ")
	}
	return "kept out by " + strings.Join(parts, ", ")
}

// Holdings writes what a party holds exclusively, interval by interval.
func Holdings(w io.Writer, h *projections.Holdings) error {
	p := &printer{w: w}
	within := ""
	if !h.Scope.IsAll() {
		within = " within " + Scope(h.Scope)
	}
	p.f("What %s holds exclusively%s, %s, %s\n", h.Holder, within, Window(h.From, h.To), KnownAt(h.KnownAt, h.KnownAtAmendment))
	t := newTable(w, "  ", "FROM", "UNTIL", "AGREEMENT", "CLAUSE", "KIND", "GRANTOR", "OVER")
	for _, iv := range h.Intervals {
		if len(iv.Holds) == 0 {
			t.Row(Time(iv.From), Time(iv.Until), "-", "nothing", "", "", "")
		}
		for _, x := range iv.Holds {
			kind := string(x.Kind)
			if x.Sole {
				kind += " (sole)"
			}
			t.Row(Time(iv.From), Time(iv.Until), x.Agreement, x.Clause, kind, x.Grantor, Scope(x.Where.Scope))
		}
	}
	p.table(t)
	return p.err
}

// Calendar writes the dated entries of a calendar in date order, then the
// standing risks.
func Calendar(w io.Writer, c *projections.Calendar) error {
	p := &printer{w: w}
	of := "every agreement"
	if c.Agreement != "" {
		of = c.Agreement
	}
	p.f("Deal calendar of %s, %s, %s: %s, %s\n", of, Window(c.From, c.To), KnownAt(c.KnownAt, c.KnownAtAmendment),
		Plural(len(c.Entries), "dated entry", "dated entries"), Plural(len(c.Standing), "standing risk", "standing risks"))
	if len(c.Entries) > 0 {
		p.ln()
		t := newTable(w, "", "DATE", "AGREEMENT", "CLAUSE", "WHAT")
		for _, e := range c.Entries {
			t.Row(Time(e.At()), e.Agreement(), e.Clause(), CalendarWhat(e))
		}
		p.table(t)
	}
	if len(c.Standing) > 0 {
		p.ln()
		p.ln("Standing risks (no date):")
		t := newTable(w, "  ", "SINCE", "AGREEMENT", "CLAUSE", "WHAT")
		for _, e := range c.Standing {
			t.Row(Time(e.At()), e.Agreement(), e.Clause(), CalendarWhat(e))
		}
		p.table(t)
	}
	return p.err
}

// CalendarWhat says what happens at an entry, with amounts written for
// people.
func CalendarWhat(e projections.CalendarEntry) string {
	switch e.Kind() {
	case projections.EntryCap80:
		return fmt.Sprintf("accrued %s reaches 80%% of the cap of %s (%s left)", Money(e.Accrued()), Money(e.Amount()), Money(e.Remaining()))
	case projections.EntryCapReached:
		return fmt.Sprintf("accrued %s reaches the cap of %s", Money(e.Accrued()), Money(e.Amount()))
	case projections.EntryTrancheUnfunded:
		s := fmt.Sprintf("tranche %s (%s) is not funded", e.Tranche(), Money(e.Amount()))
		if c := e.Condition(); c != "" {
			s += "; condition: " + c
		}
		return s
	}
	s := e.What()
	if m := e.Amount(); m != nil && e.ClauseKind() == events.Commitment {
		s += " (" + Money(m) + ")"
	}
	return s
}
