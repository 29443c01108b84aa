package projections

import (
	"slices"
	"sort"
	"time"

	"github.com/agreement-ledger/ledger/events"
)

// markEvery is how many versions lie between checkpoints: a point-in-time
// query scans at most this many versions past the checkpoint it starts from.
const markEvery = 32

// checkpoint lists the versions that may still be in force at a point of the
// version list, so a query can start there instead of at the beginning.
type checkpoint struct {
	idx   int        // position in view.versions
	at    int64      // versions[idx].from
	alive []*version // versions before idx not closed, nor past their term, when it was made
}

// checkpoint adds checkpoints for versions added since the last one. Which
// checkpoints exist depends only on how many versions there are, and each is
// made by the record that passed it, so a view rolled back and folded again
// has the checkpoints a fold from scratch has.
func (v *view) checkpoint() {
	for next := (len(v.marks) + 1) * markEvery; next < len(v.versions); next = (len(v.marks) + 1) * markEvery {
		at := v.versions[next].fromT()
		var alive []*version
		from := 0
		if n := len(v.marks); n > 0 {
			alive = keepOpen(v.marks[n-1].alive, at)
			from = v.marks[n-1].idx
		}
		alive = append(alive, keepOpen(v.versions[from:next], at)...)
		v.marks = append(v.marks, checkpoint{idx: next, at: v.versions[next].from, alive: slices.Clip(alive)})
	}
}

// dropMarks drops the checkpoints past the versions left after a pop.
func (v *view) dropMarks() {
	n := 0
	if len(v.versions) > 0 {
		n = (len(v.versions) - 1) / markEvery
	}
	for i := n; i < len(v.marks); i++ {
		v.marks[i] = checkpoint{}
	}
	v.marks = v.marks[:min(n, len(v.marks))]
}

// keepOpen keeps the versions that may be in force at or after at: those
// neither closed nor past their term's end by then. (A version's term never
// changes: an amend makes a new version.)
func keepOpen(vs []*version, at time.Time) []*version {
	var out []*version
	for _, x := range vs {
		if _, hi, ok := x.interval(); ok && (hi.IsZero() || hi.After(at)) {
			out = append(out, x)
		}
	}
	return out
}

// madeBefore returns how many versions were made by records before bound.
func (v *view) madeBefore(bound *events.Record) int {
	n, _ := slices.BinarySearchFunc(v.versions, bound, func(x *version, b *events.Record) int { return foldOrder(x.by, b) })
	return n
}

// inForce returns the versions in force at t, in the order their clauses
// were added, in the view as folded up to bound (nil: everything). Versions
// made by records from bound on are left out, and closes by them undone.
//
// It starts from the last checkpoint at or before t (and before bound): the
// versions alive there, and those made since, up to the first from after t.
func (v *view) inForce(t time.Time, bound *events.Record) []*version {
	tm := micros(t)
	k := sort.Search(len(v.marks), func(i int) bool {
		m := &v.marks[i]
		return m.at > tm || m.at == tm && v.versions[m.idx].fromT().After(t)
	})
	limit := len(v.versions)
	if bound != nil {
		limit = v.madeBefore(bound)
		k = min(k, sort.Search(len(v.marks), func(i int) bool { return v.marks[i].idx >= limit }))
	}
	if k < len(v.marks) {
		limit = min(limit, v.marks[k].idx)
	}
	var cands []*version
	lo := 0
	if k > 0 {
		// A checkpoint before bound was made by a record before bound:
		// what it left out was closed before bound.
		cands = v.marks[k-1].alive
		lo = v.marks[k-1].idx
	}
	out := make([]*version, 0, len(cands)+8)
	for _, x := range cands {
		if x.inForceBefore(t, tm, bound) {
			out = append(out, x)
		}
	}
	for _, x := range v.versions[lo:limit] {
		if x.from > tm || x.from == tm && x.fromT().After(t) {
			break
		}
		if x.inForceBefore(t, tm, bound) {
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(a, b *version) int { return int(a.line.pos - b.line.pos) })
	return out
}

// status is the agreement's status at t, folded up to bound.
func (v *view) status(t time.Time, bound *events.Record) string {
	opened, closed := v.openedBefore(bound), v.closedBefore(bound)
	switch {
	case opened == nil || t.Before(opened.Effective):
		return "not_open"
	case closed != nil && !t.Before(closed.Effective):
		return "closed"
	}
	return "open"
}

func (v *view) openedBefore(bound *events.Record) *events.Record {
	if v.opened != nil && before(v.opened, bound) {
		return v.opened
	}
	return nil
}

func (v *view) closedBefore(bound *events.Record) *events.Record {
	if v.closed != nil && before(v.closed, bound) {
		return v.closed
	}
	return nil
}
