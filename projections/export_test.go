package projections

import (
	"math"
	"time"
)

// ScratchState is the state of an agreement at t with everything recorded,
// folded from scratch from its visible records: what the incremental view
// kept by Add must equal.
func ScratchState(ix *Index, agreement string, t time.Time) *State {
	defer ix.read()()
	a := ix.agreements[agreement]
	s := foldAll(a.name, a.visible(math.MaxUint64)).stateAt(t, nil)
	s.Version = a.versionAt(math.MaxUint64)
	return s
}

// RefoldAll replaces every agreement's incremental view with one folded
// from scratch, and reindexes the grants.
func (ix *Index) RefoldAll() {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, a := range ix.agreements {
		ix.refold(a)
		a.pending, a.drop = nil, nil
	}
	ix.unsettled = nil
	ix.kviews.reset()
}

// SetWindow sets how far back a retroactive record or a retraction is folded
// in by rolling back (see window), and returns a function restoring it.
func SetWindow(min, pct int) (restore func()) {
	oldMin, oldPct := windowMin, windowPct
	windowMin, windowPct = min, pct
	return func() { windowMin, windowPct = oldMin, oldPct }
}

// AvailsThroughIndex answers q as Avails does, finding every party's basis
// in the grant index, as it does for many parties.
func AvailsThroughIndex(ix *Index, q AvailsQuery) (*Avails, error) { return ix.avails(q, 0) }
