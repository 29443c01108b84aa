package render

import (
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/projections"
)

// TimelineOptions shape a text timeline.
type TimelineOptions struct {
	// Width is the number of columns of the bars. Default 60.
	Width int
}

// axis maps valid time onto [0, width).
type axis struct {
	lo, hi time.Time
	open   bool // some bar is open-ended: the axis runs on past the last event
}

// newAxis is the span of tl, widened so that open-ended bars show as going on.
func newAxis(tl *projections.Timeline) axis {
	lo, hi := tl.Span[0], tl.Span[1]
	if lo.IsZero() {
		lo = time.Now().UTC()
	}
	if hi.IsZero() || !hi.After(lo) {
		hi = lo.AddDate(1, 0, 0)
	}
	a := axis{lo: lo, hi: hi}
	for _, c := range tl.Clauses {
		for _, s := range c.Segments {
			if s.Until.IsZero() {
				a.open = true
			}
		}
	}
	if a.open {
		// Run on past the last event, to the next 1 January.
		h := hi.Add(max(hi.Sub(lo)/10, 180*24*time.Hour))
		a.hi = time.Date(h.Year()+1, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return a
}

// at is the position of t on a scale of length n (clamped).
func (a axis) at(t time.Time, n float64) float64 {
	f := float64(t.Sub(a.lo)) / float64(a.hi.Sub(a.lo))
	return min(max(f, 0), 1) * n
}

// years returns the years whose 1 January falls inside the axis, thinned to
// at most n labels.
func (a axis) years(n int) []int {
	first, last := a.lo.Year()+1, a.hi.Year()
	if !a.lo.After(time.Date(a.lo.Year(), 1, 1, 0, 0, 0, 0, time.UTC)) {
		first = a.lo.Year()
	}
	if last < first {
		return nil
	}
	step := 1
	for (last-first)/step+1 > max(n, 1) {
		step++
	}
	var out []int
	for y := first; y <= last; y++ {
		if y%step == 0 {
			out = append(out, y)
		}
	}
	return out
}

// versions maps amendment ids to their versions.
func versions(tl *projections.Timeline) map[string]uint64 {
	m := map[string]uint64{}
	for _, a := range tl.Amendments {
		m[a.ID] = a.Version
	}
	return m
}

// Timeline writes an agreement's clauses as text bars over valid time,
// followed by what each bar stands for and the amendments on the axis
// (those in the same column one above the other, see markRows). An
// agreement of more than 500 clauses gets a row per kind instead, shaded by
// how many of its clauses are in force, and one of more than 500 amendments
// has them listed by column of the axis.
func Timeline(w io.Writer, tl *projections.Timeline, opts TimelineOptions) error {
	width := opts.Width
	if width <= 0 {
		width = 60
	}
	p := &printer{w: w}
	title := tl.Agreement
	if tl.Title != "" {
		title += " — " + tl.Title
	}
	p.f("%s, %s\n", title, KnownAt(tl.KnownAt, tl.KnownAtAmendment))
	if len(tl.Clauses) == 0 {
		p.ln("no clauses")
		return p.err
	}
	ax := newAxis(tl)
	cols := columns{ax.lo, ax.hi, width}
	col := cols.at
	var lanes []kindLane
	if len(tl.Clauses) > maxRows {
		lanes = kindLanes(tl, cols)
	}
	label := 0
	for _, c := range tl.Clauses {
		label = max(label, len([]rune(c.ID)))
	}
	if lanes != nil {
		label = 0
		for _, l := range lanes {
			label = max(label, len([]rune(l.label())))
		}
	}
	label = max(min(label, 32), len("amendments")) + 2
	pad := strings.Repeat(" ", label)

	// The axis: years, then a rule.
	ticks := []rune(strings.Repeat(" ", width+8))
	for _, y := range ax.years(width / 6) {
		c := col(time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC))
		s := fmt.Sprint(y)
		if c+len(s) <= len(ticks) && strings.TrimSpace(string(ticks[max(c-1, 0):c+len(s)])) == "" {
			copy(ticks[c:], []rune(s))
		}
	}
	p.f("%s%s\n", pad, strings.TrimRight(string(ticks), " "))
	rule := []rune(strings.Repeat("─", width))
	for _, y := range ax.years(width / 6) {
		rule[col(time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC))] = '┬'
	}
	p.f("%s%s\n", pad, string(rule))

	if lanes != nil {
		for _, l := range lanes {
			row := make([]rune, width)
			for x, n := range l.counts {
				row[x] = density(n, l.most)
			}
			p.f("%-*s%s\n", label, Truncate(l.label(), label-2), strings.TrimRight(string(row), " "))
		}
	} else {
		textBars(p, tl, label, width, col)
	}
	depth := markRowsMax
	if len(tl.Amendments) > maxRows {
		depth = 1 // they are listed by column below
	}
	marks, crowded := markRows(tl.Amendments, width, depth, col)
	for i, row := range marks {
		name := ""
		if i == 0 {
			name = "amendments"
		}
		p.f("%-*s%s\n", label, name, strings.TrimRight(string(row), " "))
	}
	note := openNote(ax)
	if crowded {
		note += "; + more amendments in a column"
	}
	p.f("%saxis: %s to %s%s\n", pad, Time(ax.lo), Time(ax.hi), note)

	vs := versions(tl)
	if lanes != nil {
		p.ln()
		p.f("%s, a row per kind: %c fewest to %c most in force in a column (-o json has each)\n",
			Plural(len(tl.Clauses), "clause", "clauses"), densities[0], densities[len(densities)-1])
		t := newTable(w, "  ")
		for _, l := range lanes {
			t.Row(KindWord(l.kind), Plural(l.clauses, "clause", "clauses"), fmt.Sprintf("at most %d in force in a column", l.most))
		}
		p.table(t)
	} else {
		textLegend(p, tl, vs)
	}
	p.ln()
	if len(tl.Amendments) > maxRows {
		p.f("%s, by column of the axis (ledger history lists each)\n", Plural(len(tl.Amendments), "amendment", "amendments"))
		t := newTable(w, "  ")
		for _, g := range groupMarkers(tl.Amendments, cols, false) {
			t.Row(g.versions(), g.effective(), g.count())
		}
		p.table(t)
	} else {
		p.ln("amendments")
		t := newTable(w, "  ")
		for _, a := range tl.Amendments {
			s := Truncate(a.Summary, 70)
			if a.Retracted {
				s = "[retracted] " + s
			}
			t.Row(fmt.Sprintf("v%d", a.Version), "effective "+Time(a.Effective), strings.Join(a.Ops, ","), s)
		}
		p.table(t)
	}
	for _, d := range tl.Conditions {
		p.f("declared: %s on %s by %s\n", d.Condition, Time(d.At), version(vs, d.Amendment))
	}
	for _, an := range tl.Anomalies {
		p.f("skipped: %s: %s\n", an.Amendment, an.Problem)
	}
	return p.err
}

