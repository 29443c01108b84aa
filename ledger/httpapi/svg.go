package httpapi

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/projections"
)

// chart draws an agreement's timeline as SVG: one row per clause, one bar per
// interval in which it had the same values, coloured by kind; amendments and
// declared conditions as markers above the rows; ended clauses capped and
// labelled; a dashed line at the "as of" time; the parts of bars in conflict
// at that time hatched in red. Bars and markers carry data-detail, the id of
// an HTML <template> (written by details) that the page shows on hover.
type chart struct {
	tl        *projections.Timeline
	at        time.Time
	width     int
	from, to  time.Time
	conflicts []projections.Conflict // in force at at
	inline    bool                   // part of an HTML page (else a standalone file)

	markers map[string]projections.Marker
	x0, x1  float64
}

const (
	labelW  = 196.0
	padR    = 26.0
	laneH   = 46.0
	rowH    = 28.0
	barH    = 16.0
	axisH   = 28.0
	legendH = 20.0

	minWidth = 320
	maxWidth = 8000
)

func newChart(tl *projections.Timeline, at time.Time, width int, from, to time.Time, conflicts []projections.Conflict, inline bool) *chart {
	c := &chart{tl: tl, at: at, width: min(max(width, minWidth), maxWidth), conflicts: conflicts, inline: inline, markers: map[string]projections.Marker{}}
	for _, m := range tl.Amendments {
		c.markers[m.ID] = m
	}
	c.from, c.to = autoRange(tl, at)
	if !from.IsZero() {
		c.from = from
	}
	if !to.IsZero() {
		c.to = to
	}
	if !c.to.After(c.from) {
		c.to = c.from.AddDate(1, 0, 0)
	}
	c.x0, c.x1 = labelW, float64(c.width)-padR
	return c
}

// autoRange is the span of the timeline and the "as of" time, with room on
// the right for open-ended bars, and at least a year.
func autoRange(tl *projections.Timeline, at time.Time) (time.Time, time.Time) {
	lo, hi := tl.Span[0], tl.Span[1]
	if lo.IsZero() || at.Before(lo) {
		lo = at
	}
	if hi.IsZero() || at.After(hi) {
		hi = at
	}
	if hi.Sub(lo) < 365*24*time.Hour {
		mid := lo.Add(hi.Sub(lo) / 2)
		lo, hi = mid.Add(-183*24*time.Hour), mid.Add(183*24*time.Hour)
	}
	span := hi.Sub(lo)
	return lo.Add(-span / 25), hi.Add(span / 12)
}

func (c *chart) x(t time.Time) float64 {
	f := float64(t.Sub(c.from)) / float64(c.to.Sub(c.from))
	return c.x0 + f*(c.x1-c.x0)
}

// clampX keeps x inside the bar area.
func (c *chart) clampX(x float64) float64 { return math.Min(math.Max(x, c.x0), c.x1) }

func (c *chart) height() float64 {
	return laneH + float64(max(len(c.tl.Clauses), 1))*rowH + axisH + float64(len(c.legendRows()))*legendH + 10
}

// inConflict returns the conflicts at c.at that involve clause id of this agreement.
func (c *chart) inConflict(id string) []projections.Conflict {
	var out []projections.Conflict
	for _, k := range c.conflicts {
		for _, p := range k.Clauses {
			if p.Agreement == c.tl.Agreement && p.Clause == id {
				out = append(out, k)
				break
			}
		}
	}
	return out
}

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }

