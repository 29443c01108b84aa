package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/projections"
)

// Diff writes what changed in an agreement between two valid times.
func Diff(w io.Writer, d *projections.Diff) error {
	p := &printer{w: w}
	p.f("%s from %s to %s, %s\n", d.Agreement, Time(d.From), Time(d.To), KnownAt(d.KnownAt, d.KnownAtAmendment))
	p.do(changes(w, d, "  "))
	return p.err
}

// changes writes the body of a diff, each line indented.
func changes(w io.Writer, d *projections.Diff, indent string) error {
	p := &printer{w: w}
	if d.Empty() {
		p.f("%snothing changed\n", indent)
		return p.err
	}
	if d.StatusFrom != d.StatusTo {
		p.f("%sstatus: %s → %s\n", indent, words(d.StatusFrom), words(d.StatusTo))
	}
	for _, c := range d.Added {
		p.f("%s+ %s (%s) %s: %s\n", indent, c.ID, KindWord(c.Kind), Parties(c.Clause), describe(c))
	}
	for _, c := range d.Ended {
		p.f("%s- %s (%s) %s ended\n", indent, c.ID, KindWord(c.Kind), Parties(c.Clause))
	}
	for _, c := range d.Changed {
		p.f("%s~ %s (%s)\n", indent, c.ID, KindWord(c.Kind))
		for _, f := range c.Fields {
			p.f("%s    %s: %s → %s\n", indent, f.Field, Value(f.Field, f.From), Value(f.Field, f.To))
		}
	}
	for _, a := range d.Accruals {
		p.f("%s$ %s (%s)\n", indent, a.ID, KindWord(events.RevenueShare))
		for _, r := range a.Reports {
			p.f("%s    reported %s for %s, effective %s (%s)\n", indent, Money(&r.Base), Window(r.Period.Start, r.Period.End), Time(r.At), amendment(r.Amendment))
		}
		p.f("%s", moneyLine(indent, "accrued", a.Accrued))
		p.f("%s", moneyLine(indent, "cap remaining", a.CapRemaining))
		if a.CapReached != nil {
			p.f("%s    %s\n", indent, CapReached(a.CapReached))
		}
	}
	for _, f := range d.Funding {
		p.f("%s$ %s (%s)\n", indent, f.ID, KindWord(events.Investment))
		for _, t := range f.Tranches {
			p.f("%s    funded tranche %s, %s, on %s\n", indent, t.ID, Money(&t.Amount), Time(t.Funded))
		}
		p.f("%s", moneyLine(indent, "funded", f.Funded))
	}
	return p.err
}

// moneyLine writes an amount's line of a diff, "accrued: EUR 0 → EUR 600
// (+EUR 600)", or nothing when it is known at neither time.
func moneyLine(indent, name string, m projections.MoneyChange) string {
	if m.From == nil && m.To == nil {
		return ""
	}
	line := indent + "    " + name + ": " + Money(m.From) + " → " + Money(m.To)
	if m.Change != nil {
		sign := "+"
		if m.Change.IsNegative() {
			sign = "-"
		}
		line += " (" + sign + Money(&events.Money{Amount: m.Change.Abs(), Currency: m.To.Currency}) + ")"
	}
	return line + "\n"
}

// CapReached writes the amendment with which a revenue share reached its
// cap: "cap reached 2027-07-01 by the report of amendment …".
func CapReached(r *projections.CapReached) string {
	if r.Op == events.Report {
		return "cap reached " + Time(r.At) + " by the report of " + amendment(r.Amendment)
	}
	return "cap reached " + Time(r.At) + " when " + amendment(r.Amendment) + " set the cap at or below what had accrued"
}

// amendment names an amendment by its id, or as new (a dry run's).
func amendment(id string) string {
	if id == "" {
		return "the new amendment"
	}
	return "amendment " + id
}

func words(status string) string { return strings.ReplaceAll(status, "_", " ") }