// markRowsMax is how many rows of marks the amendments get.
const markRowsMax = 3

// markRows are at most depth rows of amendment marks under the bars: each
// amendment's version (a digit; • from v10; × retracted) in its column, in
// the first row where the column is free, so that amendments in the same
// column (as a retroactive correction and the amendment it corrects, both
// effective at the same time) stand one above the other instead of hiding
// each other. A column with more amendments than rows ends in a '+', and
// crowded says there is one.
func markRows(ms []projections.Marker, width, depth int, col func(time.Time) int) (rows [][]rune, crowded bool) {
	rows = [][]rune{[]rune(strings.Repeat(" ", width))}
	for _, a := range ms {
		mark := '•'
		if a.Version < 10 {
			mark = rune('0' + a.Version)
		}
		if a.Retracted {
			mark = '×'
		}
		c := col(a.Effective)
		r := 0
		for r < len(rows) && rows[r][c] != ' ' {
			r++
		}
		switch {
		case r == len(rows) && r < depth:
			rows = append(rows, []rune(strings.Repeat(" ", width)))
		case r == len(rows):
			r, mark, crowded = r-1, '+', true
		}
		rows[r][c] = mark
	}
	return rows, crowded
}

// textBars writes a row of bars per clause: segments alternate shades so
// that a change of values shows; an open-ended bar ends in an arrow.
func textBars(p *printer, tl *projections.Timeline, label, width int, col func(time.Time) int) {
	shades := []rune{'█', '▓'}
	for _, c := range tl.Clauses {
		row := []rune(strings.Repeat(" ", width))
		for i, s := range c.Segments {
			from := col(s.From)
			to := width
			if !s.Until.IsZero() {
				to = max(col(s.Until), from+1)
			}
			for x := from; x < to && x < width; x++ {
				row[x] = shades[i%2]
			}
			if s.Until.IsZero() {
				row[width-1] = '▶'
			}
		}
		p.f("%-*s%s\n", label, Truncate(c.ID, label-2), strings.TrimRight(string(row), " "))
	}
}