// svg writes the drawing.
func (c *chart) svg() string {
	var b strings.Builder
	w, h := float64(c.width), c.height()
	rowsBottom := laneH + float64(max(len(c.tl.Clauses), 1))*rowH
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="%d" height="%s" viewBox="0 0 %d %s" role="img" aria-label="%s" data-agreement="%s" data-x0="%s" data-x1="%s" data-t0="%d" data-t1="%d" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif">`,
		c.width, f1(h), c.width, f1(h), esc("Timeline of "+c.tl.Agreement), esc(c.tl.Agreement), f1(c.x0), f1(c.x1), c.from.UnixMilli(), c.to.UnixMilli())
	b.WriteString(`<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#d62728" fill-opacity="0.25"/><line x1="0" y1="0" x2="0" y2="6" stroke="#d62728" stroke-width="3"/></pattern>`)
	b.WriteString(`<clipPath id="plot"><rect x="` + f1(c.x0) + `" y="0" width="` + f1(c.x1-c.x0+padR) + `" height="` + f1(h) + `"/></clipPath></defs>`)
	if !c.inline {
		b.WriteString(`<style>text{fill:#1f2328;font-size:12px}.off{opacity:.45}.tick{fill:#57606a;font-size:11px}.sub{fill:#57606a;font-size:11px}</style>`)
		b.WriteString(`<rect width="100%" height="100%" fill="#ffffff"/>`)
	}
	// Rows: zebra background and labels.
	for i, life := range c.tl.Clauses {
		y := laneH + float64(i)*rowH
		if i%2 == 0 {
			fmt.Fprintf(&b, `<rect x="0" y="%s" width="%s" height="%s" fill="#f5f7fa"/>`, f1(y), f1(w), f1(rowH))
		}
		col := colorOf(life.Kind)
		ended := life.Ended != nil && !c.at.Before(life.Ended.At) // ended by the date shown
		fmt.Fprintf(&b, `<rect x="8" y="%s" width="11" height="11" rx="2" fill="%s" stroke="%s"/>`, f1(y+rowH/2-5.5), col[0], col[1])
		label := life.ID
		if len(label) > 25 {
			label = label[:24] + "…"
		}
		cls := "rowlabel"
		if ended {
			cls += " ended"
		}
		fmt.Fprintf(&b, `<text class="%s" x="25" y="%s" font-size="12"%s><title>%s (%s)</title>%s</text>`, cls, f1(y+rowH/2+4), map[bool]string{true: ` fill="#6e7781"`, false: ` fill="#1f2328"`}[ended], esc(life.ID), esc(string(life.Kind)), esc(label))
	}
	// Grid and axis.
	ts := ticks(c.from, c.to, c.x1-c.x0)
	for _, t := range ts {
		x := c.x(t.at)
		if x < c.x0-0.5 || x > c.x1+0.5 {
			continue
		}
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e1e4e8"/>`, f1(x), f1(laneH-4), f1(x), f1(rowsBottom))
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#8c959f"/>`, f1(x), f1(rowsBottom), f1(x), f1(rowsBottom+5))
		fmt.Fprintf(&b, `<text class="tick" x="%s" y="%s" text-anchor="middle" font-size="11" fill="#57606a">%s</text>`, f1(x), f1(rowsBottom+17), esc(t.label))
	}
	fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#8c959f"/>`, f1(c.x0), f1(rowsBottom), f1(c.x1), f1(rowsBottom))
	// A band to click for a date.
	fmt.Fprintf(&b, `<rect class="axis-hit" x="%s" y="%s" width="%s" height="%s" fill="transparent"><title>Click to see the agreement as of that date</title></rect>`, f1(c.x0), f1(rowsBottom), f1(c.x1-c.x0), f1(axisH))
	if len(c.tl.Clauses) == 0 {
		fmt.Fprintf(&b, `<text x="%s" y="%s" class="sub" fill="#57606a">No clauses recorded.</text>`, f1(c.x0+8), f1(laneH+rowH/2+4))
	}
	// Bars.
	b.WriteString(`<g clip-path="url(#plot)">`)
	for i, life := range c.tl.Clauses {
		c.row(&b, i, life)
	}
	b.WriteString(`</g>`)
	c.lane(&b, rowsBottom)
	c.asOf(&b, rowsBottom)
	c.legend(&b, rowsBottom+axisH)
	b.WriteString(`</svg>`)
	return b.String()
}

