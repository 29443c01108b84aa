package projections_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/projections"
)

// rightsHistory: a studio licenses its films to net in the EU and the US,
// grants stream an exclusivity over series on the web, and tv a right to
// broadcast anything; the licence's agreement is closed in 2032, the close
// recorded in 2035.
const rightsHistory = `[
	{"agreement": "studio-net", "effective": "2030-01-01", "changes": [
		{"op": "open", "title": "Films", "parties": ["studio", "net"]},
		{"op": "add", "clause": {"id": "film-licence", "kind": "license", "licensor": "studio", "licensee": "net",
			"subject": "the film catalogue", "scope": {"products": ["film"], "territories": ["eu", "us"]}}}]},
	{"agreement": "studio-stream", "effective": "2030-01-01", "changes": [
		{"op": "open", "title": "Series", "parties": ["studio", "stream"]},
		{"op": "add", "clause": {"id": "series-web", "kind": "exclusivity", "grantor": "studio", "holder": "stream",
			"scope": {"products": ["series"], "channels": ["web"]}}}]},
	{"agreement": "studio-tv", "effective": "2030-01-01", "changes": [
		{"op": "open", "title": "Broadcast", "parties": ["studio", "tv"]},
		{"op": "add", "clause": {"id": "broadcast", "kind": "right", "grantor": "studio", "holder": "tv",
			"right": "broadcast", "scope": {"channels": ["tv"]}}}]},
	{"agreement": "studio-net", "effective": "2032-01-01", "changes": [{"op": "close"}]}
]`

