package render

import (
	"fmt"
	"math"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/projections"
)

// A timeline of a long agreement is drawn by counting, not item by item: a
// row per clause and a mark per amendment stop being readable (and cost
// what the history costs, not what the drawing shows) long before they run
// out. The drawings share these counts.

// maxRows is how many clauses a timeline gives a row each (and how many
// amendments the text lists one by one). Beyond it, a row per kind counts the
// clauses of that kind in force.
const maxRows = 500

// kindLane is a row of a timeline with too many clauses for a row each: how
// many clauses of one kind are in force in each column of the axis.
type kindLane struct {
	kind    events.Kind
	clauses int   // clauses of the kind
	counts  []int // per column: the clauses in force at some time in it
	most    int   // the largest count
}

// columns divides valid time from lo to hi into n equal columns.
type columns struct {
	lo, hi time.Time
	n      int
}

// at is the column of t, the first or the last for a time off the axis.
func (c columns) at(t time.Time) int {
	f := float64(t.Sub(c.lo)) / float64(c.hi.Sub(c.lo))
	return min(max(int(f*float64(c.n)), 0), c.n-1)
}

// on is the column of t, or false for a time off the axis.
func (c columns) on(t time.Time) (int, bool) {
	return c.at(t), !t.Before(c.lo) && !t.After(c.hi)
}

// edge is the time at which column i begins (i = n: the axis's end).
func (c columns) edge(i int) time.Time {
	return c.lo.Add(time.Duration(float64(c.hi.Sub(c.lo)) * float64(i) / float64(c.n)))
}

// kindLanes counts the clauses of tl by kind in cols. A clause counts once in
// a column however many of its segments meet there.
func kindLanes(tl *projections.Timeline, cols columns) []kindLane {
	n := cols.n
	diffs := map[events.Kind][]int{}
	clauses := map[events.Kind]int{}
	for _, c := range tl.Clauses {
		d := diffs[c.Kind]
		if d == nil {
			d = make([]int, n+1)
			diffs[c.Kind] = d
		}
		clauses[c.Kind]++
		last := -1
		for _, s := range c.Segments {
			if !s.From.Before(cols.hi) || !s.Until.IsZero() && !s.Until.After(cols.lo) {
				continue // off the axis
			}
			c0, c1 := max(cols.at(s.From), last+1), n-1
			if !s.Until.IsZero() && s.Until.Before(cols.hi) {
				c1 = cols.at(s.Until.Add(-1)) // the column of its last instant
			}
			if c0 > c1 {
				continue
			}
			d[c0]++
			d[c1+1]--
			last = c1
		}
	}
	var out []kindLane
	for _, k := range events.Kinds { // every clause has one of them: it was validated
		if diffs[k] == nil {
			continue
		}
		l := kindLane{kind: k, clauses: clauses[k], counts: make([]int, n)}
		run := 0
		for i := range n {
			run += diffs[k][i]
			l.counts[i] = run
			l.most = max(l.most, run)
		}
		out = append(out, l)
	}
	return out
}

// laneRun is a run of columns [c0, c1) of a kindLane with the same count.
type laneRun struct{ c0, c1, n int }

// runs are the runs of a lane's columns with clauses in force.
func (l kindLane) runs() []laneRun {
	var out []laneRun
	for c0 := 0; c0 < len(l.counts); {
		n, c1 := l.counts[c0], c0+1
		for c1 < len(l.counts) && l.counts[c1] == n {
			c1++
		}
		if n > 0 {
			out = append(out, laneRun{c0, c1, n})
		}
		c0 = c1
	}
	return out
}

// label names a lane: "license (1234)".
func (l kindLane) label() string { return fmt.Sprintf("%s (%d)", KindWord(l.kind), l.clauses) }

// about describes a lane: "1234 license clauses; at most 12 in force in a
// column".
func (l kindLane) about() string {
	return fmt.Sprintf("%s; at most %d in force in a column", l.clausesOf(l.clauses), l.most)
}

// clausesOf writes n clauses of the lane's kind: "12 license clauses".
func (l kindLane) clausesOf(n int) string {
	return Plural(n, KindWord(l.kind)+" clause", KindWord(l.kind)+" clauses")
}

