package render

import (
	"fmt"
	"html"
	"math"
	"strings"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/projections"
)

// ChartOptions shape the web page's drawing of a timeline (NewChart).
type ChartOptions struct {
	At        time.Time              // the date shown: what is in force then is current
	Width     int                    // in pixels, clamped to [MinChartWidth, MaxChartWidth]
	From, To  time.Time              // the axis; zero: the whole history around At
	Conflicts []projections.Conflict // the conflicts in force at At, of any agreements
	Inline    bool                   // part of an HTML page (else a standalone document)
}

// Chart is an agreement's timeline drawn for the web page as SVG: one row
// per clause, one bar per interval in which it had the same values, coloured
// by kind; amendments and declared conditions as markers above the rows;
// ended clauses capped and labelled; a dashed line at the "as of" time; the
// parts of bars in conflict at that time hatched in red. Bars and markers
// carry data-detail, the id of an HTML <template> the page writes
// ("seg-I-J" for clause I's segment J, "am-ID" for an amendment) and shows
// on hover.
type Chart struct {
	tl        *projections.Timeline
	at        time.Time
	width     int
	from, to  time.Time
	conflicts []projections.Conflict // in force at at
	inline    bool                   // part of an HTML page (else a standalone file)

	x0, x1 float64
	cols   columns       // what is counted rather than drawn one by one
	lanes  []kindLane    // too many clauses for a row each: a row per kind
	groups []markerGroup // too many amendments for a marker each: a mark per column
}

const (
	labelW    = 196.0
	padR      = 26.0
	laneH     = 46.0
	chartRowH = 28.0
	chartBarH = 16.0
	axisH     = 28.0
	legendH   = 20.0

	// The widths a chart may have, in pixels.
	MinChartWidth = 320
	MaxChartWidth = 8000
)

// NewChart lays out the chart of tl.
func NewChart(tl *projections.Timeline, opts ChartOptions) *Chart {
	c := &Chart{tl: tl, at: opts.At, width: min(max(opts.Width, MinChartWidth), MaxChartWidth), conflicts: opts.Conflicts, inline: opts.Inline}
	c.from, c.to = autoRange(tl, opts.At)
	if !opts.From.IsZero() {
		c.from = opts.From
	}
	if !opts.To.IsZero() {
		c.to = opts.To
	}
	if !c.to.After(c.from) {
		c.to = c.from.AddDate(1, 0, 0)
	}
	c.x0, c.x1 = labelW, float64(c.width)-padR
	c.cols = columns{c.from, c.to, max(int((c.x1-c.x0)/markerGap), 1)}
	if len(tl.Clauses) > maxRows {
		c.lanes = kindLanes(tl, c.cols)
	}
	groups, on := groupMarkers(tl.Amendments, c.cols, true), 0
	for _, g := range groups {
		on += g.n
	}
	if on > c.cols.n {
		c.groups = groups
	}
	return c
}

// CountsClauses reports whether the chart has a row per kind of clause,
// counting those in force, rather than a row per clause (it has when there
// are more than 500): then no bar is a segment of its own.
func (c *Chart) CountsClauses() bool { return c.lanes != nil }

// GroupsAmendments reports whether the chart marks the amendments of each
// column of 6 pixels together, rather than each (it does when they are more
// than the columns): then only declared conditions mark amendments of their
// own.
func (c *Chart) GroupsAmendments() bool { return c.groups != nil }

