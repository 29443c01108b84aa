package render_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
	"github.com/agreement-ledger/ledger/ledger/render"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/shopspring/decimal"
)

func money(amount, currency string) *events.Money {
	return &events.Money{Amount: decimal.RequireFromString(amount), Currency: currency}
}

func TestMoney(t *testing.T) {
	for _, c := range []struct {
		m    *events.Money
		want string
	}{
		{money("15000000000", "USD"), "USD 15,000,000,000"},
		{money("250000000000", "USD"), "USD 250,000,000,000"},
		{money("1500.25", "EUR"), "EUR 1,500.25"},
		{money("999", "GBP"), "GBP 999"},
		{money("1000", "GBP"), "GBP 1,000"},
		{money("0", "USD"), "USD 0"},
		{money("0.000000001", "EUR"), "EUR 0.000000001"},
		{&events.Money{Undisclosed: true, Currency: "USD"}, "undisclosed (USD)"},
		{&events.Money{Undisclosed: true}, "undisclosed"},
		{nil, "-"},
	} {
		if got := render.Money(c.m); got != c.want {
			t.Errorf("Money(%v) = %q, want %q", c.m, got, c.want)
		}
	}
}

func TestRateAndValue(t *testing.T) {
	for _, c := range []struct {
		r    *events.Rate
		want string
	}{
		{&events.Rate{Value: decimal.RequireFromString("0.20")}, "20%"},
		{&events.Rate{Value: decimal.RequireFromString("0.075")}, "7.5%"},
		{&events.Rate{Value: decimal.RequireFromString("1")}, "100%"},
		{&events.Rate{Undisclosed: true}, "undisclosed"},
	} {
		if got := render.Rate(c.r); got != c.want {
			t.Errorf("Rate(%v) = %q, want %q", c.r, got, c.want)
		}
	}
	decode := func(s string) any {
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		field, json, want string
	}{
		{"term", `{"end":"2033-01-01"}`, "until 2033-01-01"},
		{"term", `{"start":"2019-07-22","ends_on":"agi"}`, "from 2019-07-22, ends if agi is declared"},
		{"scope", `{}`, "everything"},
		{"scope", `{"channels":["api"],"products":["frontier","gpt"]}`, "products=frontier,gpt channels=api"},
		{"cap", `{"undisclosed":true,"currency":"USD"}`, "undisclosed (USD)"},
		{"amount", `{"amount":"35000000000","currency":"USD"}`, "USD 35,000,000,000"},
		{"exclusive", `false`, "non-exclusive"},
		{"rate", `"0.3"`, "30%"},
		{"cap", `null`, "(none)"},
	} {
		if got := render.Value(c.field, decode(c.json)); got != c.want {
			t.Errorf("Value(%s, %s) = %q, want %q", c.field, c.json, got, c.want)
		}
	}
}

// history is a small made-up agreement with a revenue share that accrues,
// and one whose cap is undisclosed.
const history = `[
{"agreement":"acme-globex","effective":"2024-01-01","summary":"Made up <for> tests & such",
 "changes":[{"op":"open","title":"Acme & Globex <reseller>","parties":["acme","globex"]},
  {"op":"add","clause":{"id":"royalty","kind":"revenue_share","payer":"globex","payee":"acme","rate":"0.30","base":"resale revenue","cap":{"amount":"10000000","currency":"EUR"}}},
  {"op":"add","clause":{"id":"secret-share","kind":"revenue_share","payer":"acme","payee":"globex","rate":{"undisclosed":true},"cap":{"undisclosed":true,"currency":"EUR"}}},
  {"op":"add","clause":{"id":"eu-exclusive","kind":"exclusivity","grantor":"acme","holder":"globex","scope":{"territories":["eu"]},"term":{"end":"2026-01-01"}}}]},
{"agreement":"acme-globex","effective":"2024-07-01","summary":"first half",
 "changes":[{"op":"report","clause":"royalty","period":{"start":"2024-01-01","end":"2024-07-01"},"base":{"amount":"12500000","currency":"EUR"}}]},
{"agreement":"acme-globex","effective":"2025-01-01","summary":"the exclusivity goes world-wide",
 "changes":[{"op":"amend","clause":"eu-exclusive","set":{"scope":{}}}]}
]`

