package projections

import (
	"math"
	"time"
)

// ScratchState is the state of an agreement at t with everything recorded,
// folded from scratch from its visible records: what the incremental view
// kept by Add must equal.
func ScratchState(ix *Index, agreement string, t time.Time) *State {
	a := ix.agreements[agreement]
	s := foldAll(a.name, a.visible(math.MaxUint64)).stateAt(t)
	s.Version = a.versionAt(math.MaxUint64)
	return s
}

// RefoldAll replaces every agreement's incremental view with one folded
// from scratch, and reindexes the grants.
func (ix *Index) RefoldAll() {
	for _, a := range ix.agreements {
		a.fold = fold{v: foldAll(a.name, a.visible(math.MaxUint64))}
		ix.indexGrants(a)
	}
}
