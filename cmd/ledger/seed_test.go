package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/agreement-ledger/ledger/events/seed"
)

// The JSON documents of the command, as far as the tests read them. The
// names are the contract (DESIGN §6; the HTTP API returns the same).

type appendDoc struct {
	Appended []struct {
		ID        string `json:"id"`
		Agreement string `json:"agreement"`
		Version   uint64 `json:"version"`
		Duplicate bool   `json:"duplicate"`
	} `json:"appended"`
	Conflicts []conflictDoc `json:"conflicts"`
}

type partyDoc struct {
	Agreement string `json:"agreement"`
	Clause    string `json:"clause"`
	Holder    string `json:"holder"`
}

type conflictDoc struct {
	Grantor string              `json:"grantor"`
	Scope   map[string][]string `json:"scope"`
	From    string              `json:"from"`
	Until   *string             `json:"until"`
	Clauses []partyDoc          `json:"clauses"`
}

type conflictsDoc struct {
	At        string        `json:"at"`
	KnownAt   *string       `json:"known_at"`
	Conflicts []conflictDoc `json:"conflicts"`
}

type clauseDoc struct {
	ID           string         `json:"id"`
	Kind         string         `json:"kind"`
	Exclusive    *bool          `json:"exclusive"`
	Cap          map[string]any `json:"cap"`
	Term         map[string]any `json:"term"`
	End          *string        `json:"end"`
	Accrued      map[string]any `json:"accrued"`
	CapRemaining map[string]any `json:"cap_remaining"`
	Why          string         `json:"why"`
}

type stateDoc struct {
	Agreement     string      `json:"agreement"`
	At            string      `json:"at"`
	KnownAt       *string     `json:"known_at"`
	Status        string      `json:"status"`
	Parties       []string    `json:"parties"`
	Licenses      []clauseDoc `json:"licenses"`
	Exclusivities []clauseDoc `json:"exclusivities"`
	RevenueShares []clauseDoc `json:"revenue_shares"`
	Commitments   []clauseDoc `json:"commitments"`
	Investments   []clauseDoc `json:"investments"`
	Rights        []clauseDoc `json:"rights"`
	Obligations   []clauseDoc `json:"obligations"`
}

type checkDoc struct {
	Verdict     string     `json:"verdict"`
	Allowed     bool       `json:"allowed"`
	IgnoreBasis bool       `json:"ignore_basis"`
	Basis       []partyDoc `json:"basis"`
	Blocking    []partyDoc `json:"blocking"`
	DecidedBy   []partyDoc `json:"decided_by"`
}

type historyDoc struct {
	Agreement  string `json:"agreement"`
	Amendments []struct {
		ID        string `json:"id"`
		Version   uint64 `json:"version"`
		Recorded  string `json:"recorded"`
		Effective string `json:"effective"`
		Summary   string `json:"summary"`
	} `json:"amendments"`
}

type previewDoc struct {
	Effects []struct {
		Agreement string `json:"agreement"`
		Diff      struct {
			Ended []clauseDoc `json:"ended"`
		} `json:"diff"`
	} `json:"effects"`
	Invalidated []struct {
		Amendment string `json:"amendment"`
		Problem   string `json:"problem"`
	} `json:"invalidated"`
}

// keys checks that a JSON object has every one of names at its top level.
func keys(t *testing.T, doc string, names ...string) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, doc)
	}
	for _, n := range names {
		if _, ok := m[n]; !ok {
			t.Errorf("the document has no %q: %s", n, doc)
		}
	}
}

func ids(cs []clauseDoc) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func clause(cs []clauseDoc, id string) *clauseDoc {
	for i := range cs {
		if cs[i].ID == id {
			return &cs[i]
		}
	}
	return nil
}

