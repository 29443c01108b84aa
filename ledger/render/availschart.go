package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/agreement-ledger/ledger/projections"
)

// AvailsChartOptions say how to draw avails.
type AvailsChartOptions struct {
	Width int       // pixels; MinChartWidth to MaxChartWidth (default 900)
	At    time.Time // the date the page shows, marked on the axis when in the window
}

// Layout of the avails chart, in pixels.
const (
	availsLabelW = 120
	availsTop    = 8
	availsRowH   = 30
	availsBandH  = 20
	availsAxisH  = 26
	availsPadR   = 12
)

// Colours of the bands: allowed, denied, no basis.
var availsFill = map[projections.Verdict][2]string{
	projections.VerdictAllowed: {"#dafbe1", "#1a7f37"},
	projections.VerdictDenied:  {"#ffd8d3", "#cf222e"},
	projections.VerdictNoBasis: {"#f6f8fa", "#8c959f"},
}

// AvailsSVG draws avails as an inline SVG: a row per party, time across,
// a band per interval, green where the party may offer, red where another's
// exclusivity keeps it out and grey where nothing gives it the right. Each band is a group with data-detail="av-ROW-N" (the page shows the
// details of interval N of party ROW when it is hovered) and a title naming
// the clauses that decide it.
func AvailsSVG(av *projections.Avails, opts AvailsChartOptions) string {
	width := opts.Width
	if width == 0 {
		width = 900
	}
	width = min(max(width, MinChartWidth), MaxChartWidth)
	x0, x1 := float64(availsLabelW), float64(width-availsPadR)
	span := av.To.Sub(av.From).Seconds()
	x := func(t time.Time) float64 {
		return x0 + (x1-x0)*t.Sub(av.From).Seconds()/span
	}
	rows := max(len(av.Parties), 1)
	bottom := float64(availsTop + rows*availsRowH)
	h := bottom + availsAxisH
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="avails" width="%d" height="%s" viewBox="0 0 %d %s" role="img" aria-label="%s" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif">`,
		width, f1(h), width, f1(h), esc("Avails of "+Scope(av.Scope)+", "+Window(av.From, av.To)))
	for _, t := range chartTicks(av.From, av.To, x1-x0) {
		tx := x(t.at)
		fmt.Fprintf(&b, `<line x1="%s" y1="%d" x2="%s" y2="%s" stroke="#e1e4e8"/>`, f1(tx), availsTop, f1(tx), f1(bottom))
		fmt.Fprintf(&b, `<text class="tick" x="%s" y="%s" text-anchor="middle" font-size="11" fill="#57606a">%s</text>`, f1(tx), f1(bottom+17), esc(t.label))
	}
	fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#8c959f"/>`, f1(x0), f1(bottom), f1(x1), f1(bottom))
	if len(av.Parties) == 0 {
		fmt.Fprintf(&b, `<text x="%s" y="%d" font-size="12" fill="#57606a">No exclusive grant covers it in this window: no one is kept out.</text>`, f1(x0+8), availsTop+availsRowH/2+4)
	}
	for i, p := range av.Parties {
		y := float64(availsTop + i*availsRowH)
		if i%2 == 1 {
			fmt.Fprintf(&b, `<rect x="0" y="%s" width="%d" height="%d" fill="#f5f7fa"/>`, f1(y), width, availsRowH)
		}
		fmt.Fprintf(&b, `<text class="party" x="8" y="%s" font-size="12" font-weight="600" fill="#1f2328">%s</text>`, f1(y+availsRowH/2+4), esc(p.Party))
		top := y + (availsRowH-availsBandH)/2
		for j, a := range p.Intervals {
			r := av.Rights(p.Party, a)
			col := availsFill[a.Verdict]
			bx1, bx2 := x(a.From), x(a.Until)
			fmt.Fprintf(&b, `<g class="band %s" data-party="%s" data-from="%s" data-until="%s" data-detail="av-%d-%d" tabindex="0">`,
				a.Verdict, esc(p.Party), esc(Time(a.From)), esc(Time(a.Until)), i, j)
			fmt.Fprintf(&b, `<title>%s</title>`, esc(p.Party+", "+Time(a.From)+" → "+Time(a.Until)+": "+string(a.Verdict)+"; "+deciders(p.Party, r)))
			fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%d" rx="3" fill="%s" stroke="%s" stroke-width="1.2"/>`,
				f1(bx1+0.5), f1(top), f1(max(bx2-bx1-1, 1)), availsBandH, col[0], col[1])
			if label := bandLabel(r); bx2-bx1 > float64(7*len(label)) {
				fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="11" fill="%s" pointer-events="none">%s</text>`, f1(bx1+6), f1(top+availsBandH/2+4), col[1], esc(label))
			}
			b.WriteString(`</g>`)
		}
	}
	if !opts.At.IsZero() && !opts.At.Before(av.From) && opts.At.Before(av.To) {
		ax := x(opts.At)
		fmt.Fprintf(&b, `<line class="as-of" x1="%s" y1="%d" x2="%s" y2="%s" stroke="#0550ae" stroke-width="1.5" stroke-dasharray="4 3" pointer-events="none"><title>as of %s</title></line>`,
			f1(ax), availsTop-4, f1(ax), f1(bottom), esc(Time(opts.At)))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// bandLabel is what a band says when there is room: the verdict and the
// first clause that decides it.
func bandLabel(r projections.Rights) string {
	word := "may offer"
	switch r.Verdict {
	case projections.VerdictDenied:
		word = "kept out"
	case projections.VerdictNoBasis:
		word = "no basis"
	}
	switch n := len(r.DecidedBy); {
	case n == 0:
		return word
	case n == 1:
		return word + " · " + r.DecidedBy[0].Clause
	default:
		return fmt.Sprintf("%s · %s +%d", word, r.DecidedBy[0].Clause, n-1)
	}
}