// row draws one clause's bars.
func (c *chart) row(b *strings.Builder, i int, life projections.ClauseLife) {
	y := laneH + float64(i)*rowH
	top, mid := y+(rowH-barH)/2, y+rowH/2
	col := colorOf(life.Kind)
	conflicts := c.inConflict(life.ID)
	for j, seg := range life.Segments {
		x1 := c.x(seg.From)
		x2, beyond := c.x1+1, true // open-ended, or ending past the axis: an arrow
		if !seg.Until.IsZero() && c.x(seg.Until) <= c.x1+1 {
			x2, beyond = c.x(seg.Until), false
		}
		if x2 < c.x0 || x1 > c.x1 {
			continue
		}
		x1 = math.Max(x1, c.x0)
		if x2-x1 < 2 {
			x2 = x1 + 2
		}
		current := !c.at.Before(seg.From) && (seg.Until.IsZero() || c.at.Before(seg.Until))
		cls := "bar"
		if current {
			cls += " current"
		} else {
			cls += " off"
		}
		if current && len(conflicts) > 0 {
			cls += " conflict"
		}
		clause := fieldsClause(life.ID, life.Kind, seg.Fields)
		stroke, sw := col[1], "1"
		if current {
			sw = "1.5"
		}
		if current && len(conflicts) > 0 {
			stroke, sw = "#d62728", "2.5"
		}
		until := "open-ended"
		if !seg.Until.IsZero() {
			until = day(seg.Until)
		}
		fmt.Fprintf(b, `<g class="%s" data-clause="%s" data-detail="seg-%d-%d" tabindex="0">`, cls, esc(life.ID), i, j)
		fmt.Fprintf(b, `<title>%s: %s → %s</title>`, esc(life.ID), day(seg.From), esc(until))
		opacity := ""
		if !current {
			opacity = ` opacity="0.5"`
		}
		fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s" rx="3" fill="%s" stroke="%s" stroke-width="%s"%s/>`, f1(x1), f1(top), f1(x2-x1), f1(barH), col[0], stroke, sw, opacity)
		if beyond {
			fmt.Fprintf(b, `<path d="M%s %s l7 %s l-7 %s z" fill="%s"%s/>`, f1(x2), f1(mid-6), f1(6), f1(6), col[1], opacity)
		}
		if current {
			// The part of the bar in conflict as of the date, hatched red.
			for _, k := range conflicts {
				wx1 := math.Max(c.x(k.From), c.x0)
				wx2 := c.x1 + 1
				if !k.Until.IsZero() {
					wx2 = math.Min(c.x(k.Until), c.x1+1)
				}
				if wx2 > wx1 {
					fmt.Fprintf(b, `<rect class="conflict-window" x="%s" y="%s" width="%s" height="%s" fill="url(#hatch)" stroke="#d62728" stroke-width="1.5" pointer-events="none"/>`, f1(wx1), f1(top-3), f1(math.Max(wx2-wx1, 3)), f1(barH+6))
				}
			}
		}
		label := segmentLabel(life.Kind, clause)
		if clause.Term != nil && clause.Term.EndsOn != "" {
			label += " · until " + clause.Term.EndsOn
			fmt.Fprintf(b, `<path d="M%s %s l4 4 l-4 4 l-4 -4 z" fill="#7b3fa0"><title>ends when %s is declared</title></path>`, f1(x2-8), f1(mid-4), esc(clause.Term.EndsOn))
		}
		if text := fit(label, x2-x1-16); text != "" {
			halo := "" // keeps the text legible over a conflict's hatching
			if current {
				halo = fmt.Sprintf(` stroke="%s" stroke-width="3" paint-order="stroke" stroke-linejoin="round"`, col[0])
			}
			fmt.Fprintf(b, `<text x="%s" y="%s" font-size="11" fill="#1f2328"%s pointer-events="none">%s</text>`, f1(x1+5), f1(mid+4), halo, esc(text))
		}
		b.WriteString(`</g>`)
		if seg.Closed != nil && seg.Closed.Op != "amend" && !seg.Until.IsZero() && x2 <= c.x1 {
			c.endCap(b, x2, y, seg.Closed, j == len(life.Segments)-1 && life.Ended != nil)
		}
	}
}

// endCap marks where a clause stopped: a cap, and for a clause ended by an
// amendment (end, close, a declared condition) a label.
func (c *chart) endCap(b *strings.Builder, x, y float64, e *projections.Edge, ended bool) {
	if e.Op == "term" {
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#444c56" stroke-width="2"/>`, f1(x), f1(y+5), f1(x), f1(y+rowH-5))
		return
	}
	fmt.Fprintf(b, `<line class="end-cap" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#24292f" stroke-width="3"/>`, f1(x), f1(y+3), f1(x), f1(y+rowH-3))
	if !ended {
		return
	}
	what := "ended"
	switch e.Op {
	case "close":
		what = "closed"
	case "declare":
		what = "ended (condition)"
	}
	label := what + " " + day(e.At)
	if x+8+textWidth(label) <= c.x1+padR {
		fmt.Fprintf(b, `<text class="ended-label" x="%s" y="%s" font-size="11" font-style="italic" fill="#57606a">%s</text>`, f1(x+6), f1(y+rowH/2+4), esc(label))
	}
}