// tip describes a run: "12 license clauses in force, 2019-01-01 to
// 2019-02-14".
func (l kindLane) tip(r laneRun, cols columns) string {
	return fmt.Sprintf("%s in force, %s to %s", l.clausesOf(r.n), day(cols.edge(r.c0)), day(cols.edge(r.c1)))
}

// markerGroup is the amendments effective in one column of the axis.
type markerGroup struct {
	col       int
	n         int    // amendments
	retracted int    // of them retracted
	lo, hi    uint64 // lowest and highest version
	from, to  time.Time
	one       projections.Marker // the amendment, when n is 1
}

// groupMarkers gathers the amendments by column, in column order. With
// clip, those effective off the axis are left out; without, they are put in
// its first or last column.
func groupMarkers(ms []projections.Marker, cols columns, clip bool) []markerGroup {
	groups := make([]markerGroup, cols.n)
	for _, m := range ms {
		c, on := cols.on(m.Effective)
		if clip && !on {
			continue
		}
		g := &groups[c]
		if g.n == 0 {
			*g = markerGroup{col: c, lo: m.Version, hi: m.Version, from: m.Effective, to: m.Effective, one: m}
		}
		g.n++
		if m.Retracted {
			g.retracted++
		}
		g.lo, g.hi = min(g.lo, m.Version), max(g.hi, m.Version)
		if m.Effective.Before(g.from) {
			g.from = m.Effective
		}
		if m.Effective.After(g.to) {
			g.to = m.Effective
		}
	}
	out := groups[:0]
	for _, g := range groups {
		if g.n > 0 {
			out = append(out, g)
		}
	}
	return out
}

// groupMark is where and how a group of amendments is drawn: a bar as tall
// as the group is many, with its count beside it where there is room.
type groupMark struct {
	markerGroup
	x, mid float64 // left edge and middle
	height float64
	label  bool // the count fits after the one before
}

// groupMarks lays groups out in columns colW wide from x0, their bars from
// 3 to tallest pixels high.
func groupMarks(groups []markerGroup, x0, colW, tallest float64) []groupMark {
	most := 0
	for _, g := range groups {
		most = max(most, g.n)
	}
	out := make([]groupMark, len(groups))
	labelEnd := math.Inf(-1) // where the last count drawn ends
	for i, g := range groups {
		m := groupMark{markerGroup: g, x: x0 + float64(g.col)*colW}
		m.mid = m.x + colW/2
		m.height = 3 + (tallest-3)*float64(g.n)/float64(most)
		half := textWidth(fmt.Sprint(g.n)) / 2
		if m.label = m.mid-half > labelEnd+8; m.label { // a digit's width or so between counts
			labelEnd = m.mid + half
		}
		out[i] = m
	}
	return out
}

// tip is a group's tooltip: one's for a single amendment, else its
// description.
func (g markerGroup) tip(one func(projections.Marker) string) string {
	if g.n == 1 {
		return one(g.one)
	}
	return g.String()
}

// versions writes the versions of a group: "v12" or "v12–v340".
func (g markerGroup) versions() string {
	if g.lo == g.hi {
		return fmt.Sprintf("v%d", g.lo)
	}
	return fmt.Sprintf("v%d–v%d", g.lo, g.hi)
}

// effective writes when a group's amendments take effect.
func (g markerGroup) effective() string {
	if g.from.Equal(g.to) {
		return "effective " + Time(g.from)
	}
	return "effective " + Time(g.from) + " to " + Time(g.to)
}

// count writes how many amendments a group holds: "37 amendments" or "37
// amendments, 2 retracted".
func (g markerGroup) count() string {
	s := Plural(g.n, "amendment", "amendments")
	if g.retracted > 0 {
		s += fmt.Sprintf(", %d retracted", g.retracted)
	}
	return s
}

// String describes a group: "37 amendments, v120–v157, effective 2016-01-01
// to 2016-02-03".
func (g markerGroup) String() string { return g.count() + ", " + g.versions() + ", " + g.effective() }

// day writes the date of t, for the edges of columns (which fall at any
// time of day).
func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }
