// Package demo tells the story of DESIGN §7 with a real ledger: it records
// the built-in Microsoft–OpenAI–Amazon history (events/seed) and asks the
// ledger the questions a deal desk would ask of it — the licence before and
// after the renegotiation, the conflict and its window, who may serve
// Frontier by API and when, the revenue shares in force, what was believed
// before the renegotiation was recorded, what a declared AGI would have
// ended, and from when to when Amazon may serve Frontier by API. Every answer is computed by the ledger; the story only asks and
// writes the answers down.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/seed"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/render"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/oklog/ulid/v2"
)

// The questions' times, products and channels. They are the questions of
// DESIGN §7, not their answers.
var (
	March2026 = day("2026-03-15")
	In2027    = day("2027-06-30")
	In2031    = day("2031-06-30")
	In2032    = day("2032-06-30")
	In2033    = day("2033-06-30")
	Product   = "frontier"
	Channel   = "api"
	Condition = "agi"
	// Question 8 asks from when to when AvailsParty may serve the product
	// on the channel, over [AvailsFrom, AvailsTo).
	AvailsParty = "amazon"
	AvailsFrom  = day("2019-01-01")
	AvailsTo    = day("2031-01-01")
)

func day(s string) time.Time {
	t, err := events.ParseTime(s)
	if err != nil {
		panic(err)
	}
	return t
}

// Story is what the ledger answered.
type Story struct {
	// Appended is the seed as recorded: the history before the
	// renegotiation first, then the renegotiation.
	Appended []ledger.Appended `json:"appended"`
	// KnownBefore is when the history before the renegotiation had been
	// recorded: the known-at time of "what was believed".
	KnownBefore time.Time `json:"known_before"`
	// Agreement and Licence name the licence the story follows.
	Agreement string `json:"agreement"`
	Licence   string `json:"licence"`
	// LicenceAt is the licence at March2026, In2027, In2032 and In2033
	// (nil where it is not in force).
	LicenceAt []*projections.ClauseState `json:"licence_at"`
	// Conflicts are those in force in March 2026 and in 2027.
	Conflicts      *projections.ConflictReport `json:"conflicts"`
	ConflictsLater *projections.ConflictReport `json:"conflicts_later"`
	// Serve is who may serve the product on the channel, for each party of
	// the agreements, in March 2026 and in 2027.
	Serve []Check `json:"serve"`
	// Shares are the revenue shares in force in 2027 and in 2031, across
	// every agreement.
	Shares2027 []*projections.ClauseState `json:"revenue_shares_2027"`
	Shares2031 []*projections.ClauseState `json:"revenue_shares_2031"`
	// Believed is the agreement in 2031 as known at KnownBefore; Known is
	// the same question as known now.
	Believed *projections.State `json:"believed"`
	Known    *projections.State `json:"known"`
	// AGI is what declaring the condition would have done, effective before
	// and after the renegotiation.
	AGI []Counterfactual `json:"agi"`
	// Avails is when AvailsParty may serve the product on the channel, as
	// known now; AvailsBefore as known at KnownBefore.
	Avails       *projections.Avails `json:"avails"`
	AvailsBefore *projections.Avails `json:"avails_before"`

	illustrative map[time.Time]bool   // effective times the seed marks illustrative
	recorded     map[string]time.Time // recorded time of each amendment appended
}

// Check is one rights check of the story.
type Check struct {
	Party  string             `json:"party"`
	At     time.Time          `json:"at"`
	Rights projections.Rights `json:"rights"`
}

// Counterfactual is the answer of ledger.WhatIf to a declared condition.
type Counterfactual struct {
	Effective   time.Time             `json:"effective"`
	Ends        []string              `json:"ends"`        // clauses it would end
	Invalidated []projections.Anomaly `json:"invalidated"` // recorded amendments that would no longer apply
	Preview     *projections.Preview  `json:"preview"`
}

