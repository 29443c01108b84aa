package projections_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/projections"
)

// Money in diffs and states: the reports a diff lists, the accrued amount,
// what remains under the cap and the funded total before and after, the
// amendment with which a share reached its cap, and what the cap cost
// (uncapped, capped_at). Each case is a history of agreement "acme"; a diff
// is summed up in one line per clause (see moneyLines), a state's share by
// capCost.

// moneyDiffQ asks for a diff, as known at known, and the money lines it
// should have (nil: none, and the diff says nothing changed unless empty
// is false).
type moneyDiffQ struct {
	from, to, known string
	want            []string
	notEmpty        bool // something other than money changed
}

// capQ asks for a revenue share's state and what its cap cost.
type capQ struct {
	clause, at, known string
	want              string
}

type moneyCase struct {
	name     string
	history  string
	recorded []string
	diffs    []moneyDiffQ
	caps     []capQ
}

// share is the opening amendment with a revenue share rs of rate 0.5 and a
// cap of 1000 USD.
const share = open + `,
	{"op": "add", "clause": {"id": "rs", "kind": "revenue_share", "payer": "beta", "payee": "acme", "rate": "0.5", "cap": {"amount": "1000", "currency": "USD"}}}]}`

func reportOf(effective, base string) string {
	return `{"agreement": "acme", "effective": "` + effective + `", "changes": [{"op": "report", "clause": "rs", "period": {"start": "2019-01-01", "end": "` + effective + `"}, "base": {"amount": "` + base + `", "currency": "USD"}}]}`
}

