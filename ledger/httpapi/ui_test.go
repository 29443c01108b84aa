package httpapi_test

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger/render"
)

// wellFormed fails unless s parses as XML (the SVG, and the HTML fragments,
// which the server writes as well-formed markup).
func wellFormed(t *testing.T, what, s string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	d.Entity = map[string]string{"nbsp": "\u00a0"}
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("%s is not well-formed: %v\n%.3000s", what, err, s)
		}
	}
}

func TestPage(t *testing.T) {
	s := newServer(t, true, withAuth)
	// The page and its assets need no token; the data does.
	page := s.do(req{path: "/"})
	if page.Status != 200 || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(page.Body), `<script src="/assets/app.js"`) {
		t.Fatalf("page: %d %q", page.Status, page.Header.Get("Content-Type"))
	}
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP = %q", csp)
	}
	for _, a := range []struct{ path, ctype string }{{"/assets/app.js", "text/javascript"}, {"/assets/style.css", "text/css"}, {"/assets/icon.svg", "image/svg+xml"}} {
		res := s.do(req{path: a.path})
		if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), a.ctype) {
			t.Errorf("%s: %d %q", a.path, res.Status, res.Header.Get("Content-Type"))
		}
	}
	for _, p := range []string{"/assets/index.html", "/assets/nope.css", "/assets/..%2fui.go"} {
		if res := s.do(req{path: p}); res.Status != 404 {
			t.Errorf("%s: %d", p, res.Status)
		}
	}
	// Each kind's swatch has the colours of the kind's bars in the chart.
	css := string(s.do(req{path: "/assets/style.css"}).Body)
	for _, k := range events.Kinds {
		fill, stroke := render.KindColours(k)
		if want := fmt.Sprintf(`.swatch[data-kind="%s"] { background: %s; border-color: %s; }`, k, fill, stroke); !strings.Contains(css, want) {
			t.Errorf("style.css lacks %s", want)
		}
	}
	if res := s.do(req{path: "/ui/agreements"}); res.Status != 401 {
		t.Errorf("fragment without a token: %d", res.Status)
	}
	// Nothing in the page comes from elsewhere.
	for _, p := range []string{"/", "/assets/app.js", "/assets/style.css"} {
		body := string(s.do(req{path: p}).Body)
		if strings.Contains(body, "http://") || strings.Contains(body, "https://") || strings.Contains(body, "//cdn") {
			t.Errorf("%s refers to another site", p)
		}
	}
}

