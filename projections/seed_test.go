package projections_test

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/seed"
	"github.com/agreement-ledger/ledger/projections"
)

// The questions of DESIGN §7, asked of the seed history. Every answer is read
// from the typed result or its JSON document, the forms the CLI and the HTTP
// API print.

const (
	msft   = "microsoft-openai"
	amzn   = "openai-amazon"
	renego = "01KQ7CZ1G0A84WKP9M7T9BM2EX" // the renegotiation amendment
)

func seedIndex(t *testing.T) *projections.Index {
	t.Helper()
	return index(t, seedRecords())
}

func TestSeedLicenceExclusivity(t *testing.T) {
	ix := seedIndex(t)
	tests := []struct {
		at        string
		exclusive bool
		endsOnAGI bool
	}{
		{"2019-07-22", true, true},
		{"2026-03-01", true, true},
		{"2026-04-26T23:59:59Z", true, true},
		{seed.Renegotiation, false, false},
		{"2026-05-01", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.at, func(t *testing.T) {
			s := state(t, ix, msft, tt.at, "")
			lic := get(t, parsed(t, s), "licenses", "id=ip-license")
			if got := get(t, lic, "exclusive"); got != tt.exclusive {
				t.Errorf("exclusive = %v, want %v", got, tt.exclusive)
			}
			c := s.Clause("ip-license")
			if c == nil || c.Kind != events.License {
				t.Fatalf("ip-license is not a licence in force: %+v", c)
			}
			endsOn := c.Term != nil && c.Term.EndsOn == "agi"
			if endsOn != tt.endsOnAGI {
				t.Errorf("ends on agi = %v, want %v (term %+v)", endsOn, tt.endsOnAGI, c.Term)
			}
			// its term starts when the partnership did, before and after the
			// renegotiation set an end without a start
			if got := get(t, lic, "start"); got != seed.Partnership {
				t.Errorf("start = %v, want %s", got, seed.Partnership)
			}
		})
	}
}

func TestSeedConflict(t *testing.T) {
	ix := seedIndex(t)
	r := ix.Conflicts(day(t, "2026-03-01"), time.Time{})
	if len(r.Conflicts) != 1 {
		t.Fatalf("got %d conflicts at 2026-03-01, want 1:\n%s", len(r.Conflicts), jsonText(t, r))
	}
	c := r.Conflicts[0]
	if c.Grantor != "openai" {
		t.Errorf("grantor = %s, want openai", c.Grantor)
	}
	if c.Scope == nil || !slices.Equal(c.Scope.Products, []string{"frontier"}) || !slices.Equal(c.Scope.Channels, []string{"api"}) ||
		c.Scope.Platforms != nil || c.Scope.Territories != nil {
		t.Errorf("scope = %v, want products=frontier channels=api", c.Scope)
	}
	if !c.From.Equal(day(t, seed.AmazonDeal)) || !c.Until.Equal(day(t, seed.Renegotiation)) {
		t.Errorf("window = [%s, %s), want [%s, %s)", c.From, c.Until, seed.AmazonDeal, seed.Renegotiation)
	}
	got := [2][2]string{{c.Clauses[0].Agreement, c.Clauses[0].Clause}, {c.Clauses[1].Agreement, c.Clauses[1].Clause}}
	want := [2][2]string{{msft, "azure-api-exclusivity"}, {amzn, "frontier-exclusivity"}}
	if got != want {
		t.Errorf("clauses = %v, want %v", got, want)
	}
	doc := parsed(t, r)
	if w := get(t, doc, "conflicts", 0, "until"); w != seed.Renegotiation {
		t.Errorf("JSON until = %v, want %s", w, seed.Renegotiation)
	}
	if h := get(t, doc, "conflicts", 0, "clauses", 1, "holder"); h != "amazon" {
		t.Errorf("JSON second holder = %v, want amazon", h)
	}

	for _, at := range []string{"2026-02-26", seed.Renegotiation, "2027-01-01"} {
		if r := ix.Conflicts(day(t, at), time.Time{}); len(r.Conflicts) != 0 {
			t.Errorf("conflicts at %s: %s", at, jsonText(t, r))
		}
	}
	// known before the renegotiation was recorded, the conflict had no end
	r = ix.Conflicts(day(t, "2027-01-01"), day(t, "2026-04-26"))
	if len(r.Conflicts) != 1 || !r.Conflicts[0].Until.IsZero() {
		t.Errorf("at 2027 known at 2026-04-26: want one open-ended conflict, got %s", jsonText(t, r))
	}
}