var moneyCases = []moneyCase{
	{
		name:    "cap reached mid-window, before the window, after it",
		history: `[` + share + `,` + reportOf("2021-01-01", "1200") + `,` + reportOf("2022-01-01", "1000") + `,` + reportOf("2023-01-01", "10") + `]`,
		diffs: []moneyDiffQ{
			{from: "2020-06-01", to: "2021-06-01", want: []string{"rs: reports [$2 2021-01-01 1200 USD]; accrued 0→600 (+600); remaining 1000→400 (-600)"}},
			{from: "2021-06-01", to: "2022-06-01", want: []string{"rs: reports [$3 2022-01-01 1000 USD]; accrued 600→1000 (+400); remaining 400→0 (-400); reached report $3 2022-01-01"}},
			{from: "2022-06-01", to: "2023-06-01", want: []string{"rs: reports [$4 2023-01-01 10 USD]; accrued 1000→1000 (+0); remaining 0→0 (+0)"}},
			{from: "2020-06-01", to: "2023-06-01", want: []string{"rs: reports [$2 2021-01-01 1200 USD, $3 2022-01-01 1000 USD, $4 2023-01-01 10 USD]; accrued 0→1000 (+1000); remaining 1000→0 (-1000); reached report $3 2022-01-01"}},
			{from: "2023-06-01", to: "2024-06-01"},
			// backwards: nothing is reported, the amounts go back
			{from: "2022-06-01", to: "2021-06-01", want: []string{"rs: reports []; accrued 1000→600 (-400); remaining 0→400 (+400)"}},
			// the report at the window's end counts, the one at its start does not
			{from: "2021-01-01", to: "2022-01-01", want: []string{"rs: reports [$3 2022-01-01 1000 USD]; accrued 600→1000 (+400); remaining 400→0 (-400); reached report $3 2022-01-01"}},
		},
		caps: []capQ{
			{clause: "rs", at: "2020-06-01", want: "uncapped 0 USD; capped_at null"},
			{clause: "rs", at: "2021-06-01", want: "uncapped 600 USD; capped_at null"},
			{clause: "rs", at: "2022-06-01", want: "uncapped 1100 USD; capped_at report $3 2022-01-01"},
			{clause: "rs", at: "2023-06-01", want: "uncapped 1105 USD; capped_at report $3 2022-01-01"},
		},
	},
	{
		name:    "a report exactly reaching the cap",
		history: `[` + share + `,` + reportOf("2021-01-01", "2000") + `]`,
		diffs: []moneyDiffQ{
			{from: "2020-06-01", to: "2021-06-01", want: []string{"rs: reports [$2 2021-01-01 2000 USD]; accrued 0→1000 (+1000); remaining 1000→0 (-1000); reached report $2 2021-01-01"}},
		},
		caps: []capQ{{clause: "rs", at: "2021-01-01", want: "uncapped 1000 USD; capped_at report $2 2021-01-01"}},
	},
	{
		name:    "a report overshooting the cap",
		history: `[` + share + `,` + reportOf("2021-01-01", "1999.99") + `,` + reportOf("2021-02-01", "4000.02") + `]`,
		diffs: []moneyDiffQ{
			{from: "2021-01-15", to: "2021-02-15", want: []string{"rs: reports [$3 2021-02-01 4000.02 USD]; accrued 999.995→1000 (+0.005); remaining 0.005→0 (-0.005); reached report $3 2021-02-01"}},
		},
		caps: []capQ{
			{clause: "rs", at: "2021-01-15", want: "uncapped 999.995 USD; capped_at null"},
			{clause: "rs", at: "2021-02-15", want: "uncapped 3000.005 USD; capped_at report $3 2021-02-01"},
		},
	},
	{
		name: "no cap, and two reports in one amendment",
		history: `[` + open + `,
			{"op": "add", "clause": {"id": "rs", "kind": "revenue_share", "payer": "beta", "payee": "acme", "rate": "0.15"}}]},
			{"agreement": "acme", "effective": "2021-01-01", "changes": [
				{"op": "report", "clause": "rs", "period": {"start": "2020-01-01", "end": "2020-07-01"}, "base": {"amount": "1234.56", "currency": "USD"}},
				{"op": "report", "clause": "rs", "period": {"start": "2020-07-01", "end": "2021-01-01"}, "base": {"amount": "0.01", "currency": "USD"}}]},
			` + reportOf("2021-04-01", "100") + `]`,
		diffs: []moneyDiffQ{
			// nothing reported before: accrued was not known (it has no currency)
			{from: "2020-06-01", to: "2021-02-01", want: []string{"rs: reports [$2 2021-01-01 1234.56 USD, $2 2021-01-01 0.01 USD]; accrued -→185.1855 (?)"}},
			{from: "2021-02-01", to: "2021-05-01", want: []string{"rs: reports [$3 2021-04-01 100 USD]; accrued 185.1855→200.1855 (+15)"}},
		},
		caps: []capQ{{clause: "rs", at: "2021-05-01", want: "no cap"}},
	},
	{
		name: "a share in force at the earlier time only, or the later one only",
		history: `[` + open + `,
			{"op": "add", "clause": {"id": "rs", "kind": "revenue_share", "payer": "beta", "payee": "acme", "rate": "0.5", "cap": {"amount": "1000", "currency": "USD"}, "term": {"start": "2020-03-01", "end": "2022-01-01"}}}]},
			` + reportOf("2021-01-01", "2400") + `]`,
		diffs: []moneyDiffQ{
			// it came in force in the window: what it reported since
			{from: "2020-02-01", to: "2021-06-01", notEmpty: true, want: []string{"rs: reports [$2 2021-01-01 2400 USD]; accrued -→1000 (?); remaining -→0 (?); reached report $2 2021-01-01"}},
			// backwards, from after its end: nothing was reported
			{from: "2022-06-01", to: "2021-06-01", notEmpty: true},
			// it ended in the window: the diff says so, and no money moved under a clause in force
			{from: "2021-06-01", to: "2022-06-01", notEmpty: true},
		},
	},
	{
		name: "a lowered cap is reached by the amendment that lowers it",
		history: `[` + share + `,` + reportOf("2021-01-01", "1600") + `,
			{"agreement": "acme", "effective": "2021-06-01", "changes": [{"op": "amend", "clause": "rs", "set": {"cap": {"amount": "500", "currency": "USD"}}}]},
			` + reportOf("2022-01-01", "100") + `]`,
		diffs: []moneyDiffQ{
			{from: "2021-03-01", to: "2021-07-01", notEmpty: true, want: []string{"rs: reports []; accrued 800→800 (+0); remaining 200→0 (-200); reached amend $3 2021-06-01"}},
			{from: "2021-07-01", to: "2022-06-01", want: []string{"rs: reports [$4 2022-01-01 100 USD]; accrued 800→800 (+0); remaining 0→0 (+0)"}},
		},
		caps: []capQ{
			{clause: "rs", at: "2021-03-01", want: "uncapped 800 USD; capped_at null"},
			{clause: "rs", at: "2022-06-01", want: "uncapped 850 USD; capped_at amend $3 2021-06-01"},
		},
	},
	{
		name: "a raised cap reached again names the later report",
		history: `[` + share + `,` + reportOf("2021-01-01", "3000") + `,
			{"agreement": "acme", "effective": "2021-06-01", "changes": [{"op": "amend", "clause": "rs", "set": {"cap": {"amount": "2000", "currency": "USD"}}}]},
			` + reportOf("2022-01-01", "2000") + `]`,
		diffs: []moneyDiffQ{
			{from: "2021-03-01", to: "2022-06-01", notEmpty: true, want: []string{"rs: reports [$4 2022-01-01 2000 USD]; accrued 1000→2000 (+1000); remaining 0→0 (+0); reached report $4 2022-01-01"}},
		},
		caps: []capQ{
			{clause: "rs", at: "2021-03-01", want: "uncapped 1500 USD; capped_at report $2 2021-01-01"},
			{clause: "rs", at: "2021-07-01", want: "uncapped 1500 USD; capped_at null"},
			{clause: "rs", at: "2022-06-01", want: "uncapped 2500 USD; capped_at report $4 2022-01-01"},
		},
	},
	{
		name: "an undisclosed cap: uncapped is known, accrued and capped_at are not",
		history: `[` + open + `,
			{"op": "add", "clause": {"id": "rs", "kind": "revenue_share", "payer": "beta", "payee": "acme", "rate": "0.1", "cap": {"undisclosed": true, "currency": "USD"}}}]},
			` + reportOf("2021-01-01", "100") + `]`,
		diffs: []moneyDiffQ{
			{from: "2020-06-01", to: "2021-06-01", want: []string{"rs: reports [$2 2021-01-01 100 USD]; accrued 0→- (?); remaining undisclosed→undisclosed (?)"}},
		},
		caps: []capQ{
			{clause: "rs", at: "2020-06-01", want: "uncapped 0 USD; capped_at null"},
			{clause: "rs", at: "2021-06-01", want: "uncapped 10 USD; capped_at null"},
		},
	},
	{
		name: "a cap made undisclosed after it cut: uncapped carries on, accrued is not known",
		history: `[` + share + `,` + reportOf("2021-01-01", "3000") + `,
			{"agreement": "acme", "effective": "2021-06-01", "changes": [{"op": "amend", "clause": "rs", "set": {"cap": {"undisclosed": true, "currency": "USD"}}}]},
			` + reportOf("2022-01-01", "100") + `]`,
		caps: []capQ{
			{clause: "rs", at: "2021-03-01", want: "uncapped 1500 USD; capped_at report $2 2021-01-01"},
			{clause: "rs", at: "2021-07-01", want: "uncapped 1500 USD; capped_at null"},
			{clause: "rs", at: "2022-06-01", want: "uncapped 1550 USD; capped_at null"},
		},
	},
	{
		name: "an undisclosed rate: neither is known",
		history: `[` + open + `,
			{"op": "add", "clause": {"id": "rs", "kind": "revenue_share", "payer": "beta", "payee": "acme", "rate": {"undisclosed": true}, "cap": {"amount": "50", "currency": "USD"}}}]},
			` + reportOf("2021-01-01", "100") + `]`,
		diffs: []moneyDiffQ{
			{from: "2020-06-01", to: "2021-06-01", want: []string{"rs: reports [$2 2021-01-01 100 USD]; accrued -→- (?)"}},
		},
		caps: []capQ{{clause: "rs", at: "2021-06-01", want: "uncapped -; capped_at null"}},
	},
	{
		name: "investments: tranches funded inside and outside the window",
		history: `[` + open + `,
			{"op": "add", "clause": {"id": "inv", "kind": "investment", "investor": "gamma", "investee": "acme", "tranches": [
				{"id": "a", "amount": {"amount": "100", "currency": "USD"}},
				{"id": "b", "amount": {"amount": "200.5", "currency": "USD"}, "condition": "milestone"},
				{"id": "c", "amount": {"amount": "50", "currency": "USD"}}]}}]},
			{"agreement": "acme", "effective": "2021-01-01", "changes": [{"op": "fund", "clause": "inv", "tranche": "a"}]},
			{"agreement": "acme", "effective": "2022-01-01", "changes": [{"op": "fund", "clause": "inv", "tranche": "b"}]}]`,
		diffs: []moneyDiffQ{
			{from: "2020-06-01", to: "2021-06-01", want: []string{"inv: funded [a 100 USD 2021-01-01]; total 0→100 (+100)"}},
			{from: "2021-06-01", to: "2022-06-01", want: []string{"inv: funded [b 200.5 USD 2022-01-01]; total 100→300.5 (+200.5)"}},
			{from: "2020-06-01", to: "2022-06-01", want: []string{"inv: funded [a 100 USD 2021-01-01, b 200.5 USD 2022-01-01]; total 0→300.5 (+300.5)"}},
			{from: "2022-06-01", to: "2023-06-01"},
			// in force only at the later time: what was funded by then
			{from: "2019-06-01", to: "2021-06-01", notEmpty: true, want: []string{"inv: funded [a 100 USD 2021-01-01]; total -→100 (?)"}},
		},
	},
	{
		name:     "retroactive reports: the diff is as known at one time",
		history:  `[` + share + `,` + reportOf("2021-01-01", "1200") + `,` + reportOf("2021-03-01", "2000") + `]`,
		recorded: []string{"2020-01-01T01:00:00Z", "2021-01-01T01:00:00Z", "2022-01-01T00:00:00Z"},
		diffs: []moneyDiffQ{
			{from: "2021-02-01", to: "2021-06-01", known: "2021-12-31"},
			{from: "2021-02-01", to: "2021-06-01", want: []string{"rs: reports [$3 2021-03-01 2000 USD]; accrued 600→1000 (+400); remaining 400→0 (-400); reached report $3 2021-03-01"}},
			{from: "2020-06-01", to: "2021-06-01", known: "2021-12-31", want: []string{"rs: reports [$2 2021-01-01 1200 USD]; accrued 0→600 (+600); remaining 1000→400 (-600)"}},
			{from: "2020-06-01", to: "2021-06-01", want: []string{"rs: reports [$2 2021-01-01 1200 USD, $3 2021-03-01 2000 USD]; accrued 0→1000 (+1000); remaining 1000→0 (-1000); reached report $3 2021-03-01"}},
		},
		caps: []capQ{
			{clause: "rs", at: "2021-06-01", known: "2021-12-31", want: "uncapped 600 USD; capped_at null"},
			{clause: "rs", at: "2021-06-01", want: "uncapped 1600 USD; capped_at report $3 2021-03-01"},
		},
	},
}