// lane draws the amendment markers and declared conditions above the rows.
func (c *chart) lane(b *strings.Builder, rowsBottom float64) {
	fmt.Fprintf(b, `<text x="8" y="%s" font-size="11" fill="#57606a">amendments</text>`, f1(laneH-10))
	lastX := math.Inf(-1)
	stagger := 0
	for _, m := range c.tl.Amendments {
		x := c.x(m.Effective)
		if x < c.x0-1 || x > c.x1+1 {
			continue
		}
		if x-lastX < 26 {
			stagger = 1 - stagger
		} else {
			stagger = 0
		}
		lastX = x
		fill, label := "#24292f", fmt.Sprintf("v%d", m.Version)
		if m.Retracted {
			fill, label = "none", label+"×"
		}
		fmt.Fprintf(b, `<g class="marker" data-amendment="%s" data-detail="am-%s" tabindex="0">`, esc(m.ID), esc(m.ID))
		fmt.Fprintf(b, `<title>v%d, effective %s: %s</title>`, m.Version, day(m.Effective), esc(m.Summary))
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#57606a" stroke-dasharray="2 3" opacity="0.7"/>`, f1(x), f1(laneH-2), f1(x), f1(rowsBottom))
		fmt.Fprintf(b, `<path d="M%s %s l-6 -9 h12 z" fill="%s" stroke="#24292f"/>`, f1(x), f1(laneH-2), fill)
		fmt.Fprintf(b, `<path d="M%s %s l-4 6 h8 z" fill="%s" stroke="#24292f"/>`, f1(x), f1(rowsBottom), fill)
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle" font-size="11" font-weight="600" fill="#24292f">%s</text>`, f1(x), f1(laneH-14-float64(stagger)*11), esc(label))
		b.WriteString(`</g>`)
	}
	for _, d := range c.tl.Conditions {
		x := c.x(d.At)
		if x < c.x0 || x > c.x1 {
			continue
		}
		fmt.Fprintf(b, `<g class="condition" data-detail="am-%s"><title>%s declared %s</title>`, esc(d.Amendment), esc(d.Condition), day(d.At))
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#7b3fa0" stroke-dasharray="5 3"/>`, f1(x), f1(laneH-2), f1(x), f1(rowsBottom))
		fmt.Fprintf(b, `<path d="M%s %s l6 6 l-6 6 l-6 -6 z" fill="#7b3fa0"/>`, f1(x), f1(laneH-20))
		fmt.Fprintf(b, `<text x="%s" y="%s" font-size="11" fill="#7b3fa0">%s</text>`, f1(x+8), f1(laneH-10), esc(d.Condition+" declared"))
		b.WriteString(`</g>`)
	}
}

// asOf draws the vertical line at the "as of" time.
func (c *chart) asOf(b *strings.Builder, rowsBottom float64) {
	x := c.x(c.at)
	if x < c.x0 || x > c.x1 {
		return
	}
	fmt.Fprintf(b, `<line class="as-of" x1="%s" y1="14" x2="%s" y2="%s" stroke="#0550ae" stroke-width="1.5" stroke-dasharray="5 3"/>`, f1(x), f1(x), f1(rowsBottom+4))
	label := "as of " + day(c.at)
	tw := textWidth(label) + 10
	lx := math.Min(math.Max(x-tw/2, c.x0-20), float64(c.width)-tw-2)
	fmt.Fprintf(b, `<g class="as-of-label"><rect x="%s" y="1" width="%s" height="15" rx="3" fill="#0550ae"/><text x="%s" y="12.5" font-size="11" font-weight="600" fill="#ffffff">%s</text></g>`, f1(lx), f1(tw), f1(lx+5), esc(label))
}

// legendItem is one entry of the legend: a mark drawn at (x, baseline y) and its text.
type legendItem struct {
	draw func(x, y float64) string
	text string
}

