package projections_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/projections"
)

func calendar(t testing.TB, ix *projections.Index, q projections.CalendarQuery) *projections.Calendar {
	t.Helper()
	c, err := ix.Calendar(q)
	if err != nil {
		t.Fatalf("Calendar(%+v): %v", q, err)
	}
	return c
}

// entryText writes entries compactly: "2026-04-27 microsoft-openai/azure-api-exclusivity ends end".
func entryText(es []projections.CalendarEntry) []string {
	out := []string{}
	for _, e := range es {
		s := events.FormatTime(e.At()) + " " + e.Agreement() + "/" + e.Clause() + " " + string(e.Kind())
		if e.Cause() != "" {
			s += " " + e.Cause()
		}
		for _, x := range []string{e.Condition(), e.Tranche()} {
			if x != "" {
				s += " " + x
			}
		}
		out = append(out, s)
	}
	return out
}

// TestCalendarSeed lists what falls due in the seed from 2026 to 2034: the
// Amazon deal's clauses, the renegotiation's ends and starts, OpenAI's
// revenue share ending with 2030 and the licence with 2032; standing: the
// AGI clauses while they stand, the conditional $35B, and a cap nobody can
// compute (rate and cap undisclosed).
func TestCalendarSeed(t *testing.T) {
	ix := seedIndex(t)
	c := calendar(t, ix, projections.CalendarQuery{From: day(t, "2026-01-01"), To: day(t, "2034-01-01")})
	want := []string{
		"2026-02-27 openai-amazon/amazon-investment starts add",
		"2026-02-27 openai-amazon/frontier-exclusivity starts add",
		"2026-02-27 openai-amazon/stateful-runtime starts add",
		"2026-04-27 microsoft-openai/azure-api-exclusivity ends end",
		"2026-04-27 microsoft-openai/azure-commitment starts add",
		"2026-04-27 microsoft-openai/microsoft-revenue-share ends end",
		"2026-04-27 microsoft-openai/primary-cloud-partner starts add",
		"2026-04-27 microsoft-openai/ship-first-on-azure starts add",
		"2031-01-01 microsoft-openai/openai-revenue-share ends term",
		"2033-01-01 microsoft-openai/ip-license ends term",
	}
	if got := entryText(c.Entries); !slices.Equal(got, want) {
		t.Errorf("entries:\n  got  %s\n  want %s", strings.Join(got, "\n       "), strings.Join(want, "\n       "))
	}
	wantStanding := []string{
		"2026-01-01 microsoft-openai/azure-api-exclusivity ends_on agi",
		"2026-01-01 microsoft-openai/ip-license ends_on agi",
		"2026-04-27 microsoft-openai/openai-revenue-share cap_unknown",
		"2026-02-27 openai-amazon/amazon-investment tranche_unfunded conditions not disclosed conditional",
	}
	if got := entryText(c.Standing); !slices.Equal(got, wantStanding) {
		t.Errorf("standing:\n  got  %s\n  want %s", strings.Join(got, "\n       "), strings.Join(wantStanding, "\n       "))
	}
	doc := parsed(t, c)
	if w := get(t, doc, "entries", 9, "what"); w != "the licence expires (its term ends)" {
		t.Errorf("what of the licence's end: %v", w)
	}
	if w := get(t, doc, "standing", 2, "why").(string); w != "the rate and the cap of openai-revenue-share are undisclosed" {
		t.Errorf("why the cap cannot be computed: %q", w)
	}
	golden(t, "calendar-2026-2034", c)

	// As known before the renegotiation was recorded: nothing of it, and
	// the AGI clauses stand throughout.
	c = calendar(t, ix, projections.CalendarQuery{From: day(t, "2026-01-01"), To: day(t, "2034-01-01"), KnownAt: day(t, "2026-04-26")})
	want = []string{
		"2026-02-27 openai-amazon/amazon-investment starts add",
		"2026-02-27 openai-amazon/frontier-exclusivity starts add",
		"2026-02-27 openai-amazon/stateful-runtime starts add",
	}
	if got := entryText(c.Entries); !slices.Equal(got, want) {
		t.Errorf("entries known at 2026-04-26: %v", got)
	}
	golden(t, "calendar-2026-2034-known-2026-04-26", c)

	// One agreement; one not recorded yet as known then.
	c = calendar(t, ix, projections.CalendarQuery{Agreement: amzn, From: day(t, "2026-01-01"), To: day(t, "2034-01-01")})
	if len(c.Entries) != 3 || len(c.Standing) != 1 {
		t.Errorf("openai-amazon's calendar: %v %v", entryText(c.Entries), entryText(c.Standing))
	}
	for _, q := range []projections.CalendarQuery{
		{Agreement: "nope", From: day(t, "2026-01-01"), To: day(t, "2027-01-01")},
		{Agreement: amzn, From: day(t, "2026-01-01"), To: day(t, "2027-01-01"), KnownAt: day(t, "2020-01-01")},
	} {
		if _, err := ix.Calendar(q); events.KindOf(err) != events.NotFound {
			t.Errorf("calendar of %s known at %s: %v, want not found", q.Agreement, q.KnownAt, err)
		}
	}
}