func TestState(t *testing.T) {
	l := ledgertest.New(t)
	l.Given(history)
	var b bytes.Buffer
	if err := render.State(&b, l.StateAt("acme-globex", "2025-06-01")); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"acme-globex — Acme & Globex <reseller>",
		"REVENUE SHARES", "EXCLUSIVITIES",
		"EUR 3,750,000",  // 0.30 × 12,500,000 accrued
		"EUR 6,250,000",  // left under the cap of 10,000,000
		"EUR 10,000,000", // the cap
		"secret-share: accrued cannot be computed: ",
		"cap remaining undisclosed (EUR): ",
		"30%", "undisclosed",
		"2024-01-01 until 2026-01-01", // the exclusivity's term
	} {
		if !strings.Contains(out, want) {
			t.Errorf("state lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasSuffix(line, " ") {
			t.Errorf("trailing space: %q", line)
		}
	}
}

func TestConflictsAndRights(t *testing.T) {
	l := ledgertest.New(t)
	l.Given(history, `{"agreement":"acme-initech","effective":"2024-03-01","changes":[
		{"op":"open","title":"Acme–Initech","parties":["acme","initech"]},
		{"op":"add","clause":{"id":"de-exclusive","kind":"exclusivity","grantor":"acme","holder":"initech","scope":{"territories":["de","eu"]}}}]}`)
	r, err := l.Conflicts(l.Time("2024-06-01"), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := render.Conflicts(&b, r); err != nil {
		t.Fatal(err)
	}
	if len(r.Conflicts) != 1 {
		t.Fatalf("conflicts: %+v", r.Conflicts)
	}
	window := "window  " + render.Window(r.Conflicts[0].From, r.Conflicts[0].Until)
	for _, want := range []string{"1 conflict at 2024-06-01", "CONFLICT  acme granted exclusive rights over territories=eu to both", window, "de-exclusive", "eu-exclusive"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("conflicts lack %q:\n%s", want, b.String())
		}
	}
	q := projections.RightsQuery{Party: "initech", Scope: &events.Scope{Products: []string{"widgets"}, Channels: []string{"retail"}, Territories: []string{"eu"}}, At: l.Time("2024-06-01")}
	rights, err := l.Check(q)
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if err := render.Rights(&b, q, rights); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "DENIED  initech may not offer products=widgets channels=retail territories=eu at 2024-06-01") || !strings.Contains(b.String(), "exclusive to globex") {
		t.Errorf("rights:\n%s", b.String())
	}
}

func timeline(t *testing.T) *projections.Timeline {
	l := ledgertest.New(t)
	l.Given(history)
	tl, err := l.Timeline("acme-globex", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

func TestTimelineText(t *testing.T) {
	tl := timeline(t)
	var b bytes.Buffer
	if err := render.Timeline(&b, tl, render.TimelineOptions{Width: 40}); err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(b.String(), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			if _, seen := rows[f[0]]; !seen {
				rows[f[0]] = line
			}
		}
	}
	// The exclusivity's bar ends (its term), the open-ended ones run to the
	// edge with an arrow; the amendment of 2025 starts a second shade.
	if ex := rows["eu-exclusive"]; strings.Contains(ex, "▶") || !strings.Contains(ex, "█") || !strings.Contains(ex, "▓") {
		t.Errorf("eu-exclusive bar: %q", ex)
	}
	if roy := rows["royalty"]; !strings.HasSuffix(roy, "▶") {
		t.Errorf("royalty bar: %q", roy)
	}
	if n := len([]rune(strings.TrimSpace(strings.TrimPrefix(rows["eu-exclusive"], "eu-exclusive")))); n >= len([]rune(strings.TrimSpace(strings.TrimPrefix(rows["royalty"], "royalty")))) {
		t.Errorf("the bar that ends is not shorter than the open-ended one:\n%s", b.String())
	}
	if am := rows["amendments"]; !strings.Contains(am, "1") || !strings.Contains(am, "3") {
		t.Errorf("amendment markers: %q", am)
	}
	if !strings.Contains(b.String(), "now scope everything") {
		t.Errorf("the legend does not say what the amendment changed:\n%s", b.String())
	}
}

// Clause ids shorter than the "amendments" row's label still leave a space
// between that label and the first marker.
func TestTimelineShortClauseIDs(t *testing.T) {
	tl := timeline(t)
	for i := range tl.Clauses {
		tl.Clauses[i].ID = fmt.Sprintf("c%d", i)
	}
	var b bytes.Buffer
	if err := render.Timeline(&b, tl, render.TimelineOptions{Width: 40}); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "amendments") && line != "amendments" && !strings.HasPrefix(line, "amendments ") {
			t.Fatalf("the markers run into the label: %q", line)
		}
	}
}