func TestViewFragments(t *testing.T) {
	s := newServer(t, true)
	list := s.do(req{path: "/ui/agreements?at=2026-03-15"})
	body := string(list.Body)
	wellFormed(t, "agreements", body)
	for _, want := range []string{`data-agreement="microsoft-openai"`, "Microsoft–OpenAI partnership", "openai · amazon", `class="status open"`, "1 conflict"} {
		if !strings.Contains(body, want) {
			t.Errorf("agreements lack %q:\n%s", want, body)
		}
	}
	if body := string(s.do(req{path: "/ui/agreements?at=2027-01-01"}).Body); strings.Contains(body, "conflict") {
		t.Errorf("agreements in 2027 show a conflict:\n%s", body)
	}
	if body := string(s.do(req{path: "/ui/agreements?at=2027-01-01&known_at=2001-01-01"}).Body); !strings.Contains(body, "not yet recorded") {
		t.Errorf("agreements known at 2001 are not marked unrecorded:\n%s", body)
	}

	march := string(s.do(req{path: "/ui/view/microsoft-openai?at=2026-03-15&width=900"}).Body)
	wellFormed(t, "view", march)
	for _, want := range []string{
		`data-at="2026-03-15"`,
		`<section id="conflicts" class="conflicts">`,
		"azure-api-exclusivity</b> in <b>microsoft-openai",
		"frontier-exclusivity</b> in <b>openai-amazon",
		`class="bar current conflict" data-clause="azure-api-exclusivity"`,
		`class="conflict-window"`,
		`class="as-of"`,
		"USD 250,000,000,000",                         // money, in the bar of the commitment
		`<td class="undisclosed">undisclosed</td>`,    // the rate of a revenue share
		`<template id="seg-1-0">`,                     // the details of a bar
		`data-detail="am-01KQ7CZ1G0A84WKP9M7T9BM2EX"`, // an amendment marker
		"ended 2026-04-27",
	} {
		if !strings.Contains(march, want) {
			t.Errorf("the view of March 2026 lacks %q", want)
		}
	}
	later := string(s.do(req{path: "/ui/view/microsoft-openai?at=2031-06-01"}).Body)
	for _, want := range []string{"No conflicts as of 2031-06-01", `class="bar off" data-clause="azure-api-exclusivity"`, "until 2033-01-01"} {
		if !strings.Contains(later, want) {
			t.Errorf("the view of 2031 lacks %q", want)
		}
	}
	if strings.Contains(later, "openai-revenue-share</th>") {
		t.Errorf("the revenue share ends in 2030 but is in the state of 2031")
	}
	amazon := string(s.do(req{path: "/ui/view/openai-amazon?at=2026-03-15"}).Body)
	for _, want := range []string{"USD 15,000,000,000 — not funded", "USD 35,000,000,000 — condition: conditions not disclosed", "up to USD 50,000,000,000", "committed"} {
		if !strings.Contains(amazon, want) {
			t.Errorf("the view of openai-amazon lacks %q", want)
		}
	}
	// Known at before it was recorded: the view says so; an agreement never
	// recorded is not found.
	res := s.do(req{path: "/ui/view/microsoft-openai?at=2026-03-15&known_at=2001-01-01"})
	if res.Status != 200 || !strings.Contains(string(res.Body), "not been recorded yet") {
		t.Errorf("known at 2001: %d %s", res.Status, res.Body)
	}
	res = s.do(req{path: "/ui/view/no-such-deal?at=2026-03-15&known_at=2001-01-01"})
	if kind, _, _ := res.errorDoc(t); res.Status != 404 || kind != "not_found" {
		t.Errorf("unknown agreement: %d %s", res.Status, res.Body)
	}
	// The axis can be narrowed.
	zoom := string(s.do(req{path: "/ui/view/microsoft-openai?at=2026-03-15&from=2025-09-01&to=2026-09-01"}).Body)
	if !strings.Contains(zoom, ">Jan 2026<") {
		t.Errorf("a one-year axis has no month ticks")
	}
	for _, c := range []struct{ q, field string }{{"width=10", "width"}, {"from=2026-01-01&to=2025-01-01", "to"}, {"at=x", "at"}, {"zoom=2", "zoom"}} {
		res := s.do(req{path: "/ui/view/microsoft-openai?" + c.q})
		if _, field, _ := res.errorDoc(t); res.Status != 400 || field != c.field {
			t.Errorf("%s: %d field %q", c.q, res.Status, field)
		}
	}
}

func TestTimelineSVG(t *testing.T) {
	s := newServer(t, true)
	s.L.Given(`{"agreement":"microsoft-openai","effective":"2029-01-01","summary":"AGI declared (hypothetical)","changes":[{"op":"declare","condition":"agi"}]}`)
	res := s.do(req{path: "/ui/timeline/microsoft-openai.svg?at=2026-03-15&width=1000"})
	if res.Status != 200 || res.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("svg: %d %q", res.Status, res.Header.Get("Content-Type"))
	}
	svg := string(res.Body)
	wellFormed(t, "svg", svg)
	for _, want := range []string{`<svg xmlns="http://www.w3.org/2000/svg"`, `width="1000"`, "<style>", `class="condition"`, "agi declared", "as of 2026-03-15", ">v3<"} {
		if !strings.Contains(svg, want) {
			t.Errorf("svg lacks %q", want)
		}
	}
	if res := s.do(req{path: "/ui/timeline/microsoft-openai"}); res.Status != 404 {
		t.Errorf("without .svg: %d", res.Status)
	}
}

