package projections_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/seed"
	"github.com/agreement-ledger/ledger/projections"
)

var frontierAPI = &events.Scope{Products: []string{"frontier"}, Channels: []string{"api"}}

// avails asks the index, failing the test on an error.
func avails(t testing.TB, ix *projections.Index, q projections.AvailsQuery) *projections.Avails {
	t.Helper()
	av, err := ix.Avails(q)
	if err != nil {
		t.Fatalf("Avails(%+v): %v", q, err)
	}
	return av
}

// intervalText writes a party's intervals compactly: "2019-07-22→2026-04-27
// denied by microsoft-openai/azure-api-exclusivity; basis
// microsoft-openai/ip-license", the basis said when it does not decide.
func intervalText(av *projections.Avails, p projections.PartyAvails) []string {
	var out []string
	for _, a := range p.Intervals {
		r := av.Rights(p.Party, a)
		s := fmt.Sprintf("%s→%s %s", events.FormatTime(a.From), events.FormatTime(a.Until), a.Verdict)
		if r.Verdict != a.Verdict {
			s += " (its answer: " + string(r.Verdict) + ")"
		}
		if len(r.DecidedBy) > 0 {
			s += " by " + decisionIDs(r.DecidedBy)
		}
		if r.Verdict == projections.VerdictDenied && len(r.Basis) > 0 {
			s += "; basis " + decisionIDs(r.Basis)
		}
		out = append(out, s)
	}
	return out
}

// decisionIDs writes "agreement/clause,…".
func decisionIDs(ds []projections.Decision) string {
	var ids []string
	for _, d := range ds {
		ids = append(ids, d.Agreement+"/"+d.Clause)
	}
	return strings.Join(ids, ",")
}