// TestCheckBasis: a check is allowed by a basis (a licence, exclusivity or
// right the party holds or granted, covering all that is asked) with
// nothing blocking; denied by another's exclusivity, basis or not; and
// no_basis when nothing blocks and nothing gives the party the right.
// Ignoring the basis it is allowed unless denied, the rest the same.
func TestCheckBasis(t *testing.T) {
	ix := index(t, records(decode(t, 0, rightsHistory), at(t, "2030-01-01", "2030-01-01", "2030-01-01", "2035-01-01")))
	scope := func(product, channel, territory string) *events.Scope {
		s := &events.Scope{Products: []string{product}, Channels: []string{channel}}
		if territory != "" {
			s.Territories = []string{territory}
		}
		return s
	}
	const licence, series, broadcast = "studio-net/film-licence", "studio-stream/series-web", "studio-tv/broadcast"
	tests := []struct {
		name            string
		party           string
		scope           *events.Scope
		at, knownAt     string
		ignoreBasis     bool
		verdict         projections.Verdict
		allowed         bool
		basis, blocking []string
	}{
		{"allowed by a licence it holds", "net", scope("film", "web", "eu"), "2031-01-01", "", false,
			projections.VerdictAllowed, true, []string{licence}, nil},
		{"allowed by its own exclusivity", "stream", scope("series", "web", ""), "2031-01-01", "", false,
			projections.VerdictAllowed, true, []string{series}, nil},
		{"allowed by a right it holds", "tv", scope("film", "tv", "jp"), "2031-01-01", "", false,
			projections.VerdictAllowed, true, []string{broadcast}, nil},
		{"allowed as the owner: it licensed it", "studio", scope("film", "web", "us"), "2031-01-01", "", false,
			projections.VerdictAllowed, true, []string{licence}, nil},
		{"denied by another's exclusivity, with no basis", "net", scope("series", "web", "eu"), "2031-01-01", "", false,
			projections.VerdictDenied, false, nil, []string{series}},
		{"denied by the exclusivity it granted, which is also its basis", "studio", scope("series", "web", ""), "2031-01-01", "", false,
			projections.VerdictDenied, false, []string{series}, []string{series}},
		{"no basis once the party's agreement closed", "net", scope("film", "web", "eu"), "2033-01-01", "", false,
			projections.VerdictNoBasis, false, nil, nil},
		{"a basis as known before the close was recorded", "net", scope("film", "web", "eu"), "2033-01-01", "2034-01-01", false,
			projections.VerdictAllowed, true, []string{licence}, nil},
		{"no basis before anything was recorded", "net", scope("film", "web", "eu"), "2031-01-01", "2029-01-01", false,
			projections.VerdictNoBasis, false, nil, nil},
		{"no basis in a territory never granted", "net", scope("film", "web", "jp"), "2031-01-01", "", false,
			projections.VerdictNoBasis, false, nil, nil},
		{"no basis for any territory when it has two", "net", scope("film", "web", ""), "2031-01-01", "", false,
			projections.VerdictNoBasis, false, nil, nil},
		{"no basis for a party never named", "nobody", scope("film", "web", "eu"), "2031-01-01", "", false,
			projections.VerdictNoBasis, false, nil, nil},
		{"ignoring the basis: no basis, allowed", "net", scope("film", "web", "jp"), "2031-01-01", "", true,
			projections.VerdictNoBasis, true, nil, nil},
		{"ignoring the basis: denied all the same", "net", scope("series", "web", "eu"), "2031-01-01", "", true,
			projections.VerdictDenied, false, nil, []string{series}},
		{"ignoring the basis: allowed with a basis", "net", scope("film", "web", "eu"), "2031-01-01", "", true,
			projections.VerdictAllowed, true, []string{licence}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ix.Check(projections.RightsQuery{Party: tt.party, Scope: tt.scope, At: day(t, tt.at), KnownAt: day(t, tt.knownAt), IgnoreBasis: tt.ignoreBasis})
			if r.Verdict != tt.verdict || r.Allowed != tt.allowed || r.IgnoreBasis != tt.ignoreBasis {
				t.Errorf("verdict %s, allowed %v; want %s, %v: %s", r.Verdict, r.Allowed, tt.verdict, tt.allowed, jsonText(t, r))
			}
			if got := decisionIDs(r.Basis); got != strings.Join(tt.basis, ",") {
				t.Errorf("basis %s, want %s", got, strings.Join(tt.basis, ","))
			}
			if got := decisionIDs(r.Blocking); got != strings.Join(tt.blocking, ",") {
				t.Errorf("blocking %s, want %s", got, strings.Join(tt.blocking, ","))
			}
			want := map[projections.Verdict][]projections.Decision{projections.VerdictAllowed: r.Basis, projections.VerdictDenied: r.Blocking}[r.Verdict]
			if jsonText(t, r.DecidedBy) != jsonText(t, nonNil(want)) {
				t.Errorf("decided by %s", jsonText(t, r.DecidedBy))
			}
			for _, d := range r.Basis {
				if d.Binds || !slices.Contains([]string{d.Holder, d.Grantor}, tt.party) {
					t.Errorf("basis %s/%s: binds %v, held by %s, granted by %s", d.Agreement, d.Clause, d.Binds, d.Holder, d.Grantor)
				}
			}
			for _, d := range r.Blocking {
				if !d.Binds || d.Holder == tt.party {
					t.Errorf("blocking %s/%s: binds %v, held by %s", d.Agreement, d.Clause, d.Binds, d.Holder)
				}
			}
			doc := parsed(t, r)
			for _, k := range []string{"verdict", "allowed", "ignore_basis", "basis", "blocking", "decided_by"} {
				get(t, doc, k)
			}
			var back projections.Rights
			if err := back.UnmarshalJSON([]byte(jsonText(t, r))); err != nil || jsonText(t, back) != jsonText(t, r) {
				t.Errorf("read back: %v\n%s", err, jsonText(t, back))
			}
		})
	}
	golden(t, "check-studio-series", ix.Check(projections.RightsQuery{Party: "studio", Scope: scope("series", "web", ""), At: day(t, "2031-01-01")}))
}

func nonNil(ds []projections.Decision) []projections.Decision {
	if ds == nil {
		return []projections.Decision{}
	}
	return ds
}