// rows is the number of rows of bars.
func (c *Chart) rows() int {
	if c.lanes != nil {
		return len(c.lanes)
	}
	return len(c.tl.Clauses)
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

func (c *Chart) x(t time.Time) float64 {
	f := float64(t.Sub(c.from)) / float64(c.to.Sub(c.from))
	return c.x0 + f*(c.x1-c.x0)
}

func (c *Chart) height() float64 {
	return laneH + float64(max(c.rows(), 1))*chartRowH + axisH + float64(len(c.legendRows()))*legendH + 10
}

// inConflict returns the conflicts at c.at that involve clause id of this agreement.
func (c *Chart) inConflict(id string) []projections.Conflict {
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

func esc(s string) string { return html.EscapeString(s) }

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }

// SVG is the drawing.
func (c *Chart) SVG() string {
	var b strings.Builder
	h := c.height()
	rowsBottom := laneH + float64(max(c.rows(), 1))*chartRowH
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="%d" height="%s" viewBox="0 0 %d %s" role="img" aria-label="%s" data-agreement="%s" data-x0="%s" data-x1="%s" data-t0="%d" data-t1="%d" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif">`,
		c.width, f1(h), c.width, f1(h), esc("Timeline of "+c.tl.Agreement), esc(c.tl.Agreement), f1(c.x0), f1(c.x1), c.from.UnixMilli(), c.to.UnixMilli())
	b.WriteString(`<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#d62728" fill-opacity="0.25"/><line x1="0" y1="0" x2="0" y2="6" stroke="#d62728" stroke-width="3"/></pattern>`)
	b.WriteString(`<clipPath id="plot"><rect x="` + f1(c.x0) + `" y="0" width="` + f1(c.x1-c.x0+padR) + `" height="` + f1(h) + `"/></clipPath></defs>`)
	if !c.inline {
		b.WriteString(`<style>text{fill:#1f2328;font-size:12px}.off{opacity:.45}.tick{fill:#57606a;font-size:11px}.sub{fill:#57606a;font-size:11px}</style>`)
		b.WriteString(`<rect width="100%" height="100%" fill="#ffffff"/>`)
	}
	// Rows: zebra background and labels.
	if c.lanes != nil {
		for i, l := range c.lanes {
			c.rowHead(&b, i, l.kind, l.label(), false, l.about())
		}
	} else {
		for i, life := range c.tl.Clauses {
			label := life.ID
			if len(label) > 25 {
				label = label[:24] + "…"
			}
			ended := life.Ended != nil && !c.at.Before(life.Ended.At) // ended by the date shown
			c.rowHead(&b, i, life.Kind, label, ended, life.ID+" ("+string(life.Kind)+")")
		}
	}
	// Grid and axis.
	ts := chartTicks(c.from, c.to, c.x1-c.x0)
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
		fmt.Fprintf(&b, `<text x="%s" y="%s" class="sub" fill="#57606a">No clauses recorded.</text>`, f1(c.x0+8), f1(laneH+chartRowH/2+4))
	}
	// Bars.
	b.WriteString(`<g clip-path="url(#plot)">`)
	for i, l := range c.lanes {
		c.counts(&b, i, l)
	}
	if c.lanes == nil {
		for i, life := range c.tl.Clauses {
			c.row(&b, i, life)
		}
	}
	b.WriteString(`</g>`)
	c.lane(&b, rowsBottom)
	c.asOf(&b, rowsBottom)
	c.legend(&b, rowsBottom+axisH)
	b.WriteString(`</svg>`)
	return b.String()
}

// rowHead draws the background of row i and its label: a swatch of the
// kind's colours, the text (greyed for a clause that has ended) and its
// tooltip.
func (c *Chart) rowHead(b *strings.Builder, i int, k events.Kind, text string, ended bool, tip string) {
	y := laneH + float64(i)*chartRowH
	if i%2 == 0 {
		fmt.Fprintf(b, `<rect x="0" y="%s" width="%s" height="%s" fill="#f5f7fa"/>`, f1(y), f1(float64(c.width)), f1(chartRowH))
	}
	col := chartColours(k)
	class, fill := "rowlabel", "#1f2328"
	if ended {
		class, fill = "rowlabel ended", "#6e7781"
	}
	fmt.Fprintf(b, `<rect x="8" y="%s" width="11" height="11" rx="2" fill="%s" stroke="%s"/>`, f1(y+chartRowH/2-5.5), col[0], col[1])
	fmt.Fprintf(b, `<text class="%s" x="25" y="%s" font-size="12" fill="%s"><title>%s</title>%s</text>`, class, f1(y+chartRowH/2+4), fill, esc(tip), esc(text))
}