// TestSeedRights asks who may serve Frontier by API: the verdict, what
// gives each party the right (basis) and what keeps it out (blocking).
func TestSeedRights(t *testing.T) {
	ix := seedIndex(t)
	const azure, front, ip = msft + "/azure-api-exclusivity", amzn + "/frontier-exclusivity", msft + "/ip-license"
	const primary, first = msft + "/primary-cloud-partner", msft + "/ship-first-on-azure"
	tests := []struct {
		party, at       string
		verdict         projections.Verdict
		basis, blocking []string // agreement/clause
	}{
		{"amazon", "2026-03-15", projections.VerdictDenied, []string{front}, []string{azure}},
		{"microsoft", "2026-03-15", projections.VerdictDenied, []string{azure, ip}, []string{front}},
		// OpenAI granted them all (it owns what it granted), none sole
		{"openai", "2026-03-15", projections.VerdictDenied, []string{azure, ip, front}, []string{azure, front}},
		{"amazon", "2027-01-01", projections.VerdictAllowed, []string{front}, nil},
		{"microsoft", "2027-01-01", projections.VerdictDenied, []string{ip, primary, first}, []string{front}},
		{"openai", "2027-01-01", projections.VerdictDenied, []string{ip, primary, first, front}, []string{front}},
		// before Amazon's deal only Microsoft's API exclusivity stood
		{"microsoft", "2025-06-01", projections.VerdictAllowed, []string{azure, ip}, nil},
		{"amazon", "2025-06-01", projections.VerdictDenied, nil, []string{azure}},
		// before the partnership nothing was on record
		{"microsoft", "2019-01-01", projections.VerdictNoBasis, nil, nil},
	}
	ids := func(t *testing.T, ds []projections.Decision, binds bool) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.Agreement+"/"+d.Clause)
			if d.Binds != binds {
				t.Errorf("%s binds = %v, want %v", d.Clause, d.Binds, binds)
			}
			if d.Where.Scope == nil || !slices.Equal(d.Where.Products, []string{"frontier"}) || !slices.Equal(d.Where.Channels, []string{"api"}) {
				t.Errorf("%s applies where %v, want products=frontier channels=api", d.Clause, d.Where.Scope)
			}
		}
		return out
	}
	for _, tt := range tests {
		t.Run(tt.party+"@"+tt.at, func(t *testing.T) {
			r := ix.Check(projections.RightsQuery{Party: tt.party, At: day(t, tt.at),
				Scope: &events.Scope{Products: []string{"frontier"}, Channels: []string{"api"}}})
			if r.Verdict != tt.verdict || r.Allowed != (tt.verdict == projections.VerdictAllowed) {
				t.Errorf("verdict %s, allowed %v; want %s: %s", r.Verdict, r.Allowed, tt.verdict, jsonText(t, r))
			}
			if got := ids(t, r.Basis, false); !slices.Equal(got, tt.basis) {
				t.Errorf("basis %v, want %v", got, tt.basis)
			}
			if got := ids(t, r.Blocking, true); !slices.Equal(got, tt.blocking) {
				t.Errorf("blocking %v, want %v", got, tt.blocking)
			}
			doc := parsed(t, r)
			if get(t, doc, "allowed") != r.Allowed || get(t, doc, "verdict") != string(tt.verdict) {
				t.Errorf("JSON: %s", jsonText(t, r))
			}
		})
	}
	// Amazon may serve another product by API in March 2026 only if Azure's
	// exclusivity does not cover it: it covers every product.
	r := ix.Check(projections.RightsQuery{Party: "amazon", At: day(t, "2026-03-15"), Scope: &events.Scope{Products: []string{"chat"}, Channels: []string{"api"}}})
	if r.Verdict != projections.VerdictDenied {
		t.Errorf("amazon may serve chat by api in March 2026: %s", jsonText(t, r))
	}
	// Nothing keeps Amazon from chat on the web, and nothing gives it the
	// right: its exclusivity is Frontier's. Ignoring the basis, it may.
	chatWeb := projections.RightsQuery{Party: "amazon", At: day(t, "2026-03-15"), Scope: &events.Scope{Products: []string{"chat"}, Channels: []string{"web"}}}
	r = ix.Check(chatWeb)
	if r.Verdict != projections.VerdictNoBasis || r.Allowed || len(r.DecidedBy) != 0 {
		t.Errorf("amazon, chat on the web in March 2026: %s", jsonText(t, r))
	}
	chatWeb.IgnoreBasis = true
	if r := ix.Check(chatWeb); r.Verdict != projections.VerdictNoBasis || !r.Allowed || !r.IgnoreBasis {
		t.Errorf("amazon, chat on the web in March 2026, ignoring the basis: %s", jsonText(t, r))
	}
	golden(t, "check-openai-2027", ix.Check(projections.RightsQuery{Party: "openai", At: day(t, "2027-01-01"), Scope: frontierAPI}))
}

