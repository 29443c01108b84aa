package render

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/projections"
)

// SVGOptions shape an SVG timeline.
type SVGOptions struct {
	// Width of the drawing in pixels. Default 960.
	Width int
	// Now, if set, is marked on the axis with a line.
	Now time.Time
}

// kindColours are the bar colours of each clause kind: a base and an
// alternate for successive segments.
var kindColours = map[events.Kind][2]string{
	events.License:      {"#3b6fb6", "#7fa6db"},
	events.Exclusivity:  {"#c0392b", "#e17a6f"},
	events.RevenueShare: {"#1e8449", "#6cc08b"},
	events.Commitment:   {"#8e44ad", "#bb8fce"},
	events.Investment:   {"#b9770e", "#e5b15c"},
	events.Right:        {"#117a8b", "#62b5c2"},
	events.Obligation:   {"#5d6d7e", "#a3b0bd"},
}

// TimelineSVG draws an agreement's timeline as a standalone SVG document:
// one row per clause with a bar per segment (a change of values starts a new
// segment, in a lighter shade), open-ended bars ending in an arrow, a year
// axis, a dashed line per amendment labelled with its version, and a
// tooltip (<title>) on every bar with its values and the amendments at its
// edges. The drawing depends only on tl and opts.
func TimelineSVG(tl *projections.Timeline, w io.Writer, opts SVGOptions) error {
	width := opts.Width
	if width <= 0 {
		width = 960
	}
	const (
		top    = 64 // title and axis labels
		rowH   = 30
		barH   = 18
		bottom = 40 // amendment labels
	)
	label := 24
	for _, c := range tl.Clauses {
		label = max(label, len([]rune(c.ID)))
	}
	left := float64(min(label, 36))*7.2 + 24
	right := 24.0
	plot := float64(width) - left - right
	height := top + rowH*max(len(tl.Clauses), 1) + bottom
	ax := newAxis(tl)
	x := func(t time.Time) float64 { return left + ax.at(t, plot) }
	vs := versions(tl)

	b := bufio.NewWriter(w)
	pf := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	esc := html.EscapeString

	title := tl.Agreement
	if tl.Title != "" {
		title += " — " + tl.Title
	}
	pf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`+"\n", width, height, width, height)
	pf(`<title>%s</title>`+"\n", esc(title+" — timeline, "+KnownAt(tl.KnownAt)))
	pf(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	pf(`<text x="12" y="22" font-size="15" font-weight="600" fill="#222">%s</text>`+"\n", esc(title))
	pf(`<text x="12" y="40" fill="#666">%s</text>`+"\n", esc("valid time; "+KnownAt(tl.KnownAt)))

	// Year grid.
	axisY, plotBottom := float64(top), float64(top+rowH*max(len(tl.Clauses), 1))
	pf(`<g class="axis" stroke="#e3e3e3">` + "\n")
	years := ax.years(int(plot / 48))
	for _, y := range years {
		gx := x(time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC))
		pf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`+"\n", gx, axisY-6, gx, plotBottom)
	}
	pf("</g>\n")
	pf(`<g class="years" fill="#555" text-anchor="middle">` + "\n")
	for _, y := range years {
		gx := x(time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC))
		pf(`<text x="%.1f" y="%.1f">%d</text>`+"\n", gx, axisY-10, y)
	}
	pf("</g>\n")

	// Bars.
	for i, c := range tl.Clauses {
		rowY := float64(top + rowH*i)
		if i%2 == 1 {
			pf(`<rect x="0" y="%.1f" width="%d" height="%d" fill="#f7f7f9"/>`+"\n", rowY, width, rowH)
		}
		pf(`<text x="12" y="%.1f" fill="#222" dominant-baseline="middle">%s<title>%s</title></text>`+"\n",
			rowY+rowH/2, esc(Truncate(c.ID, 36)), esc(c.ID+" ("+kindWord(c.Kind)+")"))
		colours, ok := kindColours[c.Kind]
		if !ok {
			colours = [2]string{"#777", "#aaa"}
		}
		var prev map[string]any
		for j, s := range c.Segments {
			x0 := x(s.From)
			x1 := left + plot
			if !s.Until.IsZero() {
				x1 = x(s.Until)
			}
			wd := max(x1-x0, 2)
			by := rowY + (rowH-barH)/2
			tip := fmt.Sprintf("%s (%s)\n%s\n%s\n%s", c.ID, kindWord(c.Kind), Window(s.From, s.Until), segmentText(c.Kind, prev, s.Fields), edges(s, vs))
			prev = s.Fields
			pf(`<g class="segment" data-clause="%s" data-from="%s" data-until="%s">`, esc(c.ID), Time(s.From), untilAttr(s.Until))
			pf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%d" rx="3" fill="%s"><title>%s</title></rect>`, x0, by, wd, barH, colours[j%2], esc(tip))
			if s.Until.IsZero() {
				pf(`<path d="M%.1f %.1f l8 %.1f l-8 %.1f z" fill="%s"/>`, x1, by, float64(barH)/2, float64(barH)/2, colours[j%2])
			}
			pf("</g>\n")
		}
	}

	// Amendments and the present.
	pf(`<g class="amendments" font-size="11" text-anchor="middle">` + "\n")
	for _, a := range tl.Amendments {
		ax := x(a.Effective)
		colour := "#444"
		if a.Retracted {
			colour = "#aaa"
		}
		tip := fmt.Sprintf("v%d, effective %s, recorded %s\n%s", a.Version, Time(a.Effective), Recorded(a.Recorded), a.Summary)
		pf(`<g><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="3 3"/>`, ax, axisY-4, ax, plotBottom+4, colour)
		pf(`<text x="%.1f" y="%.1f" fill="%s">v%d<title>%s</title></text></g>`+"\n", ax, plotBottom+18, colour, a.Version, esc(tip))
	}
	if !opts.Now.IsZero() && !opts.Now.Before(ax.lo) && !opts.Now.After(ax.hi) {
		nx := x(opts.Now)
		pf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e67e22" stroke-width="1.5"/>`, nx, axisY-4, nx, plotBottom+4)
		pf(`<text x="%.1f" y="%.1f" fill="#e67e22">now</text>`+"\n", nx, plotBottom+32)
	}
	pf("</g>\n")
	if len(tl.Clauses) == 0 {
		pf(`<text x="%.1f" y="%.1f" fill="#888">no clauses</text>`+"\n", left, float64(top)+rowH/2)
	}
	pf("</svg>\n")
	return b.Flush()
}

func untilAttr(t time.Time) string {
	if t.IsZero() {
		return "open"
	}
	return Time(t)
}