// row draws one clause's bars.
func (c *Chart) row(b *strings.Builder, i int, life projections.ClauseLife) {
	y := laneH + float64(i)*chartRowH
	top, mid := y+(chartRowH-chartBarH)/2, y+chartRowH/2
	col := chartColours(life.Kind)
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
		clause := SegmentClause(life, seg)
		stroke, sw := col[1], "1"
		if current {
			sw = "1.5"
		}
		if current && len(conflicts) > 0 {
			stroke, sw = "#d62728", "2.5"
		}
		until := "open-ended"
		if !seg.Until.IsZero() {
			until = Time(seg.Until)
		}
		fmt.Fprintf(b, `<g class="%s" data-clause="%s" data-detail="seg-%d-%d" tabindex="0">`, cls, esc(life.ID), i, j)
		fmt.Fprintf(b, `<title>%s: %s → %s</title>`, esc(life.ID), Time(seg.From), esc(until))
		opacity := ""
		if !current {
			opacity = ` opacity="0.5"`
		}
		fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s" rx="3" fill="%s" stroke="%s" stroke-width="%s"%s/>`, f1(x1), f1(top), f1(x2-x1), f1(chartBarH), col[0], stroke, sw, opacity)
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
					fmt.Fprintf(b, `<rect class="conflict-window" x="%s" y="%s" width="%s" height="%s" fill="url(#hatch)" stroke="#d62728" stroke-width="1.5" pointer-events="none"/>`, f1(wx1), f1(top-3), f1(math.Max(wx2-wx1, 3)), f1(chartBarH+6))
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

// counts draws row i of clauses counted by kind: the darker, the more in
// force.
func (c *Chart) counts(b *strings.Builder, i int, l kindLane) {
	top := laneH + float64(i)*chartRowH + (chartRowH-chartBarH)/2
	colW := (c.x1 - c.x0) / float64(c.cols.n)
	for _, r := range l.runs() {
		fmt.Fprintf(b, `<rect class="lane" data-kind="%s" data-count="%d" x="%s" y="%s" width="%s" height="%s" fill="%s" fill-opacity="%.2f"><title>%s</title></rect>`,
			l.kind, r.n, f1(c.x0+float64(r.c0)*colW), f1(top), f1(float64(r.c1-r.c0)*colW), f1(chartBarH), chartColours(l.kind)[1], 0.15+0.85*float64(r.n)/float64(l.most), esc(l.tip(r, c.cols)))
	}
}

// endCap marks where a clause stopped: a cap, and for a clause ended by an
// amendment (end, close, a declared condition) a label.
func (c *Chart) endCap(b *strings.Builder, x, y float64, e *projections.Edge, ended bool) {
	if e.Op == "term" {
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#444c56" stroke-width="2"/>`, f1(x), f1(y+5), f1(x), f1(y+chartRowH-5))
		return
	}
	fmt.Fprintf(b, `<line class="end-cap" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#24292f" stroke-width="3"/>`, f1(x), f1(y+3), f1(x), f1(y+chartRowH-3))
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
	label := what + " " + Time(e.At)
	if x+8+textWidth(label) <= c.x1+padR {
		fmt.Fprintf(b, `<text class="ended-label" x="%s" y="%s" font-size="11" font-style="italic" fill="#57606a">%s</text>`, f1(x+6), f1(y+chartRowH/2+4), esc(label))
	}
}

// lane draws the amendment markers and declared conditions above the rows.
func (c *Chart) lane(b *strings.Builder, rowsBottom float64) {
	fmt.Fprintf(b, `<text x="8" y="%s" font-size="11" fill="#57606a">amendments</text>`, f1(laneH-10))
	if c.groups != nil {
		c.markerGroups(b)
	} else {
		c.markers(b, rowsBottom)
	}
	for _, d := range c.tl.Conditions {
		x := c.x(d.At)
		if x < c.x0 || x > c.x1 {
			continue
		}
		fmt.Fprintf(b, `<g class="condition" data-detail="am-%s"><title>%s declared %s</title>`, esc(d.Amendment), esc(d.Condition), Time(d.At))
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#7b3fa0" stroke-dasharray="5 3"/>`, f1(x), f1(laneH-2), f1(x), f1(rowsBottom))
		fmt.Fprintf(b, `<path d="M%s %s l6 6 l-6 6 l-6 -6 z" fill="#7b3fa0"/>`, f1(x), f1(laneH-20))
		if c.groups == nil { // among grouped amendments, names would run into each other
			fmt.Fprintf(b, `<text x="%s" y="%s" font-size="11" fill="#7b3fa0">%s</text>`, f1(x+8), f1(laneH-10), esc(d.Condition+" declared"))
		}
		b.WriteString(`</g>`)
	}
}

// markers draws a marker per amendment, labelled with its version. The
// amendments effective at the same instant share a marker (markerStack),
// labelled with each version, each of which shows its own details; the
// marker shows them all.
func (c *Chart) markers(b *strings.Builder, rowsBottom float64) {
	lastX, lastW, lastStack := math.Inf(-1), 0.0, false
	stagger := 0
	for _, s := range stackMarkers(c.tl.Amendments) {
		x := c.x(s[0].Effective)
		if x < c.x0-1 || x > c.x1+1 {
			continue
		}
		stack := len(s) > 1
		w := textWidth(s.label(markerLabel))
		gap := 26.0 // room for two versions side by side
		if stack || lastStack {
			gap = max(gap, (w+lastW)/2+6)
		}
		if x-lastX < gap {
			stagger = 1 - stagger
		} else {
			stagger = 0
		}
		lastX, lastW, lastStack = x, w, stack
		fill := "#24292f"
		if s.retracted() {
			fill = "none"
		}
		if stack {
			ids, details := make([]string, len(s)), make([]string, len(s))
			for i, m := range s {
				ids[i], details[i] = m.ID, "am-"+m.ID
			}
			fmt.Fprintf(b, `<g class="marker stack" data-amendments="%s" data-versions="%s" data-detail="%s" tabindex="0">`, esc(strings.Join(ids, " ")), s.versions(), esc(strings.Join(details, " ")))
			fmt.Fprintf(b, `<title>%s</title>`, esc(s.tip(chartTip)))
		} else {
			fmt.Fprintf(b, `<g class="marker" data-amendment="%s" data-detail="am-%s" tabindex="0">`, esc(s[0].ID), esc(s[0].ID))
			fmt.Fprintf(b, `<title>%s</title>`, esc(chartTip(s[0])))
		}
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#57606a" stroke-dasharray="2 3" opacity="0.7"/>`, f1(x), f1(laneH-2), f1(x), f1(rowsBottom))
		fmt.Fprintf(b, `<path d="M%s %s l-6 -9 h12 z" fill="%s" stroke="#24292f"/>`, f1(x), f1(laneH-2), fill)
		fmt.Fprintf(b, `<path d="M%s %s l-4 6 h8 z" fill="%s" stroke="#24292f"/>`, f1(x), f1(rowsBottom), fill)
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle" font-size="11" font-weight="600" fill="#24292f">`, f1(x), f1(laneH-14-float64(stagger)*11))
		if stack {
			shown, more := s.shown()
			for i, m := range shown {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(b, `<tspan data-amendment="%s" data-detail="am-%s">%s</tspan>`, esc(m.ID), esc(m.ID), esc(markerLabel(m)))
			}
			if more > 0 {
				fmt.Fprintf(b, " +%d", more)
			}
		} else {
			b.WriteString(esc(markerLabel(s[0])))
		}
		b.WriteString(`</text></g>`)
	}
}

// markerLabel is an amendment's label on its marker: its version, crossed
// when it was retracted.
func markerLabel(m projections.Marker) string {
	if m.Retracted {
		return fmt.Sprintf("v%d×", m.Version)
	}
	return fmt.Sprintf("v%d", m.Version)
}

// markerGroups draws the amendments of each column as one mark, as tall as
// they are many, labelled with their count where there is room.
func (c *Chart) markerGroups(b *strings.Builder) {
	colW := (c.x1 - c.x0) / float64(c.cols.n)
	for _, m := range groupMarks(c.groups, c.x0, colW, 12) {
		fill := "#24292f"
		if m.retracted == m.n {
			fill = "#8c959f"
		}
		fmt.Fprintf(b, `<g class="amendment-group" data-count="%d" data-versions="%s"><title>%s</title>`, m.n, m.versions(), esc(m.tip(chartTip)))
		fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`, f1(m.x), f1(laneH-4-m.height), f1(max(colW-1, 1)), f1(m.height), fill)
		if m.label {
			fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle" font-size="11" fill="#57606a">%d</text>`, f1(m.mid), f1(laneH-19), m.n)
		}
		b.WriteString(`</g>`)
	}
}