func TestMoney(t *testing.T) {
	for _, c := range moneyCases {
		t.Run(c.name, func(t *testing.T) {
			ix := buildCase(t, opCase{history: c.history, recorded: c.recorded})
			for _, q := range c.diffs {
				d, err := ix.Diff("acme", day(t, q.from), day(t, q.to), day(t, q.known))
				if err != nil {
					t.Fatal(err)
				}
				where := fmt.Sprintf("diff %s → %s known at %q", q.from, q.to, q.known)
				if got := moneyLines(d); !slices.Equal(got, q.want) {
					t.Errorf("%s:\n got %q\nwant %q", where, got, q.want)
				}
				if d.Empty() != (len(q.want) == 0 && !q.notEmpty) {
					t.Errorf("%s: Empty() = %v", where, d.Empty())
				}
				readBack(t, where, d)
			}
			for _, q := range c.caps {
				s := state(t, ix, "acme", q.at, q.known)
				if got := capCost(t, s, q.clause); got != q.want {
					t.Errorf("%s at %s known at %q: %s, want %s", q.clause, q.at, q.known, got, q.want)
				}
				readBack(t, "state at "+q.at, s)
			}
		})
	}
}

// moneyLines sums up a diff's money, a line per clause: a revenue share's
// reports (amendment, date, base), accrued, what remains under the cap and
// the cap reached; an investment's tranches funded and funded total.
// Amounts are "from→to (change)", "-" for none and "(?)" when the change
// is not known; amendments are "$n".
func moneyLines(d *projections.Diff) []string {
	var out []string
	for _, a := range d.Accruals {
		var rs []string
		for _, r := range a.Reports {
			rs = append(rs, fmt.Sprintf("%s %s %s", testN(r.Amendment), day0(r.At), r.Base.String()))
		}
		line := a.ID + ": reports [" + strings.Join(rs, ", ") + "]; accrued " + amounts(a.Accrued)
		if a.CapRemaining.From != nil || a.CapRemaining.To != nil || a.CapReached != nil {
			line += "; remaining " + amounts(a.CapRemaining)
		}
		if r := a.CapReached; r != nil {
			line += fmt.Sprintf("; reached %s %s %s", r.Op, testN(r.Amendment), day0(r.At))
		}
		out = append(out, line)
	}
	for _, f := range d.Funding {
		var ts []string
		for _, tr := range f.Tranches {
			ts = append(ts, fmt.Sprintf("%s %s %s", tr.ID, tr.Amount.String(), day0(tr.Funded)))
		}
		out = append(out, f.ID+": funded ["+strings.Join(ts, ", ")+"]; total "+amounts(f.Funded))
	}
	return out
}