// splitSeed returns the seed history before the renegotiation as JSON
// Lines, and the renegotiation as one object.
func splitSeed(t *testing.T) (before []byte, renegotiation []byte) {
	t.Helper()
	var items []json.RawMessage
	if err := json.Unmarshal(seed.JSON, &items); err != nil {
		t.Fatal(err)
	}
	var lines bytes.Buffer
	for _, raw := range items {
		var head struct {
			Effective string `json:"effective"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			t.Fatal(err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, raw); err != nil {
			t.Fatal(err)
		}
		if head.Effective == seed.Renegotiation {
			renegotiation = compact.Bytes()
			continue
		}
		lines.Write(compact.Bytes())
		lines.WriteByte('\n')
	}
	if renegotiation == nil || lines.Len() == 0 {
		t.Fatalf("the seed has no renegotiation effective %s, or nothing before it", seed.Renegotiation)
	}
	return lines.Bytes(), renegotiation
}

func hasConflict(cs []conflictDoc, a, b string) *conflictDoc {
	for i, c := range cs {
		got := []string{c.Clauses[0].Clause, c.Clauses[1].Clause}
		if slices.Contains(got, a) && slices.Contains(got, b) {
			return &cs[i]
		}
	}
	return nil
}

// TestSeedHistory records the seed as a user would — the history before
// the renegotiation from a JSON Lines file, the renegotiation from standard
// input — and asks each question of DESIGN §7 with -o json.
func TestSeedHistory(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	before, reneg := splitSeed(t)
	file := s.file("before.jsonl", before)

	var first appendDoc
	r := s.json(&first, 0, "append", file)
	keys(t, r.stdout, "appended", "conflicts")
	if len(first.Appended) != bytes.Count(before, []byte("\n")) {
		t.Fatalf("appended %d amendments, want one per line: %s", len(first.Appended), r)
	}
	if c := hasConflict(first.Conflicts, "azure-api-exclusivity", "frontier-exclusivity"); c == nil {
		t.Errorf("the Amazon deal should introduce the conflict over Frontier: %s", r.stdout)
	} else if c.From != seed.AmazonDeal || c.Until != nil {
		t.Errorf("as recorded before the renegotiation, the conflict runs from %s, open-ended; got %s until %v", seed.AmazonDeal, c.From, c.Until)
	}
	var hist historyDoc
	r = s.json(&hist, 0, "history", "openai-amazon")
	keys(t, r.stdout, "agreement", "amendments")
	if len(hist.Amendments) != 1 || hist.Amendments[0].Recorded == "" {
		t.Fatalf("history of openai-amazon: %s", r)
	}
	knownBefore := hist.Amendments[0].Recorded

	var second appendDoc
	r = s.runIn(0, string(reneg), "append", "-o", "json") // from standard input
	if err := json.Unmarshal([]byte(r.stdout), &second); err != nil {
		t.Fatal(err)
	}
	if len(second.Appended) != 1 || second.Appended[0].Agreement != "microsoft-openai" || second.Appended[0].Version != 2 {
		t.Fatalf("the renegotiation should be version 2 of microsoft-openai: %s", r)
	}
	if len(second.Conflicts) != 0 {
		t.Errorf("the renegotiation introduces no conflict: %s", r.stdout)
	}

	state := func(agreement, at string, extra ...string) stateDoc {
		t.Helper()
		var st stateDoc
		r := s.json(&st, 0, append([]string{"state", agreement, "--at", at}, extra...)...)
		keys(t, r.stdout, "agreement", "at", "known_at", "status", "parties", "licenses", "exclusivities",
			"revenue_shares", "commitments", "investments", "rights", "obligations")
		if st.Agreement != agreement || st.At != at {
			t.Fatalf("state of %s at %s answered for %s at %s", agreement, at, st.Agreement, st.At)
		}
		return st
	}

	t.Run("licence exclusive before, non-exclusive after", func(t *testing.T) {
		for _, q := range []struct {
			at        string
			exclusive bool
		}{{"2026-03-15", true}, {"2027-06-30", false}} {
			st := state("microsoft-openai", q.at)
			if len(st.Licenses) != 1 || st.Licenses[0].Exclusive == nil {
				t.Fatalf("at %s: licences %v", q.at, ids(st.Licenses))
			}
			if *st.Licenses[0].Exclusive != q.exclusive {
				t.Errorf("at %s the licence is exclusive=%v, want %v", q.at, *st.Licenses[0].Exclusive, q.exclusive)
			}
		}
	})

	t.Run("the conflict and its window", func(t *testing.T) {
		var cr conflictsDoc
		r := s.json(&cr, 0, "conflicts", "--at", "2026-03-15")
		keys(t, r.stdout, "at", "known_at", "conflicts")
		c := hasConflict(cr.Conflicts, "azure-api-exclusivity", "frontier-exclusivity")
		if c == nil {
			t.Fatalf("no conflict between the two exclusivities in March 2026: %s", r.stdout)
		}
		if c.Grantor != "openai" || c.From != seed.AmazonDeal || c.Until == nil || *c.Until != seed.Renegotiation {
			t.Errorf("conflict: grantor %s, window %s until %v; want openai, %s until %s", c.Grantor, c.From, c.Until, seed.AmazonDeal, seed.Renegotiation)
		}
		if !slices.Equal(c.Scope["products"], []string{"frontier"}) || !slices.Equal(c.Scope["channels"], []string{"api"}) {
			t.Errorf("the conflict is over Frontier on the api channel, got scope %v", c.Scope)
		}
		holders := []string{c.Clauses[0].Holder, c.Clauses[1].Holder}
		slices.Sort(holders)
		if !slices.Equal(holders, []string{"amazon", "microsoft"}) {
			t.Errorf("holders %v", holders)
		}
		s.json(&cr, 0, "conflicts", "--at", "2027-06-30")
		if len(cr.Conflicts) != 0 {
			t.Errorf("conflicts in 2027: %+v", cr.Conflicts)
		}
		// As known before the renegotiation was recorded, the conflict had no end.
		s.json(&cr, 0, "conflicts", "--at", "2027-06-30", "--known-at", knownBefore)
		if c := hasConflict(cr.Conflicts, "azure-api-exclusivity", "frontier-exclusivity"); c == nil || c.Until != nil {
			t.Errorf("as known at %s the conflict went on in 2027: %+v", knownBefore, cr.Conflicts)
		}
	})

	t.Run("who may serve Frontier by API", func(t *testing.T) {
		for _, q := range []struct {
			at      string
			allowed map[string]bool
		}{
			{"2026-03-15", map[string]bool{"amazon": false, "microsoft": false, "openai": false}},
			{"2027-06-30", map[string]bool{"amazon": true, "microsoft": false, "openai": false}},
		} {
			for party, want := range q.allowed {
				code := 0
				if !want {
					code = 3
				}
				var ck checkDoc
				r := s.json(&ck, code, "check", "--party", party, "--product", "frontier", "--channel", "api", "--at", q.at)
				keys(t, r.stdout, "verdict", "allowed", "ignore_basis", "basis", "blocking", "decided_by")
				if ck.Allowed != want || ck.Verdict != map[bool]string{true: "allowed", false: "denied"}[want] {
					t.Errorf("%s at %s: allowed=%v, verdict %s; want %v", party, q.at, ck.Allowed, ck.Verdict, want)
				}
				// Amazon by its exclusivity; Microsoft by its licence (and
				// until the renegotiation its exclusivity); OpenAI as the
				// grantor of them all.
				if len(ck.Basis) == 0 {
					t.Errorf("%s at %s: no basis: %s", party, q.at, r.stdout)
				}
				if !want && len(ck.DecidedBy) == 0 {
					t.Errorf("%s at %s: denied without naming the clauses that decide it", party, q.at)
				}
				for _, d := range ck.DecidedBy {
					if !want && d.Holder == party || d.Agreement == "" || d.Clause == "" {
						t.Errorf("%s at %s: decided by %+v", party, q.at, d)
					}
				}
			}
		}
	})

	t.Run("a check's exit code: 0 allowed, 3 denied or without a basis, 0 without one when the basis is ignored", func(t *testing.T) {
		for _, c := range []struct {
			code             int
			args             []string
			verdict, heading string
		}{
			{0, []string{"--party", "amazon", "--product", "frontier", "--channel", "api"}, "allowed", "ALLOWED  amazon may offer"},
			{3, []string{"--party", "microsoft", "--product", "frontier", "--channel", "api"}, "denied", "DENIED  microsoft may not offer"},
			{3, []string{"--party", "amazon", "--product", "chat", "--channel", "web"}, "no_basis", "NO BASIS  amazon may not offer"},
			{0, []string{"--party", "amazon", "--product", "chat", "--channel", "web", "--ignore-basis"}, "no_basis", "ALLOWED (basis not asked)"},
			{3, []string{"--party", "microsoft", "--product", "frontier", "--channel", "api", "--ignore-basis"}, "denied", "DENIED  microsoft may not offer"},
		} {
			args := append([]string{"check", "--at", "2027-06-30"}, c.args...)
			var ck checkDoc
			r := s.json(&ck, c.code, args...)
			if ck.Verdict != c.verdict || ck.Allowed != (c.code == 0) || ck.IgnoreBasis != slices.Contains(c.args, "--ignore-basis") || r.stderr != "" {
				t.Errorf("ledger %s: %s", strings.Join(args, " "), r)
			}
			if r := s.run(c.code, args...); !strings.HasPrefix(r.stdout, c.heading) || r.stderr != "" {
				t.Errorf("ledger %s, as text: %s", strings.Join(args, " "), r)
			}
		}
	})

	t.Run("revenue shares in force", func(t *testing.T) {
		st := state("microsoft-openai", "2027-06-30")
		if got := ids(st.RevenueShares); !slices.Equal(got, []string{"openai-revenue-share"}) {
			t.Fatalf("revenue shares in 2027: %v", got)
		}
		rs := st.RevenueShares[0]
		if rs.Cap["undisclosed"] != true {
			t.Errorf("the cap is undisclosed, got %v", rs.Cap)
		}
		if rs.CapRemaining["undisclosed"] != true || !strings.Contains(rs.Why, "undisclosed") {
			t.Errorf("cap remaining should be undisclosed, and say why: %v, %q", rs.CapRemaining, rs.Why)
		}
		if rs.End == nil || *rs.End != "2031-01-01" {
			t.Errorf("OpenAI's share runs through 2030: end %v", rs.End)
		}
		if st := state("microsoft-openai", "2031-06-30"); len(st.RevenueShares) != 0 {
			t.Errorf("revenue shares in 2031: %v", ids(st.RevenueShares))
		}
		if st := state("openai-amazon", "2027-06-30"); len(st.RevenueShares) != 0 {
			t.Errorf("openai-amazon has no revenue share: %v", ids(st.RevenueShares))
		}
	})

	t.Run("licence in force in 2032, not in 2033", func(t *testing.T) {
		if st := state("microsoft-openai", "2032-12-31"); clause(st.Licenses, "ip-license") == nil {
			t.Errorf("the licence is in force through 2032: %v", ids(st.Licenses))
		}
		if st := state("microsoft-openai", "2033-01-01"); len(st.Licenses) != 0 {
			t.Errorf("no licence in 2033: %v", ids(st.Licenses))
		}
	})

	t.Run("what was believed about 2031", func(t *testing.T) {
		then := state("microsoft-openai", "2031-06-30", "--known-at", knownBefore)
		if then.KnownAt == nil {
			t.Fatalf("known_at is not set in the answer")
		}
		if l := clause(then.Licenses, "ip-license"); l == nil || l.Exclusive == nil || !*l.Exclusive {
			t.Errorf("as known before the renegotiation, the licence in 2031 is exclusive: %+v", then.Licenses)
		}
		if clause(then.Exclusivities, "azure-api-exclusivity") == nil || len(then.RevenueShares) != 2 {
			t.Errorf("as known before the renegotiation: exclusivities %v, revenue shares %v", ids(then.Exclusivities), ids(then.RevenueShares))
		}
		// An amendment id stands for the time it was recorded.
		byID := state("microsoft-openai", "2031-06-30", "--known-at", hist.Amendments[0].ID)
		if !slices.Equal(ids(byID.Licenses), ids(then.Licenses)) || !slices.Equal(ids(byID.RevenueShares), ids(then.RevenueShares)) {
			t.Errorf("--known-at %s (an id) and --known-at %s (its recorded time) differ", hist.Amendments[0].ID, knownBefore)
		}
		now := state("microsoft-openai", "2031-06-30")
		if l := clause(now.Licenses, "ip-license"); l == nil || *l.Exclusive {
			t.Errorf("as known now, the licence in 2031 is non-exclusive: %+v", now.Licenses)
		}
		if len(now.Exclusivities) != 0 || len(now.RevenueShares) != 0 || len(now.Commitments) != 1 || len(now.Rights) != 2 {
			t.Errorf("as known now, in 2031: exclusivities %v, revenue shares %v, commitments %v, rights %v",
				ids(now.Exclusivities), ids(now.RevenueShares), ids(now.Commitments), ids(now.Rights))
		}
	})

	t.Run("what a declared agi would end", func(t *testing.T) {
		declare := func(effective string) previewDoc {
			t.Helper()
			in := `{"agreement":"microsoft-openai","effective":"` + effective + `","changes":[{"op":"declare","condition":"agi"}]}`
			var pv previewDoc
			r := s.runIn(0, in, "append", "--what-if", "-o", "json")
			if err := json.Unmarshal([]byte(r.stdout), &pv); err != nil {
				t.Fatal(err)
			}
			return pv
		}
		pre := declare("2026-03-27")
		if len(pre.Effects) != 1 {
			t.Fatalf("effects: %+v", pre.Effects)
		}
		ended := ids(pre.Effects[0].Diff.Ended)
		slices.Sort(ended)
		if !slices.Equal(ended, []string{"azure-api-exclusivity", "ip-license"}) {
			t.Errorf("declared before the renegotiation, agi ends %v", ended)
		}
		if len(pre.Invalidated) != 1 || pre.Invalidated[0].Amendment != second.Appended[0].ID {
			t.Errorf("the renegotiation (%s) would no longer apply: %+v", second.Appended[0].ID, pre.Invalidated)
		}
		post := declare("2026-05-27")
		if len(post.Effects) != 1 || len(post.Effects[0].Diff.Ended) != 0 || len(post.Invalidated) != 0 {
			t.Errorf("declared after the renegotiation, agi ends nothing: %+v", post)
		}
		// Nothing was written.
		var h historyDoc
		s.json(&h, 0, "history", "microsoft-openai")
		if len(h.Amendments) != 2 {
			t.Errorf("--what-if wrote something: %d amendments", len(h.Amendments))
		}
	})

	t.Run("timeline, diff and verify", func(t *testing.T) {
		svg := filepath.Join(s.dir, "tl.svg")
		var tl struct {
			Agreement string `json:"agreement"`
			Clauses   []struct {
				ID string `json:"id"`
			} `json:"clauses"`
		}
		s.json(&tl, 0, "timeline", "microsoft-openai", "--svg", svg)
		if tl.Agreement != "microsoft-openai" || len(tl.Clauses) != 7 {
			t.Errorf("timeline: %+v", tl)
		}
		b, err := os.ReadFile(svg)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range tl.Clauses {
			if !bytes.Contains(b, []byte(`data-clause="`+c.ID+`"`)) {
				t.Errorf("the SVG has no bar for %s", c.ID)
			}
		}
		text := s.run(0, "timeline", "microsoft-openai")
		if !strings.Contains(text.stdout, "ip-license") || !strings.Contains(text.stdout, "█") {
			t.Errorf("text timeline:\n%s", text.stdout)
		}

		var d struct {
			Added   []clauseDoc `json:"added"`
			Ended   []clauseDoc `json:"ended"`
			Changed []struct {
				ID string `json:"id"`
			} `json:"changed"`
		}
		s.json(&d, 0, "diff", "microsoft-openai", "--from", "2026-03-15", "--to", "2027-06-30")
		if !slices.Contains(ids(d.Ended), "azure-api-exclusivity") || !slices.Contains(ids(d.Added), "azure-commitment") || len(d.Changed) != 2 {
			t.Errorf("diff: %+v", d)
		}

		var v struct {
			OK bool `json:"ok"`
		}
		s.json(&v, 0, "verify")
		if !v.OK {
			t.Errorf("verify is not ok")
		}
		out := s.run(0, "verify")
		if !strings.Contains(out.stdout, "intact") {
			t.Errorf("verify text: %s", out.stdout)
		}
	})

	t.Run("text output for people", func(t *testing.T) {
		out := s.run(0, "state", "microsoft-openai", "--at", "2027-06-30").stdout
		for _, want := range []string{"USD 250,000,000,000", "undisclosed (USD)", "non-exclusive", "2033-01-01", "the cap is undisclosed"} {
			if !strings.Contains(out, want) {
				t.Errorf("state text lacks %q:\n%s", want, out)
			}
		}
		out = s.run(0, "state", "openai-amazon", "--at", "2027-06-30").stdout
		for _, want := range []string{"USD 15,000,000,000", "USD 35,000,000,000", "USD 50,000,000,000"} {
			if !strings.Contains(out, want) {
				t.Errorf("state text lacks %q:\n%s", want, out)
			}
		}
		out = s.run(3, "check", "--party", "amazon", "--product", "frontier", "--channel", "api", "--at", "2026-03-15").stdout
		if !strings.Contains(out, "DENIED") || !strings.Contains(out, "azure-api-exclusivity") {
			t.Errorf("check text:\n%s", out)
		}
		out = s.run(0, "conflicts", "--at", "2026-03-15").stdout
		if !strings.Contains(out, "CONFLICT") || !strings.Contains(out, seed.AmazonDeal+" until "+seed.Renegotiation) {
			t.Errorf("conflicts text:\n%s", out)
		}
	})
}
