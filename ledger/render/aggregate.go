package render

import (
	"fmt"
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

// kindLanes counts the clauses of tl by kind over n columns; col maps a time
// to its column in [0, n). A clause counts once in a column however many of
// its segments meet there.
func kindLanes(tl *projections.Timeline, n int, col func(time.Time) int) []kindLane {
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
			c0 := col(s.From)
			c1 := n - 1
			if !s.Until.IsZero() {
				c1 = max(col(s.Until)-1, c0)
			}
			c0 = max(c0, last+1)
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

// markerGroup is the amendments effective in one column of the axis.
type markerGroup struct {
	col       int
	n         int    // amendments
	retracted int    // of them retracted
	lo, hi    uint64 // lowest and highest version
	from, to  time.Time
	one       projections.Marker // the amendment, when n is 1
}

// groupMarkers gathers the amendments by column, in column order; col maps
// an effective time to its column in [0, n), or reports that it is off the
// axis.
func groupMarkers(ms []projections.Marker, n int, col func(time.Time) (int, bool)) []markerGroup {
	cols := make([]markerGroup, n)
	for _, m := range ms {
		c, ok := col(m.Effective)
		if !ok {
			continue
		}
		g := &cols[c]
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
	out := cols[:0]
	for _, g := range cols {
		if g.n > 0 {
			out = append(out, g)
		}
	}
	return out
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