// KindWord names a kind of clause in words: "revenue share".
func KindWord(k events.Kind) string {
	if s := events.Spec(k); s != nil {
		return s.Word
	}
	return string(k)
}

// describe writes the main terms of a clause in one line.
func describe(c *projections.ClauseState) string {
	var parts []string
	switch c.Kind {
	case events.License:
		parts = append(parts, Value("exclusive", c.Exclusive), c.What)
	case events.RevenueShare:
		capText := "no cap"
		if c.Cap != nil {
			capText = "cap " + Money(c.Cap)
		}
		parts = append(parts, "rate "+Rate(c.Rate), capText)
	case events.Commitment:
		parts = append(parts, Money(c.Amount), c.What)
	case events.Investment:
		committed, _ := c.Totals()
		parts = append(parts, Money(committed)+" in "+Plural(len(c.Tranches), "tranche", "tranches"))
	default: // its text (a right, what is owed)
		if c.What != "" {
			parts = append(parts, c.What)
		}
	}
	if c.Scope != nil {
		parts = append(parts, Scope(c.Scope))
	}
	parts = append(parts, InForce(c))
	return strings.Join(parts, ", ")
}

// Appended writes the result of an append: each amendment with its
// version, then the conflicts it introduced. A dry run shows each
// amendment's effect on its agreement instead.
func Appended(w io.Writer, r *ledger.AppendResult) error {
	p := &printer{w: w}
	if r.DryRun {
		p.ln("dry run: nothing was written")
		if len(r.Appended) > 0 {
			p.f("already recorded: %s\n", Plural(len(r.Appended), "amendment", "amendments"))
		}
		p.do(effects(w, r.Effects))
	} else {
		fresh := 0
		for _, a := range r.Appended {
			if !a.Duplicate {
				fresh++
			}
		}
		p.f("appended %s", Plural(fresh, "amendment", "amendments"))
		if dup := len(r.Appended) - fresh; dup > 0 {
			p.f(" (%d already recorded, unchanged)", dup)
		}
		p.ln()
		t := newTable(w, "  ", "ID", "AGREEMENT", "VERSION", "")
		for i, a := range r.Appended {
			if i == 20 && len(r.Appended) > 25 {
				t.Row("…", fmt.Sprintf("and %d more", len(r.Appended)-20), "", "")
				break
			}
			note := ""
			if a.Duplicate {
				note = "already recorded"
			}
			t.Row(a.ID, a.Agreement, fmt.Sprint(a.Version), note)
		}
		p.table(t)
	}
	p.do(introduced(w, r.Conflicts, r.DryRun))
	return p.err
}

func introduced(w io.Writer, cs []projections.Conflict, would bool) error {
	p := &printer{w: w}
	verb := "introduced"
	if would {
		verb = "it would introduce"
	}
	if len(cs) == 0 {
		p.f("conflicts %s: none\n", verb)
		return p.err
	}
	p.f("conflicts %s: %d\n", verb, len(cs))
	for _, c := range cs {
		p.do(Conflict(w, c))
	}
	return p.err
}

func effects(w io.Writer, es []projections.Effect) error {
	p := &printer{w: w}
	for _, e := range es {
		id := e.Amendment
		if id == "" {
			id = "(new amendment)"
		}
		p.f("%s version %d, %s, effective %s:\n", e.Agreement, e.Version, id, Time(e.Diff.To))
		p.do(changes(w, e.Diff, "  "))
	}
	return p.err
}

// Preview writes what a counterfactual (ledger.WhatIf) would change: each
// hypothetical amendment's effect, the recorded amendments that would no
// longer apply, and the conflicts it would introduce.
func Preview(w io.Writer, pv *projections.Preview) error {
	p := &printer{w: w}
	p.ln("what if (nothing was written):")
	p.do(effects(w, pv.Effects))
	if len(pv.Invalidated) > 0 {
		p.f("recorded amendments that would no longer apply: %d\n", len(pv.Invalidated))
		for _, a := range pv.Invalidated {
			p.f("  %s: %s\n", a.Amendment, a.Problem)
		}
	}
	p.do(introduced(w, pv.Conflicts, true))
	return p.err
}

