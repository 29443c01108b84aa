package render_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger/render"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/oklog/ulid/v2"
)

// corrected is a history with amendments effective at the same instant:
// v3 corrects v2 retroactively (recorded later, effective when v2 is), and
// v5 retracts v4 at v4's effective time. v1 stands alone.
func corrected(t *testing.T) *projections.Timeline {
	t.Helper()
	// indexOf gives the amendments these ids, in order.
	base := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	v4 := ulid.MustNew(ulid.Timestamp(base)+3, bytes.NewReader(make([]byte, 16)))
	as, err := events.Decode([]byte(fmt.Sprintf(`[
{"agreement":"acme-umbrella","effective":"2024-01-01","summary":"the licence and its royalty",
 "changes":[{"op":"open","title":"Acme–Umbrella","parties":["acme","umbrella"]},
  {"op":"add","clause":{"id":"royalty","kind":"revenue_share","payer":"umbrella","payee":"acme","rate":"0.10","base":"net sales"}}]},
{"agreement":"acme-umbrella","effective":"2025-01-01","summary":"the rate rises",
 "changes":[{"op":"amend","clause":"royalty","set":{"rate":"0.15"}}]},
{"agreement":"acme-umbrella","effective":"2025-01-01","summary":"correction: the rate rose to 0.12, not 0.15",
 "changes":[{"op":"amend","clause":"royalty","set":{"rate":"0.12"}}]},
{"agreement":"acme-umbrella","effective":"2026-01-01","summary":"a cap",
 "changes":[{"op":"amend","clause":"royalty","set":{"cap":{"amount":"1000000","currency":"EUR"}}}]},
{"agreement":"acme-umbrella","effective":"2026-01-01","summary":"the cap was never agreed",
 "changes":[{"op":"retract","amendment":%q}]}
]`, v4.String())))
	if err != nil {
		t.Fatal(err)
	}
	tl, err := indexOf(t, as).Timeline("acme-umbrella", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

// TestSameEffectiveGolden: amendments effective at the same instant are
// drawn as one marker naming each version, in the text, the SVG file and
// the page's chart.
func TestSameEffectiveGolden(t *testing.T) {
	tl := corrected(t)
	var text, svg bytes.Buffer
	if err := render.Timeline(&text, tl, render.TimelineOptions{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "timeline-same-effective.txt", text.Bytes())
	if err := render.TimelineSVG(tl, &svg, render.SVGOptions{Now: time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	golden(t, "timeline-same-effective.svg", svg.Bytes())
	chart := render.NewChart(tl, render.ChartOptions{At: time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC), Width: 900})
	golden(t, "chart-same-effective.svg", []byte(chart.SVG()))

	// The text: 2 and 3 one above the other in their column, 4 (retracted,
	// ×) and 5 likewise.
	var rows []string
	lines := strings.Split(text.String(), "\n")
	for i, line := range lines {
		if strings.HasPrefix(line, "amendments ") {
			rows = lines[i : i+3]
			break
		}
	}
	if len(rows) != 3 {
		t.Fatalf("no rows of amendment marks:\n%s", text.String())
	}
	col := func(row string, mark rune) int { return strings.IndexRune(string([]rune(row)), mark) }
	if c2, c3 := col(rows[0], '2'), col(rows[1], '3'); c2 < 0 || c2 != c3 {
		t.Errorf("v2 and v3 do not stand one above the other:\n%s", strings.Join(rows, "\n"))
	}
	if cx, c5 := col(rows[0], '×'), col(rows[1], '5'); cx < 0 || cx != c5 {
		t.Errorf("v4 (retracted) and v5 do not stand one above the other:\n%s", strings.Join(rows, "\n"))
	}

	// The SVG file: a stack per instant, labelled with both versions, each
	// with its own tooltip; v1 alone as before.
	stacks := svgElements(t, svg.Bytes(), "amendment-stack")
	if len(stacks) != 2 || stacks[0].attr["data-versions"] != "v2 v3" || stacks[1].attr["data-versions"] != "v4 v5" {
		t.Fatalf("stacks %+v, want v2 v3 and v4 v5", stacks)
	}
	for _, want := range []string{"v2", "v3", "rate rises", "correction"} {
		if !strings.Contains(stacks[0].text, want) {
			t.Errorf("the stack of v2 and v3 lacks %q: %q", want, stacks[0].text)
		}
	}
	if !strings.Contains(svg.String(), `<tspan fill="#aaa">v4<title>`) || !strings.Contains(svg.String(), `<tspan fill="#444">v5<title>`) {
		t.Errorf("the retracted v4 is not grey beside v5:\n%s", svg.String())
	}
	if n := strings.Count(svg.String(), "<g><line"); n != 1 {
		t.Errorf("%d markers of one amendment, want v1's", n)
	}

	// The chart: a marker per instant; each version in a stack shows its
	// own details, the marker all of theirs.
	s := chart.SVG()
	for _, m := range tl.Amendments {
		if !strings.Contains(s, fmt.Sprintf(`<tspan data-amendment="%s" data-detail="am-%s">`, m.ID, m.ID)) && m.Version != 1 {
			t.Errorf("v%d has no label of its own in its stack", m.Version)
		}
	}
	if want := fmt.Sprintf(`data-detail="am-%s am-%s"`, tl.Amendments[1].ID, tl.Amendments[2].ID); !strings.Contains(s, want) {
		t.Errorf("the marker of v2 and v3 does not show both: want %s", want)
	}
	if strings.Count(s, `class="marker"`) != 1 || strings.Count(s, `class="marker stack"`) != 2 {
		t.Errorf("want v1's marker and two stacks:\n%s", s)
	}
}

// TestDistinctEffectiveUnstacked: amendments effective at distinct times
// keep a marker each, labelled with its version alone.
func TestDistinctEffectiveUnstacked(t *testing.T) {
	tl := timeline(t) // three amendments, each effective at its own time
	var svg bytes.Buffer
	if err := render.TimelineSVG(tl, &svg, render.SVGOptions{}); err != nil {
		t.Fatal(err)
	}
	s := svg.String()
	if strings.Contains(s, "amendment-stack") || strings.Count(s, "<g><line") != len(tl.Amendments) {
		t.Errorf("want %d markers of one amendment each:\n%s", len(tl.Amendments), s)
	}
	for _, m := range tl.Amendments {
		if !strings.Contains(s, fmt.Sprintf(">v%d<title>", m.Version)) {
			t.Errorf("v%d is not labelled alone", m.Version)
		}
	}
	c := render.NewChart(tl, render.ChartOptions{At: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), Width: 900}).SVG()
	if strings.Contains(c, "marker stack") || strings.Count(c, `class="marker"`) != len(tl.Amendments) {
		t.Errorf("want %d markers of one amendment each in the chart", len(tl.Amendments))
	}
	var text bytes.Buffer
	if err := render.Timeline(&text, tl, render.TimelineOptions{}); err != nil {
		t.Fatal(err)
	}
	// One row of marks, a version each, then the axis.
	lines := strings.Split(text.String(), "\n")
	for i, line := range lines {
		if strings.HasPrefix(line, "amendments ") {
			if f := strings.Fields(line); len(f) != 1+len(tl.Amendments) || !strings.HasPrefix(strings.TrimSpace(lines[i+1]), "axis: ") || strings.Contains(lines[i+1], "+ more") {
				t.Errorf("want a row of %d marks, then the axis:\n%s", len(tl.Amendments), text.String())
			}
			return
		}
	}
	t.Errorf("no row of amendment marks:\n%s", text.String())
}

// TestStackLabelCounts: a stack names three versions and counts the rest;
// its tooltip names them all.
func TestStackLabelCounts(t *testing.T) {
	on := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tl := &projections.Timeline{Agreement: "many", Span: [2]time.Time{on.AddDate(-1, 0, 0), on.AddDate(1, 0, 0)}}
	for v := uint64(1); v <= 5; v++ {
		tl.Amendments = append(tl.Amendments, projections.Marker{ID: fmt.Sprintf("id%d", v), Version: v, Effective: on, Summary: fmt.Sprintf("change %d", v)})
	}
	var svg bytes.Buffer
	if err := render.TimelineSVG(tl, &svg, render.SVGOptions{}); err != nil {
		t.Fatal(err)
	}
	stacks := svgElements(t, svg.Bytes(), "amendment-stack")
	if len(stacks) != 1 || stacks[0].attr["data-count"] != "5" || !strings.Contains(svg.String(), "</tspan> +2</text>") {
		t.Fatalf("want one stack of 5 counting 2 beyond the three named:\n%s", svg.String())
	}
	for v := 1; v <= 5; v++ {
		if !strings.Contains(stacks[0].text, fmt.Sprintf("change %d", v)) {
			t.Errorf("the stack's tooltip lacks v%d", v)
		}
	}
	if c := render.NewChart(tl, render.ChartOptions{At: on, Width: 900}).SVG(); !strings.Contains(c, "</tspan> +2</text>") {
		t.Errorf("the chart's stack does not count the versions it does not name:\n%s", c)
	}
}

// element is an element of an SVG document: its attributes and all the
// text within it.
type element struct {
	attr map[string]string
	text string
}

// svgElements returns the elements of class class in svg.
func svgElements(t *testing.T, svg []byte, class string) []element {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var out []element
	depth, in := 0, -1 // in: the depth of the element being read, or -1
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			depth++
			attr := map[string]string{}
			for _, a := range tok.Attr {
				attr[a.Name.Local] = a.Value
			}
			if in < 0 && attr["class"] == class {
				in = depth
				out = append(out, element{attr: attr})
			}
		case xml.EndElement:
			if depth == in {
				in = -1
			}
			depth--
		case xml.CharData:
			if in >= 0 {
				out[len(out)-1].text += string(tok)
			}
		}
	}
}