// legendRows lays the legend out in rows that fit the width: the colours of
// the kinds drawn, then the marks.
func (c *chart) legendRows() [][]legendItem {
	seen := map[events.Kind]bool{}
	for _, l := range c.tl.Clauses {
		seen[l.Kind] = true
	}
	var items []legendItem
	for _, k := range events.Kinds {
		if !seen[k] {
			continue
		}
		col := colorOf(k)
		items = append(items, legendItem{func(x, y float64) string {
			return fmt.Sprintf(`<rect x="%s" y="%s" width="11" height="11" rx="2" fill="%s" stroke="%s"/>`, f1(x), f1(y-9.5), col[0], col[1])
		}, strings.ReplaceAll(string(k), "_", " ")})
	}
	items = append(items,
		legendItem{func(x, y float64) string {
			return fmt.Sprintf(`<path d="M%s %s l-5 -8 h10 z" fill="#24292f"/>`, f1(x+5), f1(y))
		}, "amendment"},
		legendItem{func(x, y float64) string {
			return fmt.Sprintf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#24292f" stroke-width="3"/>`, f1(x+5), f1(y-11), f1(x+5), f1(y+2))
		}, "ended"},
		legendItem{func(x, y float64) string {
			return fmt.Sprintf(`<path d="M%s %s l4 4 l-4 4 l-4 -4 z" fill="#7b3fa0"/>`, f1(x+5), f1(y-9))
		}, "ends on a condition"},
		legendItem{func(x, y float64) string {
			return fmt.Sprintf(`<rect x="%s" y="%s" width="14" height="11" fill="url(#hatch)" stroke="#d62728"/>`, f1(x), f1(y-9.5))
		}, "in conflict as of the date"},
		legendItem{func(x, y float64) string {
			return fmt.Sprintf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#0550ae" stroke-width="1.5" stroke-dasharray="4 2"/>`, f1(x+5), f1(y-11), f1(x+5), f1(y+2))
		}, "as of"},
	)
	var rows [][]legendItem
	var row []legendItem
	x := 8.0
	for _, it := range items {
		w := 26 + textWidth(it.text)
		if len(row) > 0 && x+w > float64(c.width)-8 {
			rows, row, x = append(rows, row), nil, 8
		}
		row = append(row, it)
		x += w
	}
	return append(rows, row)
}

// legend draws the legend rows from y down.
func (c *chart) legend(b *strings.Builder, y float64) {
	for i, row := range c.legendRows() {
		x, ty := 8.0, y+16+float64(i)*legendH
		for _, it := range row {
			b.WriteString(it.draw(x, ty))
			fmt.Fprintf(b, `<text x="%s" y="%s" font-size="11" fill="#57606a">%s</text>`, f1(x+17), f1(ty), esc(it.text))
			x += 26 + textWidth(it.text)
		}
	}
}

// charWidth is the average advance of a character at 11px in the sans-serif
// fonts pages get (DejaVu Sans is among the widest).
const charWidth = 6.9

// textWidth estimates the width of text at 11px.
func textWidth(s string) float64 { return float64(len([]rune(s))) * charWidth }

// fit shortens s to fit width pixels at 11px, or returns "" if little would show.
func fit(s string, width float64) string {
	n := int(width / charWidth)
	r := []rune(s)
	switch {
	case len(r) <= n:
		return s
	case n < 6:
		return ""
	}
	return string(r[:n-1]) + "…"
}

type tick struct {
	at    time.Time
	label string
}

// ticks chooses calendar ticks at least ~50 px apart.
func ticks(from, to time.Time, px float64) []tick {
	steps := []int{1, 3, 6, 12, 24, 60, 120, 240, 600, 1200}
	months := to.Sub(from).Hours() / 24 / 30.44
	step := steps[len(steps)-1]
	for _, s := range steps {
		if months/float64(s)*50 <= px {
			step = s
			break
		}
	}
	var out []tick
	if step >= 12 {
		years := step / 12
		y := from.Year() - from.Year()%years
		for t := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC); !t.After(to); t = t.AddDate(years, 0, 0) {
			if !t.Before(from) {
				out = append(out, tick{t, fmt.Sprint(t.Year())})
			}
		}
		return out
	}
	m := int(from.Month()-1) - int(from.Month()-1)%step
	for t := time.Date(from.Year(), time.Month(m+1), 1, 0, 0, 0, 0, time.UTC); !t.After(to); t = t.AddDate(0, step, 0) {
		if t.Before(from) {
			continue
		}
		label := t.Format("Jan")
		if t.Month() == time.January || len(out) == 0 {
			label = t.Format("Jan 2006")
		}
		out = append(out, tick{t, label})
	}
	return out
}