// TestTimelineManyClauses: an agreement of hundreds of clauses and amendments
// draws one row per clause. Its speed is BenchmarkTimeline's (ledger/render);
// the bound here only catches a drawing gone quadratic (minutes), not a slow
// machine.
func TestTimelineManyClauses(t *testing.T) {
	s := newServer(t, false)
	const clauses = 400
	var b strings.Builder
	b.WriteString(`[{"agreement":"big-deal","effective":"2020-01-01","changes":[{"op":"open","title":"Big deal","parties":["a","b"]}`)
	for i := range clauses {
		fmt.Fprintf(&b, `,{"op":"add","clause":{"id":"c-%d","kind":"exclusivity","grantor":"a","holder":"b","scope":{"products":["p-%d"]}}}`, i, i)
	}
	b.WriteString(`]}`)
	for i := range 100 {
		fmt.Fprintf(&b, `,{"agreement":"big-deal","effective":"%s","changes":[{"op":"amend","clause":"c-%d","set":{"sole":true}},{"op":"end","clause":"c-%d"}]}`,
			time.Date(2020, 2, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 7*i).Format("2006-01-02"), i, clauses-1-i)
	}
	b.WriteString(`]`)
	if res := s.do(req{method: "POST", path: "/v1/amendments", body: b.String()}); res.Status != 201 {
		t.Fatalf("append: %d %.500s", res.Status, res.Body)
	}
	start := time.Now()
	res := s.do(req{path: "/ui/view/big-deal?at=2021-01-01&width=1200"})
	took := time.Since(start)
	if res.Status != 200 {
		t.Fatalf("view: %d %.300s", res.Status, res.Body)
	}
	view := string(res.Body)
	if n := strings.Count(view, `class="rowlabel`); n != clauses {
		t.Errorf("%d rows, want %d", n, clauses)
	}
	if took > 20*time.Second {
		t.Errorf("the view of %d clauses took %v", clauses, took)
	}
	t.Logf("view of %d clauses and 101 amendments: %d KB in %v", clauses, len(view)/1024, took)
}

// TestTimelineLongAgreement: past 500 clauses and one amendment per 6
// pixels the view counts (a row per kind, a mark per column of amendments)
// and carries no detail of what it does not draw one by one.
func TestTimelineLongAgreement(t *testing.T) {
	s := newServer(t, false)
	const clauses, amendments = 600, 300
	var b strings.Builder
	b.WriteString(`[{"agreement":"long-deal","effective":"2020-01-01","changes":[{"op":"open","title":"Long deal","parties":["a","b"]}`)
	for i := range clauses {
		fmt.Fprintf(&b, `,{"op":"add","clause":{"id":"c-%d","kind":"obligation","obligor":"a","beneficiary":"b","what":"thing %d"}}`, i, i)
	}
	b.WriteString(`]}`)
	for i := range amendments - 1 {
		fmt.Fprintf(&b, `,{"agreement":"long-deal","effective":"%s","changes":[{"op":"amend","clause":"c-%d","set":{"what":"other"}}]}`,
			time.Date(2020, 2, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 3*i).Format("2006-01-02"), i)
	}
	b.WriteString(`]`)
	if res := s.do(req{method: "POST", path: "/v1/amendments", body: b.String()}); res.Status != 201 {
		t.Fatalf("append: %d %.500s", res.Status, res.Body)
	}
	view := string(s.do(req{path: "/ui/view/long-deal?at=2021-01-01&width=900"}).Body)
	wellFormed(t, "view", view)
	if n := strings.Count(view, `class="rowlabel`); n != 1 {
		t.Errorf("%d rows, want one for the one kind", n)
	}
	if !strings.Contains(view, ">obligation (600)<") || !strings.Contains(view, `class="lane"`) {
		t.Errorf("the row of obligations does not count them")
	}
	sum := 0
	for _, part := range strings.Split(view, `class="amendment-group" data-count="`)[1:] {
		n, err := strconv.Atoi(part[:strings.IndexByte(part, '"')])
		if err != nil {
			t.Fatal(err)
		}
		sum += n
	}
	if sum != amendments {
		t.Errorf("the groups of amendments hold %d, want %d", sum, amendments)
	}
	if strings.Contains(view, `<template id="seg-`) || strings.Contains(view, `<template id="am-`) {
		t.Errorf("the view details bars or markers it does not draw")
	}
}