// Run records the seed history into l (amendments already recorded are
// kept as they are), asks the questions and returns the answers.
func Run(ctx context.Context, l *ledger.Ledger) (*Story, error) {
	all := seed.Amendments()
	st := &Story{illustrative: map[time.Time]bool{}, recorded: map[string]time.Time{}}
	renegotiation, err := events.ParseTime(seed.Renegotiation)
	if err != nil {
		return nil, err
	}
	var before, after []*events.Amendment
	for _, a := range all {
		if strings.Contains(strings.ToLower(a.Summary), "illustrative") {
			st.illustrative[a.Effective] = true
		}
		if a.Effective.Before(renegotiation) {
			before = append(before, a)
		} else {
			after = append(after, a)
		}
	}
	if len(before) == 0 || len(after) == 0 {
		return nil, fmt.Errorf("demo: the seed has no history on both sides of the renegotiation (%s)", seed.Renegotiation)
	}
	st.Agreement = after[0].Agreement

	// Record the history before the renegotiation, remember when it was
	// recorded, then record the renegotiation.
	res, err := l.Append(ctx, before, ledger.AppendOptions{})
	if err != nil {
		return nil, fmt.Errorf("demo: recording the seed history: %w", err)
	}
	st.Appended = append(st.Appended, res.Appended...)
	if err := st.remember(l, res.Appended); err != nil {
		return nil, err
	}
	for _, a := range res.Appended {
		st.KnownBefore = later(st.KnownBefore, st.recorded[a.ID])
	}
	res, err = l.Append(ctx, after, ledger.AppendOptions{})
	if err != nil {
		return nil, fmt.Errorf("demo: recording the renegotiation: %w", err)
	}
	st.Appended = append(st.Appended, res.Appended...)
	if err := st.remember(l, res.Appended); err != nil {
		return nil, err
	}

	// The licence: the agreement's licence clause as first recorded.
	first, err := l.State(st.Agreement, before[0].Effective, time.Time{})
	if err != nil {
		return nil, err
	}
	if ls := first.Group(events.License); len(ls) > 0 {
		st.Licence = ls[0].ID
	}
	for _, at := range []time.Time{March2026, In2027, In2032, In2033} {
		s, err := l.State(st.Agreement, at, time.Time{})
		if err != nil {
			return nil, err
		}
		st.LicenceAt = append(st.LicenceAt, s.Clause(st.Licence))
	}

	if st.Conflicts, err = l.Conflicts(March2026, time.Time{}); err != nil {
		return nil, err
	}
	if st.ConflictsLater, err = l.Conflicts(In2027, time.Time{}); err != nil {
		return nil, err
	}

	agreements, err := l.Agreements(time.Now())
	if err != nil {
		return nil, err
	}
	var parties []string
	for _, a := range agreements {
		for _, p := range a.Parties {
			if !slices.Contains(parties, p) {
				parties = append(parties, p)
			}
		}
	}
	slices.Sort(parties)
	for _, at := range []time.Time{March2026, In2027} {
		for _, p := range parties {
			r, err := l.Check(projections.RightsQuery{Party: p, Scope: &events.Scope{Products: []string{Product}, Channels: []string{Channel}}, At: at})
			if err != nil {
				return nil, err
			}
			st.Serve = append(st.Serve, Check{Party: p, At: at, Rights: r})
		}
	}

	for _, q := range []struct {
		at  time.Time
		out *[]*projections.ClauseState
	}{{In2027, &st.Shares2027}, {In2031, &st.Shares2031}} {
		for _, a := range agreements {
			s, err := l.State(a.Agreement, q.at, time.Time{})
			if err != nil {
				return nil, err
			}
			*q.out = append(*q.out, s.Group(events.RevenueShare)...)
		}
	}

	if st.Believed, err = l.State(st.Agreement, In2031, st.KnownBefore); err != nil {
		return nil, err
	}
	if st.Known, err = l.State(st.Agreement, In2031, time.Time{}); err != nil {
		return nil, err
	}

	for _, k := range []struct {
		known time.Time
		out   **projections.Avails
	}{{time.Time{}, &st.Avails}, {st.KnownBefore, &st.AvailsBefore}} {
		q := projections.AvailsQuery{Scope: &events.Scope{Products: []string{Product}, Channels: []string{Channel}}, Party: AvailsParty,
			From: AvailsFrom, To: AvailsTo, KnownAt: k.known}
		if *k.out, err = l.Avails(q); err != nil {
			return nil, err
		}
	}

	for _, at := range []time.Time{renegotiation.AddDate(0, -1, 0), renegotiation.AddDate(0, 1, 0)} {
		cf, err := whatIf(l, st.Agreement, at)
		if err != nil {
			return nil, err
		}
		st.AGI = append(st.AGI, cf)
	}
	return st, nil
}

