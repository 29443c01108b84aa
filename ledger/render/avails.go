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
		p.ln("  no exclusive grant in force in the window covers it: no one is kept out (--party asks what gives one party the right)")
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
			r := av.Rights(pa.Party, a)
			t.Row(name, Time(a.From), Time(a.Until), VerdictWord(r), deciders(pa.Party, r))
		}
	}
	p.table(t)
	return p.err
}

// VerdictWord writes a check's verdict for a table: a no in capitals
// (DENIED, NO BASIS), "no basis" in lower case where the basis was not
// asked about (and it is allowed).
func VerdictWord(r projections.Rights) string {
	switch {
	case r.Verdict == projections.VerdictDenied:
		return "DENIED"
	case r.Verdict == projections.VerdictNoBasis && !r.Allowed:
		return "NO BASIS"
	}
	return strings.ReplaceAll(string(r.Verdict), "_", " ")
}

// deciders writes the clauses that decide an interval, briefly: what
// keeps the party out, and what gives it the right.
func deciders(party string, r projections.Rights) string {
	list := func(ds []projections.Decision, why bool) string {
		var parts []string
		for i, d := range ds {
			if i == maxDeciders {
				parts = append(parts, fmt.Sprintf("and %d more", len(ds)-maxDeciders))
				break
			}
			s := d.Agreement + "/" + d.Clause
			if why {
				s += " (" + decisionWhy(party, d) + ")"
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ", ")
	}
	switch r.Verdict {
	case projections.VerdictDenied:
		s := "kept out by " + list(r.Blocking, true)
		if len(r.Basis) > 0 {
			s += "; has a basis: " + list(r.Basis, false)
		}
		return s
	case projections.VerdictAllowed:
		return "basis " + list(r.Basis, true)
	}
	return "nothing gives it the right; nothing keeps it out"
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
