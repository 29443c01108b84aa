package render_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/synth"
	"github.com/agreement-ledger/ledger/ledger/render"
	"github.com/agreement-ledger/ledger/projections"
)

// long is an index holding one synthetic agreement of n amendments, built
// once per size and shared by the tests and benchmarks of this file.
func long(tb testing.TB, n int) *projections.Index {
	tb.Helper()
	longMu.Lock()
	defer longMu.Unlock()
	if ix := longs[n]; ix != nil {
		return ix
	}
	ix := projections.NewIndex()
	base := time.Date(2045, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, a := range synth.New(1).Agreement("big", n) {
		r := &events.Record{Amendment: a, Seq: uint64(i + 1), Recorded: base.Add(time.Duration(i) * time.Second)}
		if err := ix.Add(r); err != nil {
			tb.Fatal(err)
		}
	}
	longs[n] = ix
	return ix
}

var (
	longMu sync.Mutex
	longs  = map[int]*projections.Index{}
)

func BenchmarkHistory(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		h, err := long(b, n).History("big")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				if err := render.History(io.Discard, h); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/amendment")
		})
	}
}

// allocated is the number of bytes fn allocates.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHistoryCostIsLinear: writing a history ten times as long allocates
// about ten times as much, not a hundred (the table once copied the rest of
// its output for every line: 19 s for 20,000 amendments). It counts bytes,
// not time, so a loaded machine does not make it fail.
func TestHistoryCostIsLinear(t *testing.T) {
	perAmendment := func(n int) float64 {
		h, err := long(t, n).History("big")
		if err != nil {
			t.Fatal(err)
		}
		var werr error
		b := allocated(func() { werr = render.History(io.Discard, h) })
		if werr != nil {
			t.Fatal(werr)
		}
		return float64(b) / float64(n)
	}
	small, large := perAmendment(2000), perAmendment(20000)
	t.Logf("bytes allocated per amendment: %.0f at 2000, %.0f at 20000", small, large)
	if large > 2*small {
		t.Errorf("a history of 20000 amendments allocates %.0f bytes per amendment, %.1f× as much as one of 2000: the cost is not linear", large, large/small)
	}
}

// BenchmarkTimeline draws the timelines of long agreements: the cost is
// the history's once (reading it), not what it would be to draw each item.
func BenchmarkTimeline(b *testing.B) {
	draws := []struct {
		name string
		draw func(io.Writer, *projections.Timeline) error
	}{
		{"text", func(w io.Writer, tl *projections.Timeline) error {
			return render.Timeline(w, tl, render.TimelineOptions{})
		}},
		{"svg", func(w io.Writer, tl *projections.Timeline) error {
			return render.TimelineSVG(tl, w, render.SVGOptions{})
		}},
	}
	for _, n := range []int{2000, 20000} {
		tl, err := long(b, n).Timeline("big", time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		for _, d := range draws {
			b.Run(fmt.Sprintf("%s/%d", d.name, n), func(b *testing.B) {
				var size int64
				for b.Loop() {
					w := &counter{}
					if err := d.draw(w, tl); err != nil {
						b.Fatal(err)
					}
					size = w.n
				}
				b.ReportMetric(float64(size), "bytes")
			})
		}
	}
}

// counter counts what is written to it.
type counter struct{ n int64 }

func (c *counter) Write(b []byte) (int, error) {
	c.n += int64(len(b))
	return len(b), nil
}

// svgCounts reads an SVG drawing: the sum of the data-count of its elements
// of class, how many such elements there are, and how many bars of single
// clauses (data-clause) it draws.
func svgCounts(t *testing.T, svg []byte, class string) (sum, elements, bars int) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return sum, elements, bars
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		attr := map[string]string{}
		for _, a := range se.Attr {
			attr[a.Name.Local] = a.Value
		}
		if _, ok := attr["data-clause"]; ok {
			bars++
		}
		if attr["class"] == class {
			n, err := strconv.Atoi(attr["data-count"])
			if err != nil || n < 1 {
				t.Fatalf("%s with data-count %q", class, attr["data-count"])
			}
			sum += n
			elements++
		}
	}
}