// revenueShares lists the revenue shares in force at a time across the
// seed's agreements, as JSON objects keyed by clause id.
func revenueShares(t *testing.T, ix *projections.Index, at, knownAt string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, a := range []string{msft, amzn} {
		for _, rs := range get(t, parsed(t, state(t, ix, a, at, knownAt)), "revenue_shares").([]any) {
			m := rs.(map[string]any)
			out[m["id"].(string)] = m
		}
	}
	return out
}

func TestSeedRevenueShares(t *testing.T) {
	ix := seedIndex(t)
	got := revenueShares(t, ix, "2027-01-01", "")
	if len(got) != 1 || got["openai-revenue-share"] == nil {
		t.Fatalf("revenue shares in force in 2027: %v, want only openai-revenue-share", slices.Sorted(maps.Keys(got)))
	}
	rs := got["openai-revenue-share"]
	if rs["payer"] != "openai" || rs["payee"] != "microsoft" {
		t.Errorf("payer/payee = %v/%v", rs["payer"], rs["payee"])
	}
	capRemaining, ok := rs["cap_remaining"].(map[string]any)
	if !ok || capRemaining["undisclosed"] != true || capRemaining["amount"] != nil {
		t.Errorf("cap_remaining = %v, want an undisclosed amount", rs["cap_remaining"])
	}
	if c, ok := rs["cap"].(map[string]any); !ok || c["undisclosed"] != true {
		t.Errorf("cap = %v, want undisclosed", rs["cap"])
	}
	if v, present := rs["accrued"]; !present || v != nil {
		t.Errorf("accrued = %v (present %v), want null", v, present)
	}
	if why, _ := rs["why"].(string); why == "" {
		t.Errorf("no why for the null accrued amount: %v", rs)
	}
	if rs["end"] != "2031-01-01" {
		t.Errorf("end = %v, want 2031-01-01 (runs through 2030)", rs["end"])
	}
	if got := revenueShares(t, ix, "2030-12-31", ""); len(got) != 1 {
		t.Errorf("revenue shares on the last day of 2030: %d, want 1", len(got))
	}
	if got := revenueShares(t, ix, "2031-01-01", ""); len(got) != 0 {
		t.Errorf("revenue shares in force in 2031: %v, want none", slices.Sorted(maps.Keys(got)))
	}
	if got := revenueShares(t, ix, "2031-06-01", ""); len(got) != 0 {
		t.Errorf("revenue shares in force in mid 2031: %v, want none", slices.Sorted(maps.Keys(got)))
	}
}

func TestSeedLicenceTerm(t *testing.T) {
	ix := seedIndex(t)
	for _, tt := range []struct {
		at      string
		inForce bool
	}{
		{"2032-01-01", true},
		{"2032-12-31T23:59:59Z", true},
		{"2033-01-01", false},
		{"2040-01-01", false},
	} {
		s := state(t, ix, msft, tt.at, "")
		if got := s.Clause("ip-license") != nil; got != tt.inForce {
			t.Errorf("ip-license in force at %s = %v, want %v", tt.at, got, tt.inForce)
		}
	}
}