// TestCalendarCaps follows a capped revenue share report by report: the
// report that takes the accrued amount to 80 % of the cap, and the one that
// reaches it, are dated entries; a cap lowered by an amendment crosses too;
// an undisclosed rate makes the crossing a standing risk that says why.
func TestCalendarCaps(t *testing.T) {
	as := decode(t, 0, `[
		{"agreement": "r", "effective": "2027-01-01", "changes": [
			{"op": "open", "title": "R", "parties": ["payer", "payee"]},
			{"op": "add", "clause": {"id": "share", "kind": "revenue_share", "payer": "payer", "payee": "payee",
				"rate": "0.10", "cap": {"amount": "1000", "currency": "USD"}}},
			{"op": "add", "clause": {"id": "lowered", "kind": "revenue_share", "payer": "payer", "payee": "payee",
				"rate": "0.10", "cap": {"amount": "1000", "currency": "USD"}}},
			{"op": "add", "clause": {"id": "secret", "kind": "revenue_share", "payer": "payer", "payee": "payee",
				"rate": {"undisclosed": true}, "cap": {"amount": "1000", "currency": "USD"}}}]},
		{"agreement": "r", "effective": "2027-03-01", "changes": [
			{"op": "report", "clause": "share", "period": {"start": "2027-01-01", "end": "2027-03-01"}, "base": {"amount": "5000", "currency": "USD"}},
			{"op": "report", "clause": "lowered", "period": {"start": "2027-01-01", "end": "2027-03-01"}, "base": {"amount": "7000", "currency": "USD"}},
			{"op": "report", "clause": "secret", "period": {"start": "2027-01-01", "end": "2027-03-01"}, "base": {"amount": "7000", "currency": "USD"}}]},
		{"agreement": "r", "effective": "2027-06-01", "changes": [
			{"op": "report", "clause": "share", "period": {"start": "2027-03-01", "end": "2027-06-01"}, "base": {"amount": "3500", "currency": "USD"}}]},
		{"agreement": "r", "effective": "2027-09-01", "changes": [
			{"op": "amend", "clause": "lowered", "set": {"cap": {"amount": "800", "currency": "USD"}}}]},
		{"agreement": "r", "effective": "2027-12-01", "changes": [
			{"op": "report", "clause": "share", "period": {"start": "2027-06-01", "end": "2027-12-01"}, "base": {"amount": "9000", "currency": "USD"}}]}
	]`)
	ix := index(t, records(as, lag(time.Hour)))
	c := calendar(t, ix, projections.CalendarQuery{From: day(t, "2027-02-01"), To: day(t, "2028-01-01")})
	want := []string{
		"2027-06-01 r/share cap_80 report",      // 500 + 350 = 850 of 1000
		"2027-09-01 r/lowered cap_80 amend",     // 700 of a cap lowered to 800
		"2027-12-01 r/share cap_reached report", // 850 + 900, clamped at 1000
	}
	if got := entryText(c.Entries); !slices.Equal(got, want) {
		t.Errorf("entries:\n  got  %s\n  want %s", strings.Join(got, "\n       "), strings.Join(want, "\n       "))
	}
	for i, id := range []string{as[2].ID.String(), as[3].ID.String(), as[4].ID.String()} {
		if got := c.Entries[i].Amendment().String(); got != id {
			t.Errorf("entry %d is behind %s, want %s", i, got, id)
		}
	}
	if e := c.Entries[0]; e.Accrued().String() != "850 USD" || e.Remaining().String() != "150 USD" || e.Amount().String() != "1000 USD" ||
		e.What() != "accrued 850 USD reaches 80 % of the cap of 1000 USD (150 USD left)" {
		t.Errorf("the 80 %% entry: %s", jsonText(t, e))
	}
	if got := entryText(c.Standing); !slices.Equal(got, []string{"2027-02-01 r/secret cap_unknown"}) || c.Standing[0].Why() != "the rate of secret is undisclosed" {
		t.Errorf("standing: %v %s", got, jsonText(t, c.Standing))
	}
	// A window that starts after a crossing does not list it.
	c = calendar(t, ix, projections.CalendarQuery{From: day(t, "2027-06-02"), To: day(t, "2028-01-01")})
	if got := entryText(c.Entries); len(got) != 2 || !strings.Contains(got[1], "cap_reached") {
		t.Errorf("entries from 2027-06-02: %v", got)
	}
}