// TestAvailsSeed asks when each party may serve Frontier by API between
// 2019 and 2031. Before the partnership nothing on record gives anyone the
// right (no_basis). Amazon is kept out by Azure's API exclusivity until the
// renegotiation ends it, holding its own from the Amazon deal, and allowed
// by it from the renegotiation on; Microsoft may serve by its exclusivity
// and its licence until Amazon's exclusivity begins; OpenAI, which granted
// everything (owns it) but nothing sole, is kept out throughout.
func TestAvailsSeed(t *testing.T) {
	ix := seedIndex(t)
	const azure, front, ip = msft + "/azure-api-exclusivity", amzn + "/frontier-exclusivity", msft + "/ip-license"
	const rights = msft + "/primary-cloud-partner," + msft + "/ship-first-on-azure"
	tests := []struct {
		name    string
		knownAt string
		want    map[string][]string
	}{
		{"everything recorded", "", map[string][]string{
			"amazon": {
				"2019-01-01→2019-07-22 no_basis",
				"2019-07-22→2026-02-27 denied by " + azure,
				"2026-02-27→2026-04-27 denied by " + azure + "; basis " + front,
				"2026-04-27→2031-01-01 allowed by " + front},
			"microsoft": {
				"2019-01-01→2019-07-22 no_basis",
				"2019-07-22→2026-02-27 allowed by " + azure + "," + ip,
				"2026-02-27→2026-04-27 denied by " + front + "; basis " + azure + "," + ip,
				// the renegotiation amends the licence and adds two rights
				"2026-04-27→2031-01-01 denied by " + front + "; basis " + ip + "," + rights},
			"openai": {
				"2019-01-01→2019-07-22 no_basis",
				"2019-07-22→2026-02-27 denied by " + azure + "; basis " + azure + "," + ip,
				"2026-02-27→2026-04-27 denied by " + azure + "," + front + "; basis " + azure + "," + ip + "," + front,
				"2026-04-27→2031-01-01 denied by " + front + "; basis " + ip + "," + rights + "," + front},
		}},
		// Before the renegotiation was recorded, Azure's exclusivity had no
		// end: Amazon was believed kept out throughout.
		{"known before the renegotiation", "2026-04-26", map[string][]string{
			"amazon": {
				"2019-01-01→2019-07-22 no_basis",
				"2019-07-22→2026-02-27 denied by " + azure,
				"2026-02-27→2031-01-01 denied by " + azure + "; basis " + front},
			"microsoft": {
				"2019-01-01→2019-07-22 no_basis",
				"2019-07-22→2026-02-27 allowed by " + azure + "," + ip,
				"2026-02-27→2031-01-01 denied by " + front + "; basis " + azure + "," + ip},
			"openai": {
				"2019-01-01→2019-07-22 no_basis",
				"2019-07-22→2026-02-27 denied by " + azure + "; basis " + azure + "," + ip,
				"2026-02-27→2031-01-01 denied by " + azure + "," + front + "; basis " + azure + "," + ip + "," + front},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			av := avails(t, ix, projections.AvailsQuery{Scope: frontierAPI, From: day(t, "2019-01-01"), To: day(t, "2031-01-01"), KnownAt: day(t, tt.knownAt)})
			var names []string
			for _, p := range av.Parties {
				names = append(names, p.Party)
				if got := intervalText(av, p); !slices.Equal(got, tt.want[p.Party]) {
					t.Errorf("%s:\n  got  %s\n  want %s", p.Party, strings.Join(got, "\n       "), strings.Join(tt.want[p.Party], "\n       "))
				}
			}
			if !slices.Equal(names, []string{"amazon", "microsoft", "openai"}) {
				t.Errorf("parties %v, want amazon, microsoft, openai", names)
			}
		})
	}
	golden(t, "avails-frontier-api", avails(t, ix, projections.AvailsQuery{Scope: frontierAPI, From: day(t, "2019-01-01"), To: day(t, "2031-01-01")}))
	golden(t, "avails-frontier-api-known-2026-04-26", avails(t, ix, projections.AvailsQuery{Scope: frontierAPI, From: day(t, "2019-01-01"), To: day(t, "2031-01-01"), KnownAt: day(t, "2026-04-26")}))

	// One party only; and a scope no exclusivity covers: no one is kept
	// from any product on the web. Microsoft's exclusive licence of
	// OpenAI's IP (until the renegotiation) names its two parties and keeps
	// no one out (a licence of IP is not a right to serve), but it is their
	// basis: Microsoft holds it, OpenAI granted it. Acme has none.
	av := avails(t, ix, projections.AvailsQuery{Scope: frontierAPI, Party: "amazon", From: day(t, seed.AmazonDeal), To: day(t, "2027-01-01")})
	if len(av.Parties) != 1 || av.Parties[0].Party != "amazon" {
		t.Fatalf("parties of a query for amazon: %+v", av.Parties)
	}
	if got := intervalText(av, av.Parties[0]); !slices.Equal(got, []string{"2026-02-27→2026-04-27 denied by " + azure + "; basis " + front, "2026-04-27→2027-01-01 allowed by " + front}) {
		t.Errorf("amazon from the Amazon deal: %v", got)
	}
	chatWeb := &events.Scope{Products: []string{"chat"}, Channels: []string{"web"}}
	av = avails(t, ix, projections.AvailsQuery{Scope: chatWeb, From: day(t, "2019-01-01"), To: day(t, "2031-01-01")})
	for _, p := range av.Parties {
		want := []string{"2019-01-01→2019-07-22 no_basis", "2019-07-22→2026-04-27 allowed by " + ip, "2026-04-27→2031-01-01 allowed by " + ip + "," + rights}
		if got := intervalText(av, p); !slices.Equal(got, want) {
			t.Errorf("%s, chat on the web:\n  got  %v\n  want %v", p.Party, got, want)
		}
	}
	if len(av.Parties) != 2 || av.Parties[0].Party != "microsoft" || av.Parties[1].Party != "openai" {
		t.Errorf("parties named for chat on the web: %+v", av.Parties)
	}
	for _, ignore := range []bool{false, true} {
		av = avails(t, ix, projections.AvailsQuery{Scope: chatWeb, Party: "acme", From: day(t, "2019-01-01"), To: day(t, "2031-01-01"), IgnoreBasis: ignore})
		if got := intervalText(av, av.Parties[0]); !slices.Equal(got, []string{"2019-01-01→2031-01-01 no_basis"}) {
			t.Errorf("acme, chat on the web: %v", got)
		}
		// Ignoring the basis asks only whether someone's exclusivity is in
		// the way: the same intervals and verdicts, allowed unless denied.
		if r := av.Rights("acme", av.Parties[0].Intervals[0]); r.Allowed != ignore || r.IgnoreBasis != ignore {
			t.Errorf("acme, chat on the web, ignoring the basis %v: %s", ignore, jsonText(t, r))
		}
	}
	av = avails(t, ix, projections.AvailsQuery{Scope: frontierAPI, From: day(t, "2019-01-01"), To: day(t, "2031-01-01"), IgnoreBasis: true})
	for _, p := range av.Parties {
		for _, a := range p.Intervals {
			if r := av.Rights(p.Party, a); r.Allowed != (a.Verdict != projections.VerdictDenied) {
				t.Errorf("%s ignoring the basis: %s allowed %v", p.Party, a.Verdict, r.Allowed)
			}
		}
	}
	golden(t, "avails-frontier-api-ignore-basis", av)
}

