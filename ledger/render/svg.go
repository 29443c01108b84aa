package render

import (
	"bufio"
	"fmt"
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

// kindColours are the colours of a kind of clause: the bars of the
// standalone drawing (a base, and an alternate for successive segments) and
// those of the page's chart (a fill and a stroke, which its swatches share).
type kindColours struct{ bar, alt, fill, stroke string }

// palette holds the colours of each kind; otherColours those of any other.
var (
	palette = map[events.Kind]kindColours{
		events.License:      {"#3b6fb6", "#7fa6db", "#9ec5ea", "#2f6ca3"},
		events.Exclusivity:  {"#c0392b", "#e17a6f", "#f7b978", "#b8620f"},
		events.RevenueShare: {"#1e8449", "#6cc08b", "#a5d59a", "#3d7f32"},
		events.Commitment:   {"#8e44ad", "#bb8fce", "#9fd6d2", "#2f7f79"},
		events.Investment:   {"#b9770e", "#e5b15c", "#d3b3d8", "#7d4a86"},
		events.Right:        {"#117a8b", "#62b5c2", "#dcc6a8", "#7a5a35"},
		events.Obligation:   {"#5d6d7e", "#a3b0bd", "#d0d0d0", "#666666"},
	}
	otherColours = kindColours{"#777", "#aaa", "#dddddd", "#777777"}
)

func coloursOf(k events.Kind) kindColours {
	if c, ok := palette[k]; ok {
		return c
	}
	return otherColours
}

// KindColours are the fill and stroke of a kind's bars and swatches on the
// web page.
func KindColours(k events.Kind) (fill, stroke string) {
	c := coloursOf(k)
	return c.fill, c.stroke
}

// markerGap is the width in pixels of a column of grouped amendments (and
// of counted clauses) in a drawing too dense to mark each one.
const markerGap = 6.0

// TimelineSVG draws an agreement's timeline as a standalone SVG document:
// one row per clause with a bar per segment (a change of values starts a new
// segment, in a lighter shade), open-ended bars ending in an arrow, a year
// axis, a dashed line per amendment labelled with its version (one line
// for the amendments effective at the same instant, labelled with each
// version: "v2, v3"), and a tooltip (<title>) on every bar with its values
// and the amendments at its edges. The drawing depends only on tl and opts.
//
// A long agreement is drawn by counting: with more than 500 clauses, a row
// per kind shades each column by how many of its clauses are in force; with
// more amendments than columns of 6 pixels, the amendments of each column
// are one bar under the axis, as tall as they are many, its tooltip naming
// how many they are and their versions.
func TimelineSVG(tl *projections.Timeline, w io.Writer, opts SVGOptions) error {
	width := opts.Width
	if width <= 0 {
		width = 960
	}
	const (
		top  = 64 // title and axis labels
		rowH = 30
		barH = 18
	)
	bottom := 40 // amendment labels
	label := 24  // wide enough for the labels of rows per kind
	if len(tl.Clauses) <= maxRows {
		for _, c := range tl.Clauses {
			label = max(label, len([]rune(c.ID)))
		}
	}
	left := float64(min(label, 36))*7.2 + 24
	right := 24.0
	plot := float64(width) - left - right
	ax := newAxis(tl)
	x := func(t time.Time) float64 { return left + ax.at(t, plot) }
	cols := columns{ax.lo, ax.hi, max(int(plot/markerGap), 1)}
	var lanes []kindLane
	rows := len(tl.Clauses)
	if rows > maxRows {
		lanes = kindLanes(tl, cols)
		rows = len(lanes)
	}
	dense := len(tl.Amendments) > cols.n
	if dense {
		bottom = 56 // a bar per column of amendments, then their counts
	}
	height := top + rowH*max(rows, 1) + bottom
	vs := versions(tl)

	b := bufio.NewWriter(w)
	pf := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }

	title := tl.Agreement
	if tl.Title != "" {
		title += " — " + tl.Title
	}
	subtitle := "valid time; " + KnownAt(tl.KnownAt, tl.KnownAtAmendment)
	if lanes != nil {
		subtitle += "; " + Plural(len(tl.Clauses), "clause", "clauses") + ": a row per kind, darker where more are in force"
	}
	pf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`+"\n", width, height, width, height)
	pf(`<title>%s</title>`+"\n", esc(title+" — timeline, "+KnownAt(tl.KnownAt, tl.KnownAtAmendment)))
	pf(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	pf(`<text x="12" y="22" font-size="15" font-weight="600" fill="#222">%s</text>`+"\n", esc(title))
	pf(`<text x="12" y="40" fill="#666">%s</text>`+"\n", esc(subtitle))

	// Year grid.
	axisY, plotBottom := float64(top), float64(top+rowH*max(rows, 1))
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
	colW := plot / float64(cols.n)
	if lanes != nil {
		for i, l := range lanes {
			rowY := float64(top + rowH*i)
			if i%2 == 1 {
				pf(`<rect x="0" y="%.1f" width="%d" height="%d" fill="#f7f7f9"/>`+"\n", rowY, width, rowH)
			}
			pf(`<text x="12" y="%.1f" fill="#222" dominant-baseline="middle">%s<title>%s</title></text>`+"\n", rowY+rowH/2, esc(Truncate(l.label(), 36)), esc(l.about()))
			for _, r := range l.runs() {
				pf(`<rect class="lane" data-kind="%s" data-count="%d" x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s" fill-opacity="%.2f"><title>%s</title></rect>`+"\n",
					l.kind, r.n, left+float64(r.c0)*colW, rowY+(rowH-barH)/2, float64(r.c1-r.c0)*colW, barH, coloursOf(l.kind).bar, 0.2+0.8*float64(r.n)/float64(l.most), esc(l.tip(r, cols)))
			}
		}
	} else {
		for i, c := range tl.Clauses {
			rowY := float64(top + rowH*i)
			if i%2 == 1 {
				pf(`<rect x="0" y="%.1f" width="%d" height="%d" fill="#f7f7f9"/>`+"\n", rowY, width, rowH)
			}
			pf(`<text x="12" y="%.1f" fill="#222" dominant-baseline="middle">%s<title>%s</title></text>`+"\n",
				rowY+rowH/2, esc(Truncate(c.ID, 36)), esc(c.ID+" ("+KindWord(c.Kind)+")"))
			colours := coloursOf(c.Kind)
			var prev map[string]any
			for j, s := range c.Segments {
				x0 := x(s.From)
				x1 := left + plot
				if !s.Until.IsZero() {
					x1 = x(s.Until)
				}
				wd := max(x1-x0, 2)
				by := rowY + (rowH-barH)/2
				tip := fmt.Sprintf("%s (%s)\n%s\n%s\n%s", c.ID, KindWord(c.Kind), Window(s.From, s.Until), segmentText(c.Kind, prev, s.Fields), edges(s, vs))
				prev = s.Fields
				pf(`<g class="segment" data-clause="%s" data-from="%s" data-until="%s">`, esc(c.ID), Time(s.From), untilAttr(s.Until))
				shade := colours.bar
				if j%2 == 1 {
					shade = colours.alt
				}
				pf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%d" rx="3" fill="%s"><title>%s</title></rect>`, x0, by, wd, barH, shade, esc(tip))
				if s.Until.IsZero() {
					pf(`<path d="M%.1f %.1f l8 %.1f l-8 %.1f z" fill="%s"/>`, x1, by, float64(barH)/2, float64(barH)/2, shade)
				}
				pf("</g>\n")
			}
		}
	}

	// Amendments and the present.
	pf(`<g class="amendments" font-size="11" text-anchor="middle">` + "\n")
	if dense {
		for _, m := range groupMarks(groupMarkers(tl.Amendments, cols, false), left, colW, 16) {
			colour := "#444"
			if m.retracted == m.n {
				colour = "#aaa"
			}
			pf(`<g class="amendment-group" data-count="%d" data-versions="%s"><title>%s</title>`, m.n, m.versions(), esc(m.tip(markerTip)))
			pf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, m.x, plotBottom+4, max(colW-1, 1), m.height, colour)
			if m.label {
				pf(`<text x="%.1f" y="%.1f" fill="%s">%d</text>`, m.mid, plotBottom+32, colour, m.n)
			}
			pf("</g>\n")
		}
	} else {
		markerColour := func(retracted bool) string {
			if retracted {
				return "#aaa"
			}
			return "#444"
		}
		for _, s := range stackMarkers(tl.Amendments) {
			ax := x(s[0].Effective)
			colour := markerColour(s.retracted())
			if len(s) == 1 {
				pf(`<g><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="3 3"/>`, ax, axisY-4, ax, plotBottom+4, colour)
				pf(`<text x="%.1f" y="%.1f" fill="%s">v%d<title>%s</title></text></g>`+"\n", ax, plotBottom+18, colour, s[0].Version, esc(markerTip(s[0])))
				continue
			}
			// One line, and a label naming each version, each with its
			// own colour and tooltip.
			pf(`<g class="amendment-stack" data-count="%d" data-versions="%s"><title>%s</title>`, len(s), s.versions(), esc(s.tip(markerTip)))
			pf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="3 3"/>`, ax, axisY-4, ax, plotBottom+4, colour)
			pf(`<text x="%.1f" y="%.1f" fill="%s">`, ax, plotBottom+18, colour)
			shown, more := s.shown()
			for i, m := range shown {
				if i > 0 {
					pf(", ")
				}
				pf(`<tspan fill="%s">v%d<title>%s</title></tspan>`, markerColour(m.Retracted), m.Version, esc(markerTip(m)))
			}
			if more > 0 {
				pf(" +%d", more)
			}
			pf("</text></g>\n")
		}
	}
	if !opts.Now.IsZero() && !opts.Now.Before(ax.lo) && !opts.Now.After(ax.hi) {
		nx := x(opts.Now)
		pf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e67e22" stroke-width="1.5"/>`, nx, axisY-4, nx, plotBottom+4)
		pf(`<text x="%.1f" y="%.1f" fill="#e67e22">now</text>`+"\n", nx, plotBottom+float64(bottom)-8)
	}
	pf("</g>\n")
	if len(tl.Clauses) == 0 {
		pf(`<text x="%.1f" y="%.1f" fill="#888">no clauses</text>`+"\n", left, float64(top)+rowH/2)
	}
	pf("</svg>\n")
	return b.Flush()
}

// markerTip is the tooltip of an amendment on the axis.
func markerTip(a projections.Marker) string {
	return fmt.Sprintf("v%d, effective %s, recorded %s\n%s", a.Version, Time(a.Effective), Recorded(a.Recorded), a.Summary)
}

func untilAttr(t time.Time) string {
	if t.IsZero() {
		return "open"
	}
	return Time(t)
}