// textLegend writes what each clause's bars stand for.
func textLegend(p *printer, tl *projections.Timeline, vs map[string]uint64) {
	for _, c := range tl.Clauses {
		p.ln()
		p.f("%s (%s)\n", c.ID, KindWord(c.Kind))
		t := newTable(p.w, "  ")
		var prev map[string]any
		for _, s := range c.Segments {
			t.Row(Window(s.From, s.Until), segmentText(c.Kind, prev, s.Fields), edges(s, vs))
			prev = s.Fields
		}
		p.table(t)
		if c.Ended != nil && (len(c.Segments) == 0 || c.Segments[len(c.Segments)-1].Closed == nil || c.Segments[len(c.Segments)-1].Closed.Amendment != c.Ended.Amendment) {
			p.f("  ended %s by %s (%s)\n", Time(c.Ended.At), version(vs, c.Ended.Amendment), c.Ended.Op)
		}
	}
}

// densities shade a row of counts, from the fewest to the most.
var densities = []rune{'░', '▒', '▓', '█'}

// density is the shade of n clauses in force where most is the most: a
// space for none.
func density(n, most int) rune {
	if n == 0 {
		return ' '
	}
	return densities[(n*len(densities)-1)/most]
}

func openNote(ax axis) string {
	if ax.open {
		return "; ▶ open-ended"
	}
	return ""
}

func version(vs map[string]uint64, id string) string {
	if v, ok := vs[id]; ok {
		return fmt.Sprintf("v%d", v)
	}
	if id == "" {
		return "its term"
	}
	return id
}

// edges writes what opened and closed a segment: "added by v1; amended by v2".
func edges(s projections.Segment, vs map[string]uint64) string {
	opened := map[string]string{"add": "added", "amend": "amended"}[s.Opened.Op]
	if opened == "" {
		opened = s.Opened.Op
	}
	out := opened + " by " + version(vs, s.Opened.Amendment)
	if s.Closed != nil {
		switch s.Closed.Op {
		case "term":
			out += "; its term ends"
		case "amend":
			out += "; amended by " + version(vs, s.Closed.Amendment)
		case "end":
			out += "; ended by " + version(vs, s.Closed.Amendment)
		case "declare":
			out += "; ended by a declared condition in " + version(vs, s.Closed.Amendment)
		case "close":
			out += "; the agreement was closed by " + version(vs, s.Closed.Amendment)
		default:
			out += "; then " + s.Closed.Op + " by " + version(vs, s.Closed.Amendment)
		}
	}
	return out
}

// keyFields are the fields worth naming in a bar's first segment, by kind:
// its fields and its term, less its human text (long: the bar's details
// have it) unless the kind has nothing else.
var keyFields = func() map[events.Kind][]string {
	m := map[events.Kind][]string{}
	for _, k := range events.Kinds {
		var out []string
		text := events.TextField(k)
		for _, f := range events.Spec(k).Fields {
			if f != text || events.FieldOf(f).Type == events.SlugType {
				out = append(out, f)
			}
		}
		if len(out) == 0 && text != "" {
			out = append(out, text)
		}
		m[k] = append(out, "term")
	}
	return m
}()

// segmentText writes a segment's values: the key fields of the first, and
// what changed for the others.
func segmentText(k events.Kind, prev, cur map[string]any) string {
	var parts []string
	if prev == nil {
		for _, f := range keyFields[k] {
			v, ok := cur[f]
			if f == "cap" && !ok {
				parts = append(parts, "no cap")
			}
			if !ok || f == "sole" && v == false {
				continue
			}
			parts = append(parts, fieldText(f, v))
		}
		return strings.Join(parts, ", ")
	}
	names := slices.Sorted(maps.Keys(cur))
	for n := range prev {
		if _, ok := cur[n]; !ok {
			names = append(names, n)
		}
	}
	for _, n := range names {
		if !reflect.DeepEqual(jsonish(prev[n]), jsonish(cur[n])) {
			parts = append(parts, fieldText(n, jsonish(cur[n])))
		}
	}
	if len(parts) == 0 {
		return "(same values)"
	}
	return "now " + strings.Join(parts, ", ")
}

func fieldText(name string, v any) string {
	v = jsonish(v)
	switch name {
	case "exclusive":
		return Value(name, v)
	case "term":
		if v == nil {
			return "no term"
		}
		return Value(name, v)
	case "scope":
		return "scope " + Value(name, v)
	}
	return name + " " + Value(name, v)
}
