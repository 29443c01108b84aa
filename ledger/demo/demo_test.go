package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/seed"
	"github.com/agreement-ledger/ledger/ledger/demo"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
	"github.com/agreement-ledger/ledger/projections"
)

func allowed(st *demo.Story) []string {
	var out []string
	for _, c := range st.Serve {
		if c.Rights.Allowed {
			out = append(out, c.Party+"@"+events.FormatTime(c.At))
		}
	}
	return out
}

func ids(cs []*projections.ClauseState) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func conflictPairs(r *projections.ConflictReport) []string {
	var out []string
	for _, c := range r.Conflicts {
		out = append(out, c.Clauses[0].Clause+"/"+c.Clauses[1].Clause)
	}
	return out
}

// TestStory checks the answers to the questions of DESIGN §7.
func TestStory(t *testing.T) {
	l := ledgertest.New(t)
	st, err := demo.Run(context.Background(), l.Ledger)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Appended) != len(seed.Amendments()) {
		t.Errorf("recorded %d amendments", len(st.Appended))
	}
	if st.Agreement != "microsoft-openai" || st.Licence != "ip-license" {
		t.Fatalf("the story follows %s/%s", st.Agreement, st.Licence)
	}
	lic := st.LicenceAt
	if lic[0] == nil || !lic[0].Exclusive || lic[1] == nil || lic[1].Exclusive || lic[2] == nil || lic[3] != nil {
		t.Errorf("licence in March 2026, 2027, 2032, 2033: %v", lic)
	}
	if !slices.Contains(conflictPairs(st.Conflicts), "azure-api-exclusivity/frontier-exclusivity") || len(st.ConflictsLater.Conflicts) != 0 {
		t.Errorf("conflicts: %v, later %v", conflictPairs(st.Conflicts), conflictPairs(st.ConflictsLater))
	}
	for _, c := range st.Conflicts.Conflicts {
		if events.FormatTime(c.From) != seed.AmazonDeal || events.FormatTime(c.Until) != seed.Renegotiation {
			t.Errorf("conflict window %s until %s", c.From, c.Until)
		}
	}
	if got := allowed(st); !slices.Equal(got, []string{"amazon@2027-06-30"}) {
		t.Errorf("allowed to serve Frontier by API: %v", got)
	}
	if got := ids(st.Shares2027); !slices.Equal(got, []string{"openai-revenue-share"}) || len(st.Shares2031) != 0 {
		t.Errorf("revenue shares in 2027 %v, in 2031 %v", got, ids(st.Shares2031))
	} else if c := st.Shares2027[0].Cap; c == nil || !c.Undisclosed {
		t.Errorf("the cap is undisclosed: %v", c)
	}
	if got := ids(st.Believed.Clauses); !slices.Equal(got, []string{"ip-license", "azure-api-exclusivity", "microsoft-revenue-share", "openai-revenue-share"}) {
		t.Errorf("believed about 2031: %v", got)
	}
	if got := ids(st.Known.Clauses); slices.Contains(got, "azure-api-exclusivity") || !slices.Contains(got, "azure-commitment") {
		t.Errorf("known about 2031: %v", got)
	}
	if len(st.AGI) != 2 {
		t.Fatalf("counterfactuals: %d", len(st.AGI))
	}
	before, after := st.AGI[0], st.AGI[1]
	slices.Sort(before.Ends)
	if !slices.Equal(before.Ends, []string{"azure-api-exclusivity", "ip-license"}) || len(before.Invalidated) != 1 {
		t.Errorf("agi before the renegotiation: ends %v, invalidates %v", before.Ends, before.Invalidated)
	}
	if len(after.Ends) != 0 || len(after.Invalidated) != 0 {
		t.Errorf("agi after the renegotiation: ends %v, invalidates %v", after.Ends, after.Invalidated)
	}

	// 8. When may Amazon serve Frontier by API? From the renegotiation on;
	// as known before it was recorded, never after Azure's exclusivity
	// began. Before the partnership nothing gave it the right; from the
	// Amazon deal its own exclusivity did, but Azure's kept it out.
	for _, q := range []struct {
		av   *projections.Avails
		want []string
	}{
		{st.Avails, []string{"2019-01-01 2019-07-22 no_basis",
			"2019-07-22 " + seed.AmazonDeal + " denied azure-api-exclusivity",
			seed.AmazonDeal + " " + seed.Renegotiation + " denied azure-api-exclusivity basis frontier-exclusivity",
			seed.Renegotiation + " 2031-01-01 allowed frontier-exclusivity basis frontier-exclusivity"}},
		{st.AvailsBefore, []string{"2019-01-01 2019-07-22 no_basis",
			"2019-07-22 " + seed.AmazonDeal + " denied azure-api-exclusivity",
			seed.AmazonDeal + " 2031-01-01 denied azure-api-exclusivity basis frontier-exclusivity"}},
	} {
		var got []string
		for _, pa := range q.av.Parties {
			for _, a := range pa.Intervals {
				s := events.FormatTime(a.From) + " " + events.FormatTime(a.Until) + " " + string(a.Verdict)
				r := q.av.Rights(pa.Party, a)
				for _, d := range r.DecidedBy {
					s += " " + d.Clause
				}
				if len(r.Basis) > 0 {
					s += " basis"
				}
				for _, d := range r.Basis {
					s += " " + d.Clause
				}
				got = append(got, s)
			}
		}
		if len(q.av.Parties) != 1 || q.av.Parties[0].Party != "amazon" || !slices.Equal(got, q.want) {
			t.Errorf("when may amazon serve frontier by API, known at %s: %v, want %v", q.av.KnownAt, got, q.want)
		}
	}

	var b bytes.Buffer
	if err := st.Write(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if n := strings.Count(out, "\n"); n > 70 {
		t.Errorf("the story takes %d lines", n)
	}
	for _, want := range []string{seed.AmazonDeal + "*", "undisclosed (USD)", "yes", "would no longer apply",
		"from " + seed.Renegotiation + "*               yes: amazon holds frontier-exclusivity (openai-amazon)",
		"until 2019-07-22*              no: nothing on record gives amazon the right",
		"no: kept out by microsoft's azure-api-exclusivity (microsoft-openai); holds frontier-exclusivity (openai-amazon)"} {
		if !strings.Contains(out, want) {
			t.Errorf("the story lacks %q:\n%s", want, out)
		}
	}
	if _, err := json.Marshal(st); err != nil {
		t.Errorf("the story does not marshal: %v", err)
	}
}