// TestAvailsRules covers what the seed does not: a sole grant leaves its
// grantor free, a party's own exclusivity coming in force while another
// keeps it out gives it a basis but does not lift the denial, an amended
// scope that stops covering the query ends a denial and a basis, and a
// grantor has a basis in what it grants.
func TestAvailsRules(t *testing.T) {
	as := decode(t, 0, `[
		{"agreement": "a", "effective": "2030-01-01", "changes": [
			{"op": "open", "title": "A", "parties": ["studio", "net", "stream"]},
			{"op": "add", "clause": {"id": "sole", "kind": "exclusivity", "grantor": "studio", "holder": "net", "sole": true,
				"scope": {"products": ["film"], "channels": ["tv"]}, "term": {"end": "2032-01-01"}}}]},
		{"agreement": "a", "effective": "2031-01-01", "changes": [
			{"op": "add", "clause": {"id": "stream-excl", "kind": "exclusivity", "grantor": "studio", "holder": "stream",
				"scope": {"channels": ["tv", "web"]}}}]},
		{"agreement": "a", "effective": "2033-01-01", "changes": [
			{"op": "amend", "clause": "stream-excl", "set": {"scope": {"channels": ["web"]}}}]}
	]`)
	ix := index(t, records(as, lag(time.Hour)))
	av := avails(t, ix, projections.AvailsQuery{Scope: &events.Scope{Products: []string{"film"}, Channels: []string{"tv"}}, From: day(t, "2029-01-01"), To: day(t, "2035-01-01")})
	want := map[string][]string{
		"net": {
			"2029-01-01→2030-01-01 no_basis",
			"2030-01-01→2031-01-01 allowed by a/sole",
			// stream's exclusivity keeps net out, its own or not
			"2031-01-01→2032-01-01 denied by a/stream-excl; basis a/sole",
			"2032-01-01→2033-01-01 denied by a/stream-excl",
			"2033-01-01→2035-01-01 no_basis"},
		"stream": {
			"2029-01-01→2030-01-01 no_basis",
			// net's sole exclusivity keeps stream out, also once stream's own begins
			"2030-01-01→2031-01-01 denied by a/sole",
			"2031-01-01→2032-01-01 denied by a/sole; basis a/stream-excl",
			"2032-01-01→2033-01-01 allowed by a/stream-excl",
			// amended to the web only, it no longer covers TV
			"2033-01-01→2035-01-01 no_basis"},
		"studio": {
			"2029-01-01→2030-01-01 no_basis",
			// a sole grant does not bind its grantor, and is its basis
			"2030-01-01→2031-01-01 allowed by a/sole",
			"2031-01-01→2032-01-01 denied by a/stream-excl; basis a/sole,a/stream-excl",
			"2032-01-01→2033-01-01 denied by a/stream-excl; basis a/stream-excl",
			"2033-01-01→2035-01-01 no_basis"},
	}
	if len(av.Parties) != len(want) {
		t.Errorf("parties: %+v", av.Parties)
	}
	for _, p := range av.Parties {
		if got := intervalText(av, p); !slices.Equal(got, want[p.Party]) {
			t.Errorf("%s:\n  got  %s\n  want %s", p.Party, strings.Join(got, "\n       "), strings.Join(want[p.Party], "\n       "))
		}
	}
	if a, ok := av.At("net", day(t, "2032-06-01")); !ok || !a.From.Equal(day(t, "2032-01-01")) || !a.Until.Equal(day(t, "2033-01-01")) {
		t.Errorf("net's interval at 2032-06-01: %+v %v", a, ok)
	}
	if _, ok := av.At("net", day(t, "2035-01-01")); ok {
		t.Error("an interval holds the window's end")
	}
	if _, ok := av.At("nobody", day(t, "2031-01-01")); ok {
		t.Error("an interval of a party not in the answer")
	}

	// What stream holds exclusively, on TV or anywhere.
	for _, tt := range []struct {
		scope *events.Scope
		want  []string
	}{
		{nil, []string{"2029-01-01→2031-01-01", "2031-01-01→2033-01-01 a/stream-excl channels=tv,web", "2033-01-01→2035-01-01 a/stream-excl channels=web"}},
		{&events.Scope{Channels: []string{"tv"}}, []string{"2029-01-01→2031-01-01", "2031-01-01→2033-01-01 a/stream-excl channels=tv", "2033-01-01→2035-01-01"}},
	} {
		h, err := ix.Holdings(projections.HoldingsQuery{Holder: "stream", Scope: tt.scope, From: day(t, "2029-01-01"), To: day(t, "2035-01-01")})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, iv := range h.Intervals {
			s := events.FormatTime(iv.From) + "→" + events.FormatTime(iv.Until)
			for _, x := range iv.Holds {
				s += " " + x.Agreement + "/" + x.Clause + " " + x.Where.Scope.String()
			}
			got = append(got, s)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("stream holds, within %v:\n  got  %v\n  want %v", tt.scope, got, tt.want)
		}
	}
}