// whatIf asks what declaring the condition in agreement at effective would do.
func whatIf(l *ledger.Ledger, agreement string, effective time.Time) (Counterfactual, error) {
	a := &events.Amendment{Agreement: agreement, Effective: effective,
		Summary: "hypothetical: " + Condition + " is declared",
		Changes: []events.Change{{Op: events.Declare, Detail: &events.Detail{Condition: Condition}}}}
	pv, err := l.WhatIf([]*events.Amendment{a}, time.Time{})
	if err != nil {
		return Counterfactual{}, fmt.Errorf("demo: what if %s were declared on %s: %w", Condition, render.Time(effective), err)
	}
	cf := Counterfactual{Effective: effective, Preview: pv, Invalidated: pv.Invalidated, Ends: []string{}}
	for _, e := range pv.Effects {
		for _, c := range e.Diff.Ended {
			cf.Ends = append(cf.Ends, c.ID)
		}
	}
	if cf.Invalidated == nil {
		cf.Invalidated = []projections.Anomaly{}
	}
	return cf, nil
}

// remember notes when each appended amendment was recorded.
func (st *Story) remember(l *ledger.Ledger, as []ledger.Appended) error {
	for _, a := range as {
		id, err := ulid.ParseStrict(a.ID)
		if err != nil {
			return err
		}
		r, err := l.Amendment(id)
		if err != nil {
			return err
		}
		st.recorded[a.ID] = r.Recorded
	}
	return nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// MarshalJSON writes the story with its times as dates where they are.
func (c Check) MarshalJSON() ([]byte, error) {
	type plain Check
	return json.Marshal(struct {
		plain
		At string `json:"at"`
	}{plain(c), events.FormatTime(c.At)})
}

// Write tells the story in text, in under two screens.
func (st *Story) Write(w io.Writer) error {
	p := &printer{w: w}
	d := st.date
	p.ln("Agreement ledger demo: the Microsoft–OpenAI–Amazon story (DESIGN §7), asked of a real ledger.")
	p.ln("Dates marked * are illustrative: the article does not give them.")
	p.ln()
	p.ln("Recorded:")
	for i, a := range st.Appended {
		s := summary(st, a.ID)
		p.f("  %-18s v%d  effective %-11s  %s\n", a.Agreement, a.Version, d(s.effective), render.Truncate(s.summary, 52))
		if i == st.lastBefore() {
			p.f("  — recorded by %s (question 6 asks what was known then) —\n", render.Recorded(st.KnownBefore))
		}
	}

	p.ln()
	p.f("1. The licence (%s/%s)\n", st.Agreement, st.Licence)
	for i, at := range []time.Time{March2026, In2027} {
		p.f("   %s  %s\n", d(at), licence(st, st.LicenceAt[i]))
	}

	p.ln()
	p.ln("2. Conflicts (exclusive grants from one grantor that overlap)")
	for _, r := range []*projections.ConflictReport{st.Conflicts, st.ConflictsLater} {
		if len(r.Conflicts) == 0 {
			p.f("   %s  none\n", d(r.At))
		}
		for i, c := range r.Conflicts {
			when := d(r.At)
			if i > 0 {
				when = strings.Repeat(" ", len(when))
			}
			p.f("   %s  %s (to %s) vs %s (to %s)\n", when, c.Clauses[0].Clause, c.Clauses[0].Holder, c.Clauses[1].Clause, c.Clauses[1].Holder)
			p.f("               both granted by %s over %s, %s\n", c.Grantor, render.Scope(c.Scope), st.window(c.From, c.Until))
		}
	}

	p.ln()
	p.f("3. Who may serve %s on the %s channel? (no: whose exclusivity keeps them out)\n", Product, Channel)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var row []string
	for _, c := range st.Serve {
		if c.At.Equal(March2026) {
			row = append(row, c.Party)
		}
	}
	fmt.Fprintf(tw, "   \t%s\n", strings.Join(row, "\t"))
	for _, at := range []time.Time{March2026, In2027} {
		row = row[:0]
		for _, c := range st.Serve {
			if c.At.Equal(at) {
				row = append(row, verdict(c))
			}
		}
		fmt.Fprintf(tw, "   %s\t%s\n", d(at), strings.Join(row, "\t"))
	}
	p.do(tw.Flush())

	p.ln()
	p.ln("4. Revenue shares in force")
	for _, q := range []struct {
		at     time.Time
		shares []*projections.ClauseState
	}{{In2027, st.Shares2027}, {In2031, st.Shares2031}} {
		if len(q.shares) == 0 {
			p.f("   %s  none\n", d(q.at))
		}
		for _, c := range q.shares {
			capText := "no cap"
			if c.Cap != nil {
				capText = "cap " + render.Money(c.Cap)
			}
			p.f("   %s  %s pays %s (%s), %s\n", d(q.at), c.Grantor, c.Holder, c.ID, st.term(c))
			p.f("               rate %s, %s\n", render.Rate(c.Rate), capText)
			if c.Accrual != nil {
				p.f("               %s\n", render.Accrual(c))
			}
		}
	}

	p.ln()
	p.ln("5. Is the licence in force?")
	for i, at := range []time.Time{In2032, In2033} {
		c := st.LicenceAt[2+i]
		if c == nil {
			p.f("   %s  no\n", d(at))
			continue
		}
		p.f("   %s  yes: %s\n", d(at), licence(st, c))
	}

	p.ln()
	p.f("6. What was believed about %s?\n", d(In2031))
	p.f("   as known at %s (before the renegotiation was recorded):\n", render.Recorded(st.KnownBefore))
	st.clauses(p, st.Believed)
	p.ln("   as known now:")
	st.clauses(p, st.Known)

	p.ln()
	p.f("7. What if %s were declared? (hypothetical dates; ledger.WhatIf writes nothing)\n", Condition)
	for _, cf := range st.AGI {
		ends := "nothing"
		if len(cf.Ends) > 0 {
			ends = strings.Join(cf.Ends, ", ")
		}
		p.f("   %s  it would end: %s\n", d(cf.Effective), ends)
		for _, an := range cf.Invalidated {
			s := summary(st, an.Amendment)
			p.f("               and %s v%d (effective %s) would no longer apply:\n", s.agreement, s.version, d(s.effective))
			p.f("               %s\n", render.Truncate(an.Problem, 84))
		}
	}

	p.ln()
	p.f("8. When may %s serve %s on the %s channel? (ledger avails, %s)\n", AvailsParty, Product, Channel, render.Window(AvailsFrom, AvailsTo))
	st.avails(p, st.Avails)
	p.f("   as known at %s (before the renegotiation was recorded):\n", render.Recorded(st.KnownBefore))
	st.avails(p, st.AvailsBefore)
	return p.err
}

// avails writes AvailsParty's intervals: when, yes or no, and why.
func (st *Story) avails(p *printer, av *projections.Avails) {
	for _, pa := range av.Parties {
		for _, a := range pa.Intervals {
			when := st.date(a.From) + " until " + st.date(a.Until)
			switch {
			case a.From.Equal(av.From):
				when = "until " + st.date(a.Until)
			case a.Until.Equal(av.To):
				when = "from " + st.date(a.From)
			}
			r := av.Rights(pa.Party, a)
			var keptOut, basis []string
			for _, d := range r.Blocking {
				keptOut = append(keptOut, d.Holder+"'s "+d.Clause+" ("+d.Agreement+")")
			}
			for _, d := range r.Basis {
				verb := "granted "
				if d.Holder == pa.Party {
					verb = "holds "
				}
				basis = append(basis, verb+d.Clause+" ("+d.Agreement+")")
			}
			var answer string
			switch r.Verdict {
			case projections.VerdictAllowed:
				answer = "yes: " + pa.Party + " " + strings.Join(basis, ", ")
			case projections.VerdictDenied:
				answer = "no: kept out by " + strings.Join(keptOut, ", ")
				if len(basis) > 0 {
					answer += "; " + strings.Join(basis, ", ")
				}
			default:
				answer = "no: nothing on record gives " + pa.Party + " the right"
			}
			p.f("   %-30s %s\n", when, answer)
		}
	}
}

// lastBefore is the index in Appended of the last amendment recorded
// before the renegotiation.
func (st *Story) lastBefore() int {
	last := -1
	for i, a := range st.Appended {
		if s := summary(st, a.ID); !s.recorded.After(st.KnownBefore) {
			last = i
		}
	}
	return last
}

type seedInfo struct {
	agreement string
	version   uint64
	effective time.Time
	recorded  time.Time
	summary   string
}

// summary finds an amendment of the story by id.
func summary(st *Story, id string) seedInfo {
	var s seedInfo
	for _, a := range st.Appended {
		if a.ID == id {
			s.agreement, s.version = a.Agreement, a.Version
		}
	}
	for _, a := range seed.Amendments() {
		if a.ID.String() == id {
			s.effective, s.summary = a.Effective, a.Summary
			if i := strings.Index(s.summary, " Illustrative"); i > 0 {
				s.summary = s.summary[:i]
			}
		}
	}
	s.recorded = st.recorded[id]
	return s
}

func (st *Story) date(t time.Time) string {
	s := render.Time(t)
	if st.illustrative[t] {
		s += "*"
	}
	return s
}

func (st *Story) window(from, until time.Time) string {
	if until.IsZero() {
		return "from " + st.date(from) + " (open-ended)"
	}
	return st.date(from) + " until " + st.date(until)
}

func (st *Story) term(c *projections.ClauseState) string {
	endsOn := ""
	if c.Term != nil {
		endsOn = c.Term.EndsOn
	}
	s := render.Term(time.Time{}, c.End, endsOn)
	if c.End.IsZero() && endsOn == "" {
		s = "open-ended"
	}
	return s
}

func licence(st *Story, c *projections.ClauseState) string {
	if c == nil {
		return "not in force"
	}
	ex := "non-exclusive"
	if c.Exclusive {
		ex = "exclusive"
	}
	return fmt.Sprintf("%s, %s → %s, %s", ex, c.Grantor, c.Holder, st.term(c))
}

// brief writes a clause's parties and its main terms.
func (st *Story) brief(c *projections.ClauseState) string {
	var what string
	switch c.Kind {
	case events.License:
		what = licence(st, c)
		return what
	case events.Exclusivity:
		what = render.Scope(c.Scope) + ", " + st.term(c)
	case events.RevenueShare:
		capText := "no cap"
		if c.Cap != nil {
			capText = "cap " + render.Money(c.Cap)
		}
		what = "rate " + render.Rate(c.Rate) + ", " + capText + ", " + st.term(c)
	case events.Commitment:
		what = render.Money(c.Amount) + " of " + c.What
	case events.Investment:
		committed, _ := c.Totals()
		what = render.Money(committed)
	default:
		what = c.What
	}
	return c.Grantor + " → " + c.Holder + ", " + what
}

func conflictCount(r *projections.ConflictReport) string {
	if len(r.Conflicts) == 0 {
		return "no conflicts"
	}
	return render.Plural(len(r.Conflicts), "conflict", "conflicts")
}

// verdict writes a rights check's answer: "yes", "no: amazon's" (whose
// exclusivity keeps the party out) or "no basis".
func verdict(c Check) string {
	switch c.Rights.Verdict {
	case projections.VerdictAllowed:
		return "yes"
	case projections.VerdictNoBasis:
		return "no basis"
	}
	var by []string
	for _, d := range c.Rights.Blocking {
		if h := d.Holder + "'s"; !slices.Contains(by, h) {
			by = append(by, h)
		}
	}
	slices.Sort(by)
	return "no: " + strings.Join(by, ", ")
}

func (st *Story) clauses(p *printer, s *projections.State) {
	if len(s.Clauses) == 0 {
		p.ln("     no clause in force")
	}
	for _, c := range s.Clauses {
		p.f("     %-24s %s\n", c.ID, render.Truncate(st.brief(c), 70))
	}
}

// printer writes lines and remembers the first error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) do(err error) {
	if p.err == nil {
		p.err = err
	}
}

func (p *printer) ln(args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintln(p.w, args...)
	}
}