// TestCalendarUIDs: an entry's UID is the same whatever the window and
// whatever later amendments move its date to, so a calendar application
// updates the event; entries of different kinds or clauses differ.
func TestCalendarUIDs(t *testing.T) {
	ix := seedIndex(t)
	uids := func(ix *projections.Index, from, to string) map[string]string {
		out := map[string]string{}
		for _, e := range calendar(t, ix, projections.CalendarQuery{From: day(t, from), To: day(t, to)}).Entries {
			out[e.Agreement()+"/"+e.Clause()+" "+string(e.Kind())] = e.UID()
		}
		return out
	}
	all := uids(ix, "2026-01-01", "2040-01-01")
	seen := map[string]bool{}
	for k, u := range all {
		if seen[u] {
			t.Errorf("UID %s given twice (%s)", u, k)
		}
		seen[u] = true
		if !strings.HasSuffix(u, "@agreement-ledger") {
			t.Errorf("UID %s", u)
		}
	}
	for k, u := range uids(ix, "2033-01-01", "2034-01-01") {
		if all[k] != u {
			t.Errorf("%s: UID %s in a narrower window, %s in the wider", k, u, all[k])
		}
	}
	// The licence's end moved a year by a later amendment: same UID.
	recs := seedRecords()
	more := decode(t, 500, `{"agreement": "microsoft-openai", "effective": "2027-01-01", "changes": [{"op": "amend", "clause": "ip-license", "set": {"term": {"end": "2034-01-01"}}}]}`)
	recs = append(recs, records(more, lag(0))...)
	recs[len(recs)-1].Seq = uint64(len(recs))
	recs[len(recs)-1].Recorded = recs[len(recs)-2].Recorded.Add(time.Hour)
	moved := uids(index(t, recs), "2026-01-01", "2040-01-01")
	if k := "microsoft-openai/ip-license ends"; moved[k] != all[k] || moved[k] == "" {
		t.Errorf("the licence's end has UID %s after it moved, %s before", moved[k], all[k])
	}
	c := calendar(t, index(t, recs), projections.CalendarQuery{From: day(t, "2033-01-01"), To: day(t, "2035-01-01")})
	if got := entryText(c.Entries); !slices.Equal(got, []string{"2034-01-01 microsoft-openai/ip-license ends term"}) {
		t.Errorf("after the amendment: %v", got)
	}
}