// TestStoryIsAsked shows the answers come from the ledger: with one more
// agreement recorded first, the answers change.
func TestStoryIsAsked(t *testing.T) {
	l := ledgertest.New(t)
	l.Given(`{"agreement":"openai-google","effective":"2027-01-01","changes":[
		{"op":"open","title":"a made-up deal","parties":["openai","google"]},
		{"op":"add","clause":{"id":"frontier-gcp","kind":"exclusivity","grantor":"openai","holder":"google","scope":{"products":["frontier"]}}},
		{"op":"add","clause":{"id":"gcp-share","kind":"revenue_share","payer":"google","payee":"openai","rate":"0.1"}}]}`)
	st, err := demo.Run(context.Background(), l.Ledger)
	if err != nil {
		t.Fatal(err)
	}
	if len(allowed(st)) != 0 {
		t.Errorf("with Google's exclusivity over Frontier nobody may serve it by API in 2027: %v", allowed(st))
	}
	if !slices.Contains(conflictPairs(st.ConflictsLater), "frontier-exclusivity/frontier-gcp") {
		t.Errorf("conflicts in 2027: %v", conflictPairs(st.ConflictsLater))
	}
	if got := ids(st.Shares2031); !slices.Equal(got, []string{"gcp-share"}) {
		t.Errorf("revenue shares in 2031: %v", got)
	}
	var parties []string
	for _, c := range st.Serve {
		if !slices.Contains(parties, c.Party) {
			parties = append(parties, c.Party)
		}
	}
	if !slices.Contains(parties, "google") {
		t.Errorf("the rights checks do not ask about every party: %v", parties)
	}
}