func amounts(m projections.MoneyChange) string {
	num := func(m *events.Money) string {
		switch {
		case m == nil:
			return "-"
		case m.Undisclosed:
			return "undisclosed"
		}
		return m.Amount.String()
	}
	change := "(?)"
	if m.Change != nil {
		change = "(" + m.Change.String() + ")"
		if !m.Change.IsNegative() {
			change = "(+" + m.Change.String() + ")"
		}
	}
	return num(m.From) + "→" + num(m.To) + " " + change
}

// capCost sums up what a share's cap cost in its state: "uncapped 1100
// USD; capped_at report $3 2022-01-01", or "no cap" when the document has
// neither field.
func capCost(t *testing.T, s *projections.State, clause string) string {
	t.Helper()
	doc := get(t, parsed(t, s), "revenue_shares", "id="+clause).(map[string]any)
	_, hasU := doc["uncapped"]
	_, hasC := doc["capped_at"]
	c := s.Clause(clause)
	if hasU != c.HasCap() || hasC != c.HasCap() {
		t.Errorf("%s: uncapped and capped_at in the document: %v, %v; it has a cap: %v", clause, hasU, hasC, c.HasCap())
	}
	if !c.HasCap() {
		return "no cap"
	}
	out := "uncapped " + moneyText(c.Accrual.Uncapped) + "; capped_at "
	if r := c.Accrual.CappedAt; r != nil {
		return out + fmt.Sprintf("%s %s %s", r.Op, testN(r.Amendment), day0(r.At))
	}
	return out + "null"
}