func TestTimelineSVG(t *testing.T) {
	tl := timeline(t)
	var b bytes.Buffer
	if err := render.TimelineSVG(tl, &b, render.SVGOptions{Width: 800, Now: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	// Well-formed XML, rooted in an svg element, with a bar per segment.
	dec := xml.NewDecoder(bytes.NewReader(b.Bytes()))
	bars := map[string]int{}
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, b.String())
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
			}
			for _, a := range se.Attr {
				if a.Name.Local == "data-clause" {
					bars[a.Value]++
				}
			}
		}
	}
	if root != "svg" {
		t.Errorf("root element %q", root)
	}
	for _, c := range tl.Clauses {
		if bars[c.ID] != len(c.Segments) {
			t.Errorf("%s: %d bars for %d segments", c.ID, bars[c.ID], len(c.Segments))
		}
	}
	s := b.String()
	if !strings.Contains(s, "Acme &amp; Globex &lt;reseller&gt;") || !strings.Contains(s, `width="800"`) || !strings.Contains(s, ">now<") {
		t.Errorf("title escaping, width or the now marker:\n%s", s)
	}
	if strings.Count(s, "<path") != 2 {
		t.Errorf("want an arrow on each of the two open-ended bars, got %d", strings.Count(s, "<path"))
	}
}

func TestHistoryDiffAppended(t *testing.T) {
	l := ledgertest.New(t)
	res := l.Given(history)
	var b bytes.Buffer
	if err := render.Appended(&b, res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "appended 3 amendments") || !strings.Contains(b.String(), "conflicts introduced: none") {
		t.Errorf("appended:\n%s", b.String())
	}
	h, err := l.History("acme-globex")
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if err := render.History(&b, h); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "open,add×3") || !strings.Contains(b.String(), "2024-07-01") {
		t.Errorf("history:\n%s", b.String())
	}
	d, err := l.Diff("acme-globex", l.Time("2024-06-01"), l.Time("2026-06-01"), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if err := render.Diff(&b, d); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "- eu-exclusive (exclusivity) acme → globex ended") {
		t.Errorf("diff:\n%s", b.String())
	}
}

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	p := render.NewProgress(&b, "appending")
	p.Update(1000, 4000)
	p.Update(2000, 4000) // within 100ms of the last: not drawn
	p.Update(4000, 4000) // the last is always drawn
	p.Clear()
	s := b.String()
	if !strings.Contains(s, "1000/4000   25%") || strings.Contains(s, "2000/4000") || !strings.Contains(s, "4000/4000  100%") || !strings.HasSuffix(s, "\r\033[K") {
		t.Errorf("progress: %q", s)
	}
}

// TestKnownAt: a known-at is written as the time, and, given as an
// amendment, which amendment that was.
func TestKnownAt(t *testing.T) {
	k := time.Date(2026, 2, 27, 10, 0, 0, 500, time.UTC)
	ref := &projections.AmendmentRef{ID: "01KJFFGMG0KX5V8WQ8KXDH917J", Agreement: "openai-amazon", Version: 1}
	for _, c := range []struct {
		k    time.Time
		as   *projections.AmendmentRef
		want string
	}{
		{time.Time{}, nil, "as known now"},
		{k, nil, "as known at 2026-02-27T10:00:00.0000005Z"},
		{k, ref, "as known at 2026-02-27T10:00:00.0000005Z (as of amendment 01KJFFGMG0KX5V8WQ8KXDH917J, openai-amazon v1)"},
	} {
		if got := render.KnownAt(c.k, c.as); got != c.want {
			t.Errorf("KnownAt(%v, %v) = %q, want %q", c.k, c.as, got, c.want)
		}
	}
	// The timeline says it in text and in its drawing.
	tl := timeline(t)
	tl.KnownAt, tl.KnownAtAmendment = k, ref
	var text, svg bytes.Buffer
	if err := render.Timeline(&text, tl, render.TimelineOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := render.TimelineSVG(tl, &svg, render.SVGOptions{}); err != nil {
		t.Fatal(err)
	}
	for what, out := range map[string]string{"text": text.String(), "SVG": svg.String()} {
		if !strings.Contains(out, "(as of amendment 01KJFFGMG0KX5V8WQ8KXDH917J, openai-amazon v1)") {
			t.Errorf("the timeline's %s does not name the amendment:\n%s", what, out)
		}
	}
}
