package render_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger/render"
)

// moneyHistory is a deal with money moving under it: revenue reported
// under a capped share until the cap is reached (and past it), under an
// uncapped one, and an investment's tranches funded.
const moneyHistory = `[
{"agreement": "acme-initech", "effective": "2026-01-01", "summary": "Acme resells Initech models",
 "changes": [
  {"op": "open", "title": "Acme–Initech resale", "parties": ["acme", "initech"]},
  {"op": "add", "clause": {"id": "resale-share", "kind": "revenue_share", "payer": "acme", "payee": "initech",
    "rate": "0.30", "base": "resale revenue", "cap": {"amount": "10000000", "currency": "EUR"}}},
  {"op": "add", "clause": {"id": "support-share", "kind": "revenue_share", "payer": "initech", "payee": "acme",
    "rate": "0.05"}},
  {"op": "add", "clause": {"id": "initech-investment", "kind": "investment", "investor": "acme", "investee": "initech",
    "tranches": [{"id": "seed", "amount": {"amount": "2000000", "currency": "EUR"}},
                 {"id": "growth", "amount": {"amount": "8000000", "currency": "EUR"}, "condition": "first 1,000 customers"}]}}]},
{"agreement": "acme-initech", "effective": "2026-02-01", "summary": "seed tranche paid",
 "changes": [{"op": "fund", "clause": "initech-investment", "tranche": "seed"}]},
{"agreement": "acme-initech", "effective": "2026-04-01", "summary": "Q1 revenue",
 "changes": [{"op": "report", "clause": "resale-share", "period": {"start": "2026-01-01", "end": "2026-04-01"}, "base": {"amount": "12500000", "currency": "EUR"}},
             {"op": "report", "clause": "support-share", "period": {"start": "2026-01-01", "end": "2026-04-01"}, "base": {"amount": "400000.50", "currency": "EUR"}}]},
{"agreement": "acme-initech", "effective": "2026-07-01", "summary": "Q2 revenue",
 "changes": [{"op": "report", "clause": "resale-share", "period": {"start": "2026-04-01", "end": "2026-07-01"}, "base": {"amount": "30000000", "currency": "EUR"}}]},
{"agreement": "acme-initech", "effective": "2026-08-15", "summary": "growth tranche paid",
 "changes": [{"op": "fund", "clause": "initech-investment", "tranche": "growth"}]},
{"agreement": "acme-initech", "effective": "2026-10-01", "summary": "Q3 revenue",
 "changes": [{"op": "report", "clause": "resale-share", "period": {"start": "2026-07-01", "end": "2026-10-01"}, "base": {"amount": "5000000", "currency": "EUR"}}]}
]`

// TestMoneyGolden: a diff's money lines and a state's capped share, in
// text, are what they were: reports, accrued and cap remaining before and
// after with their change, the cap reached in the window, tranches funded,
// and what the cap cost.
func TestMoneyGolden(t *testing.T) {
	as, err := events.Decode([]byte(moneyHistory))
	if err != nil {
		t.Fatal(err)
	}
	ix := indexOf(t, as)
	for _, w := range []struct{ name, from, to string }{
		{"diff-money-2026-03-01-2026-09-01.txt", "2026-03-01", "2026-09-01"},
		{"diff-money-2026-09-01-2026-12-01.txt", "2026-09-01", "2026-12-01"},
	} {
		d, err := ix.Diff("acme-initech", at(t, w.from), at(t, w.to), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := render.Diff(&b, d); err != nil {
			t.Fatal(err)
		}
		golden(t, w.name, b.Bytes())
	}
	for _, when := range []string{"2026-05-01", "2026-12-01"} {
		s, err := ix.State("acme-initech", at(t, when), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := render.State(&b, s); err != nil {
			t.Fatal(err)
		}
		golden(t, "state-money-"+when+".txt", b.Bytes())
	}
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := events.ParseTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