func TestSeedKnownBeforeRenegotiation(t *testing.T) {
	ix := seedIndex(t)
	s := state(t, ix, msft, "2031-06-01", "2026-04-26")
	doc := parsed(t, s)
	if s.Version != 1 || get(t, doc, "known_at") != "2026-04-26" {
		t.Errorf("version %d, known_at %v: want version 1 as known at 2026-04-26", s.Version, get(t, doc, "known_at"))
	}
	want := []string{"azure-api-exclusivity", "ip-license", "microsoft-revenue-share", "openai-revenue-share"}
	if got := clauseIDs(s); !slices.Equal(got, want) {
		t.Fatalf("believed in force in 2031: %v, want %v", got, want)
	}
	if get(t, doc, "licenses", "id=ip-license", "exclusive") != true {
		t.Error("the licence was believed non-exclusive")
	}
	for _, id := range []string{"microsoft-revenue-share", "openai-revenue-share"} {
		rs := get(t, doc, "revenue_shares", "id="+id).(map[string]any)
		if _, capped := rs["cap"]; capped || rs["cap_remaining"] != nil {
			t.Errorf("%s: cap %v, cap_remaining %v: want uncapped", id, rs["cap"], rs["cap_remaining"])
		}
	}
	// and now, with everything known, that year looks different
	now := state(t, ix, msft, "2031-06-01", "")
	if got := clauseIDs(now); !slices.Equal(got, []string{"azure-commitment", "ip-license", "primary-cloud-partner", "ship-first-on-azure"}) {
		t.Errorf("in force in 2031: %v", got)
	}
	// as known at the moment it was recorded, the renegotiation counts
	if s := state(t, ix, msft, "2031-06-01", "2026-04-27T12:00:00Z"); s.Version != 2 || s.Clause("azure-api-exclusivity") != nil {
		t.Errorf("known at the renegotiation's recording: version %d, %v", s.Version, clauseIDs(s))
	}
}

func TestSeedAGICounterfactual(t *testing.T) {
	ix := seedIndex(t)
	tests := []struct {
		effective   string
		ended       []string
		invalidated []string
	}{
		{"2026-03-15", []string{"azure-api-exclusivity", "ip-license"}, []string{renego}},
		{"2026-06-01", []string{}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.effective, func(t *testing.T) {
			before := snapshot(t, ix, "2026-03-15", "2031-06-01")
			as := decode(t, 100, `{"agreement": "microsoft-openai", "effective": "`+tt.effective+`", "changes": [{"op": "declare", "condition": "agi"}]}`)
			pv, err := ix.WhatIf(as, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if len(pv.Effects) != 1 {
				t.Fatalf("%d effects, want 1", len(pv.Effects))
			}
			doc := parsed(t, pv)
			if got := ids(t, get(t, doc, "effects", 0, "diff", "ended")); !slices.Equal(got, tt.ended) {
				t.Errorf("agi declared %s ends %v, want %v", tt.effective, got, tt.ended)
			}
			if got := ids(t, get(t, doc, "effects", 0, "diff", "added")); len(got) != 0 {
				t.Errorf("agi declared %s adds %v", tt.effective, got)
			}
			got := []string{}
			for _, a := range pv.Invalidated {
				got = append(got, a.Amendment)
			}
			if !slices.Equal(got, tt.invalidated) {
				t.Errorf("invalidated %v, want %v", pv.Invalidated, tt.invalidated)
			}
			if len(pv.Conflicts) != 0 {
				t.Errorf("conflicts introduced: %v", pv.Conflicts)
			}
			if after := snapshot(t, ix, "2026-03-15", "2031-06-01"); after != before {
				t.Error("WhatIf changed the index")
			}
		})
	}
	// Before the renegotiation was recorded, a declaration in June would
	// still have ended both: they were believed to end on AGI.
	as := decode(t, 100, `{"agreement": "microsoft-openai", "effective": "2026-06-01", "changes": [{"op": "declare", "condition": "agi"}]}`)
	pv, err := ix.WhatIf(as, day(t, "2026-04-26"))
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(t, get(t, parsed(t, pv), "effects", 0, "diff", "ended")); !slices.Equal(got, []string{"azure-api-exclusivity", "ip-license"}) {
		t.Errorf("known at 2026-04-26, agi in June ends %v", got)
	}
}

// TestSeedGolden pins the full documents the seed's questions produce.
func TestSeedGolden(t *testing.T) {
	ix := seedIndex(t)
	for _, a := range []string{msft, amzn} {
		for _, at := range []string{"2025-01-01", "2026-03-01", "2026-05-01", "2031-06-01"} {
			golden(t, "state-"+a+"-"+at, state(t, ix, a, at, ""))
		}
		golden(t, "state-"+a+"-2031-06-01-known-2026-04-26", state(t, ix, a, "2031-06-01", "2026-04-26"))
	}
	golden(t, "conflicts-2026-03-01", ix.Conflicts(day(t, "2026-03-01"), time.Time{}))
	tl, err := ix.Timeline(msft, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "timeline-"+msft, tl)
	d, err := ix.Diff(msft, day(t, "2026-03-01"), day(t, "2026-05-01"), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "diff-"+msft+"-2026-03-01-2026-05-01", d)
	h, err := ix.History(msft)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "history-"+msft, h)
}