// Verify writes what ledger.Verify found.
func Verify(w io.Writer, r *ledger.Report) error {
	p := &printer{w: w}
	verdict := "OK"
	if !r.OK {
		verdict = "FAILED"
	}
	p.f("%s  stream %s: %s, %s in %s\n", verdict, r.Stream, Plural(r.Messages, "message", "messages"),
		Plural(r.Amendments, "amendment", "amendments"), Plural(r.Agreements, "agreement", "agreements"))
	if len(r.Settings) == 0 {
		p.ln("  stream settings: append-only (no delete, purge, rollup, expiry or discard)")
	}
	for _, s := range r.Settings {
		p.f("  unsafe setting: %s\n", s)
	}
	for _, u := range r.Unreadable {
		p.f("  UNREADABLE  stream sequence %s: the stream counts it but cannot read it (the store is damaged)\n", u)
	}
	if r.Lost != nil {
		p.f("  LOST  the server reports %s lost when it recovered the stream's files", Plural(int(r.Lost.Bytes), "byte", "bytes"))
		if len(r.Lost.Msgs) > 0 {
			p.f(" (sequences %v)", r.Lost.Msgs)
		}
		p.ln("; check exported heads with verify --since")
	}
	for _, d := range r.Damaged {
		p.f("  DAMAGED  %s from version %d: stream sequences %d-%d; %s\n", d.Agreement, d.Version, d.Seq, d.LastSeq, d.Problem)
		p.f("           versions 1-%d are intact; %s after them the ledger wrote but cannot chain (see the README: Recovering a damaged store)\n", d.Version-1, Plural(d.Beyond, "message", "messages"))
	}
	if len(r.Broken) == 0 && len(r.Damaged) == 0 {
		p.ln("  hash chains: intact")
		if r.Checked > 0 {
			p.f("  exported heads: %s checked, each still in its chain\n", Plural(r.Checked, "head", "heads"))
		}
	}
	for _, b := range r.Broken {
		p.f("  BROKEN  %s version %d (stream sequence %d): %s\n", b.Agreement, b.Version, b.Seq, b.Problem)
		if b.Expected != "" || b.Found != "" {
			p.f("          expected %s, found %s\n", orDash(b.Expected), orDash(b.Found))
		}
	}
	if r.Foreign > 0 {
		p.f("  %s not written by the ledger\n", Plural(r.Foreign, "message", "messages"))
	}
	if len(r.Heads) > 0 {
		p.ln("  heads (export them with verify --heads; verify --since FILE proves later that nothing up to them was rewritten):")
		t := newTable(w, "    ", "AGREEMENT", "VERSION", "SEQ", "HASH")
		for _, h := range r.Heads {
			t.Row(h.Agreement, fmt.Sprint(h.Version), fmt.Sprint(h.Seq), h.Hash.String())
		}
		p.table(t)
	}
	return p.err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Agreements writes a listing of agreements.
func Agreements(w io.Writer, ss []projections.Summary) error {
	p := &printer{w: w}
	if len(ss) == 0 {
		p.ln("no agreements recorded")
		return p.err
	}
	t := newTable(w, "", "AGREEMENT", "VERSION", "STATUS", "PARTIES", "TITLE")
	for _, s := range ss {
		t.Row(s.Agreement, fmt.Sprint(s.Version), words(s.Status), strings.Join(s.Parties, ", "), s.Title)
	}
	p.table(t)
	return p.err
}

// Clause writes a clause in force in one line: its parties and main terms.
func Clause(c *projections.ClauseState) string {
	return Parties(c.Clause) + ", " + describe(c)
}