func moneyText(m *events.Money) string {
	if m == nil {
		return "-"
	}
	return m.String()
}

// testN names the amendment of a test history with id s: "$n".
func testN(s string) string {
	if s == "" {
		return "new"
	}
	for n := 1; n <= 20; n++ {
		if testID(n).String() == s {
			return fmt.Sprintf("$%d", n)
		}
	}
	return s
}

// TestMoneyPreview: a dry run of a report shows what it would report,
// accrue and cap, and of a funding the tranche; the live view it is tried
// on answers as before.
func TestMoneyPreview(t *testing.T) {
	ix := buildCase(t, opCase{history: `[` + share + `,` + reportOf("2021-01-01", "1200") + `,` + reportOf("2022-01-01", "100") + `]`})
	before := snapshot(t, ix, "2021-06-01", "2022-06-01")
	for _, tt := range []struct {
		name, amendment string
		want            []string
	}{
		{"a report at the end", reportOf("2023-01-01", "1000"),
			[]string{"rs: reports [new 2023-01-01 1000 USD]; accrued 650→1000 (+350); remaining 350→0 (-350); reached report new 2023-01-01"}},
		// retroactive: the later report's total is clamped anew, but only
		// this one is reported
		{"a retroactive report", reportOf("2021-06-01", "1000"),
			[]string{"rs: reports [new 2021-06-01 1000 USD]; accrued 600→1000 (+400); remaining 400→0 (-400); reached report new 2021-06-01"}},
		{"an amendment lowering the cap", `{"agreement": "acme", "effective": "2021-06-01", "changes": [{"op": "amend", "clause": "rs", "set": {"cap": {"amount": "600", "currency": "USD"}}}]}`,
			[]string{"rs: reports []; accrued 600→600 (+0); remaining 400→0 (-400); reached amend new 2021-06-01"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			as, err := events.Decode([]byte(tt.amendment))
			if err != nil {
				t.Fatal(err)
			}
			pv, err := ix.Preview(as)
			if err != nil {
				t.Fatal(err)
			}
			if len(pv.Effects) != 1 {
				t.Fatalf("%d effects", len(pv.Effects))
			}
			if got := moneyLines(pv.Effects[0].Diff); !slices.Equal(got, tt.want) {
				t.Errorf("\n got %q\nwant %q", got, tt.want)
			}
			if after := snapshot(t, ix, "2021-06-01", "2022-06-01"); after != before {
				t.Errorf("the dry run changed the index")
			}
		})
	}
}

// TestMoneyGolden: the documents of a diff and a state with money in them.
func TestMoneyGolden(t *testing.T) {
	c := moneyCases[0]
	ix := buildCase(t, opCase{history: c.history})
	d, err := ix.Diff("acme", day(t, "2021-06-01"), day(t, "2022-06-01"), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "diff-money-2021-06-01-2022-06-01", d)
	golden(t, "state-money-2022-06-01", state(t, ix, "acme", "2022-06-01", ""))
	inv := moneyCases[slices.IndexFunc(moneyCases, func(c moneyCase) bool { return strings.HasPrefix(c.name, "investments") })]
	ix = buildCase(t, opCase{history: inv.history})
	d, err = ix.Diff("acme", day(t, "2020-06-01"), day(t, "2022-06-01"), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "diff-funding-2020-06-01-2022-06-01", d)
}