func TestAvailsHoldingsSeed(t *testing.T) {
	ix := seedIndex(t)
	for _, holder := range []string{"microsoft", "amazon"} {
		h, err := ix.Holdings(projections.HoldingsQuery{Holder: holder, From: day(t, "2019-01-01"), To: day(t, "2031-01-01")})
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "holdings-"+holder, h)
	}
	// Known before the renegotiation, Microsoft's holdings had no end.
	h, err := ix.Holdings(projections.HoldingsQuery{Holder: "microsoft", From: day(t, "2019-01-01"), To: day(t, "2031-01-01"), KnownAt: day(t, "2026-04-26")})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(h.Intervals); n != 2 || len(h.Intervals[1].Holds) != 2 || !h.Intervals[1].Until.Equal(day(t, "2031-01-01")) {
		t.Errorf("microsoft as known at 2026-04-26: %s", jsonText(t, h))
	}
}

func TestAvailsEmptyWindow(t *testing.T) {
	ix := seedIndex(t)
	for _, w := range [][2]string{{"2027-01-01", "2027-01-01"}, {"2027-01-01", "2026-01-01"}} {
		_, err := ix.Avails(projections.AvailsQuery{Scope: frontierAPI, From: day(t, w[0]), To: day(t, w[1])})
		var e *events.Error
		if !errors.As(err, &e) || e.Kind != events.Invalid || e.Field() != "to" {
			t.Errorf("avails over [%s, %s): %v, want an invalid-input error naming to", w[0], w[1], err)
		}
		_, err = ix.Holdings(projections.HoldingsQuery{Holder: "amazon", From: day(t, w[0]), To: day(t, w[1])})
		if events.KindOf(err) != events.Invalid {
			t.Errorf("holdings over [%s, %s): %v", w[0], w[1], err)
		}
		_, err = ix.Calendar(projections.CalendarQuery{From: day(t, w[0]), To: day(t, w[1])})
		if events.KindOf(err) != events.Invalid {
			t.Errorf("calendar over [%s, %s): %v", w[0], w[1], err)
		}
	}
}