// chartTip is the tooltip of an amendment's marker.
func chartTip(m projections.Marker) string {
	return fmt.Sprintf("v%d, effective %s: %s", m.Version, Time(m.Effective), m.Summary)
}

// asOf draws the vertical line at the "as of" time.
func (c *Chart) asOf(b *strings.Builder, rowsBottom float64) {
	x := c.x(c.at)
	if x < c.x0 || x > c.x1 {
		return
	}
	fmt.Fprintf(b, `<line class="as-of" x1="%s" y1="14" x2="%s" y2="%s" stroke="#0550ae" stroke-width="1.5" stroke-dasharray="5 3"/>`, f1(x), f1(x), f1(rowsBottom+4))
	label := "as of " + Time(c.at)
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
func (c *Chart) legendRows() [][]legendItem {
	seen := map[events.Kind]bool{}
	for _, l := range c.tl.Clauses {
		seen[l.Kind] = true
	}
	var items []legendItem
	for _, k := range events.Kinds {
		if !seen[k] {
			continue
		}
		col := chartColours(k)
		items = append(items, legendItem{func(x, y float64) string {
			return fmt.Sprintf(`<rect x="%s" y="%s" width="11" height="11" rx="2" fill="%s" stroke="%s"/>`, f1(x), f1(y-9.5), col[0], col[1])
		}, KindWord(k)})
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
func (c *Chart) legend(b *strings.Builder, y float64) {
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

type chartTick struct {
	at    time.Time
	label string
}

// ticks chooses calendar ticks at least ~50 px apart.
func chartTicks(from, to time.Time, px float64) []chartTick {
	steps := []int{1, 3, 6, 12, 24, 60, 120, 240, 600, 1200}
	months := to.Sub(from).Hours() / 24 / 30.44
	step := steps[len(steps)-1]
	for _, s := range steps {
		if months/float64(s)*50 <= px {
			step = s
			break
		}
	}
	var out []chartTick
	if step >= 12 {
		years := step / 12
		y := from.Year() - from.Year()%years
		for t := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC); !t.After(to); t = t.AddDate(years, 0, 0) {
			if !t.Before(from) {
				out = append(out, chartTick{t, fmt.Sprint(t.Year())})
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
		out = append(out, chartTick{t, label})
	}
	return out
}

// chartColours are the fill and stroke of a kind's bars.
func chartColours(k events.Kind) [2]string {
	c := coloursOf(k)
	return [2]string{c.fill, c.stroke}
}

// segmentLabel is the short text drawn inside a bar.
func segmentLabel(k events.Kind, c *events.Clause) string {
	switch k {
	case events.License:
		if c.Exclusive {
			return "exclusive"
		}
		return "non-exclusive"
	case events.Exclusivity:
		return ScopeWords(c.Scope)
	case events.RevenueShare:
		s := "rate " + Rate(c.Rate)
		if c.Cap != nil {
			s += ", cap " + Money(c.Cap)
		}
		return s
	case events.Commitment:
		return Money(c.Amount)
	case events.Investment:
		var total *events.Money
		for _, t := range c.Tranches {
			switch {
			case total == nil:
				m := t.Amount
				total = &m
			case t.Amount.Undisclosed || total.Undisclosed:
				total = &events.Money{Undisclosed: true, Currency: total.Currency}
			case t.Amount.Currency == total.Currency:
				total = &events.Money{Amount: total.Amount.Add(t.Amount.Amount), Currency: total.Currency}
			}
		}
		return "up to " + Money(total)
	}
	return c.What // its text (a right, what is owed), if any
}

// SegmentClause is the clause as it stood during a segment of its life,
// rebuilt from the fields the segment holds (events.Clause.Fields). Values
// of unexpected types are left out.
func SegmentClause(life projections.ClauseLife, seg projections.Segment) *events.Clause {
	fields := seg.Fields
	c := &events.Clause{ID: life.ID, Kind: life.Kind}
	str := func(name string) string { s, _ := fields[name].(string); return s }
	g, hName := events.PartyFields(life.Kind)
	c.Grantor, c.Holder = str(g), str(hName)
	if text := events.TextField(life.Kind); text != "" {
		c.What = str(text)
	}
	c.Exclusive, _ = fields["exclusive"].(bool)
	c.Sole, _ = fields["sole"].(bool)
	c.Scope, _ = fields["scope"].(*events.Scope)
	c.Rate, _ = fields["rate"].(*events.Rate)
	c.Cap, _ = fields["cap"].(*events.Money)
	c.Amount, _ = fields["amount"].(*events.Money)
	c.Tranches, _ = fields["tranches"].([]events.Tranche)
	c.Term, _ = fields["term"].(*events.Term)
	c.Note = str("note")
	return c
}
