package projections

import (
	"slices"
	"time"
)

// markEvery is how many versions lie between checkpoints: a point-in-time
// query scans at most this many versions past the checkpoint it starts from.
const markEvery = 32

// checkpoint lists the versions that may still be in force at a point of the
// version list, so a query can start there instead of at the beginning.
type checkpoint struct {
	idx   int        // position in view.versions
	alive []*version // versions before idx not closed by versions[idx].from
}

// checkpoint adds checkpoints for versions added since the last one.
func (f *fold) checkpoint() {
	v := f.v
	for next := (len(v.marks) + 1) * markEvery; next < len(v.versions); next = (len(v.marks) + 1) * markEvery {
		at := v.versions[next].from
		var alive []*version
		from := 0
		if n := len(v.marks); n > 0 {
			alive = keepOpen(v.marks[n-1].alive, at)
			from = v.marks[n-1].idx
		}
		alive = append(alive, keepOpen(v.versions[from:next], at)...)
		set(f, &v.marks, append(v.marks, checkpoint{idx: next, alive: alive}))
	}
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

// inForce returns the versions in force at t, in the order their clauses were added.
func (v *view) inForce(t time.Time) []*version {
	hi, _ := slices.BinarySearchFunc(v.versions, t, func(x *version, t time.Time) int {
		if x.from.After(t) {
			return 1
		}
		return -1
	})
	var cands []*version
	lo := 0
	k, _ := slices.BinarySearchFunc(v.marks, hi, func(m checkpoint, hi int) int {
		if m.idx < hi {
			return -1
		}
		return 1
	})
	if k > 0 {
		cands = v.marks[k-1].alive
		lo = v.marks[k-1].idx
	}
	var out []*version
	for _, x := range cands {
		if x.inForce(t) {
			out = append(out, x)
		}
	}
	for _, x := range v.versions[lo:hi] {
		if x.inForce(t) {
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(a, b *version) int { return a.line.pos - b.line.pos })
	return out
}

// status is the agreement's status at t.
func (v *view) status(t time.Time) string {
	switch {
	case v.opened == nil || t.Before(v.opened.at):
		return "not_open"
	case v.closed != nil && !t.Before(v.closed.at):
		return "closed"
	}
	return "open"
}