// TestLongTimelineSVG: an agreement of 20,000 amendments and thousands of
// clauses draws small, its amendments grouped by column (the groups adding
// up to every amendment) and its clauses counted in a row per kind.
func TestLongTimelineSVG(t *testing.T) {
	tl, err := long(t, 20000).Timeline("big", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := render.TimelineSVG(tl, &b, render.SVGOptions{Width: 960}); err != nil {
		t.Fatal(err)
	}
	if b.Len() > 256<<10 {
		t.Errorf("the drawing is %d bytes, want at most 256 KiB", b.Len())
	}
	sum, groups, bars := svgCounts(t, b.Bytes(), "amendment-group")
	if sum != len(tl.Amendments) || groups > 960/6 || groups < 10 {
		t.Errorf("%d amendment groups of %d amendments in all, want at most 160 of %d", groups, sum, len(tl.Amendments))
	}
	if bars != 0 {
		t.Errorf("%d bars of single clauses among %d clauses", bars, len(tl.Clauses))
	}
	kinds := map[events.Kind]int{}
	for _, c := range tl.Clauses {
		kinds[c.Kind]++
	}
	for k, n := range kinds {
		if want := fmt.Sprintf(">%s (%d)<", strings.ReplaceAll(string(k), "_", " "), n); !bytes.Contains(b.Bytes(), []byte(want)) {
			t.Errorf("no row labelled %q", want)
		}
	}
	if _, lanes, _ := svgCounts(t, b.Bytes(), "lane"); lanes == 0 {
		t.Errorf("no clauses counted in the rows per kind")
	}
	t.Logf("%d clauses, %d amendments: %d bytes, %d amendment groups", len(tl.Clauses), len(tl.Amendments), b.Len(), groups)
}

// TestDenseAmendmentsSVG: more amendments than columns, on few enough
// clauses for a row each: the bars are drawn one by one, the amendments in
// groups that add up to them all.
func TestDenseAmendmentsSVG(t *testing.T) {
	tl, err := long(t, 600).Timeline("big", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Clauses) > 500 {
		t.Fatalf("%d clauses: the test wants at most 500", len(tl.Clauses))
	}
	segments := 0
	for _, c := range tl.Clauses {
		segments += len(c.Segments)
	}
	var b bytes.Buffer
	if err := render.TimelineSVG(tl, &b, render.SVGOptions{Width: 960}); err != nil {
		t.Fatal(err)
	}
	sum, groups, bars := svgCounts(t, b.Bytes(), "amendment-group")
	if sum != len(tl.Amendments) || groups > 160 {
		t.Errorf("%d amendment groups of %d amendments in all, want at most 160 of %d", groups, sum, len(tl.Amendments))
	}
	if bars != segments {
		t.Errorf("%d bars for %d segments", bars, segments)
	}
}

// TestLongTimelineText: the text of the long agreement counts too: a row
// per kind, the amendments listed by column and adding up to them all.
func TestLongTimelineText(t *testing.T) {
	tl, err := long(t, 20000).Timeline("big", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := render.Timeline(&b, tl, render.TimelineOptions{Width: 60}); err != nil {
		t.Fatal(err)
	}
	if b.Len() > 32<<10 {
		t.Errorf("the text is %d bytes, want at most 32 KiB", b.Len())
	}
	sum, lines := 0, 0
	for _, line := range strings.Split(b.String(), "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && strings.HasPrefix(f[0], "v") && f[1] == "effective" && strings.HasPrefix(f[len(f)-1], "amendment") {
			n, err := strconv.Atoi(f[len(f)-2])
			if err != nil {
				t.Fatalf("line %q", line)
			}
			sum += n
			lines++
		}
	}
	if sum != len(tl.Amendments) || lines > 60 {
		t.Errorf("%d lines of %d amendments in all, want at most 60 of %d:\n%s", lines, sum, len(tl.Amendments), b.String())
	}
	if !strings.Contains(b.String(), fmt.Sprintf("%d clauses, a row per kind", len(tl.Clauses))) {
		t.Errorf("the text does not say the clauses are counted:\n%s", b.String())
	}
}

// TestLongTimelineChart: the page's chart of the long agreement counts as
// the SVG file does: small, a row per kind, the amendments in groups that
// add up to them all.
func TestLongTimelineChart(t *testing.T) {
	tl, err := long(t, 20000).Timeline("big", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	chart := render.NewChart(tl, render.ChartOptions{At: time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC), Width: 900})
	svg := []byte(chart.SVG())
	if len(svg) > 256<<10 {
		t.Errorf("the chart is %d bytes, want at most 256 KiB", len(svg))
	}
	if !chart.CountsClauses() || !chart.GroupsAmendments() {
		t.Errorf("the chart of %d clauses and %d amendments counts clauses: %v, groups amendments: %v", len(tl.Clauses), len(tl.Amendments), chart.CountsClauses(), chart.GroupsAmendments())
	}
	sum, groups, bars := svgCounts(t, svg, "amendment-group")
	if sum != len(tl.Amendments) || groups > (900-196-26)/6 {
		t.Errorf("%d amendment groups of %d amendments in all, want at most 113 of %d", groups, sum, len(tl.Amendments))
	}
	if bars != 0 || bytes.Contains(svg, []byte(`data-detail="seg-`)) || bytes.Contains(svg, []byte(`class="marker"`)) {
		t.Errorf("the chart draws clauses or amendments one by one")
	}
	if _, lanes, _ := svgCounts(t, svg, "lane"); lanes == 0 {
		t.Errorf("no clauses counted in the rows per kind")
	}

	// Narrowed to two years, it groups only the amendments on its axis.
	from, to := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	on := 0
	for _, m := range tl.Amendments {
		if !m.Effective.Before(from) && !m.Effective.After(to) {
			on++
		}
	}
	sum, _, _ = svgCounts(t, []byte(render.NewChart(tl, render.ChartOptions{At: from, Width: 900, From: from, To: to}).SVG()), "amendment-group")
	if sum != on {
		t.Errorf("the chart of 2025 and 2026 groups %d amendments, want the %d effective then", sum, on)
	}
}
