package projections

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"sync/atomic"
)

// Loading a history: a read model that starts reads every record there is,
// from a snapshot and the stream. Folding each as it comes (Add) would fold
// an agreement's retroactive records again and again, on one core; while
// the index defers, Add only files records, and Fold then folds every
// agreement once, from scratch, the agreements shared among the cores.

// Defer makes Add file records without folding them, until Fold.
func (ix *Index) Defer() {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.deferred = true
}

// Fold folds what was added since Defer, every agreement on its own, on
// every core, and makes Add fold as it adds again.
func (ix *Index) Fold() {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.deferred = false
	as := ix.unsettled
	ix.unsettled = nil
	// The longest histories first, so that no core is left with one at
	// the end.
	slices.SortFunc(as, func(x, y *agreement) int { return cmp.Compare(len(y.records), len(x.records)) })
	views := make([]*view, len(as))
	var next atomic.Int64
	inParallel(runtime.GOMAXPROCS(0), func(int) {
		for i := int(next.Add(1) - 1); i < len(as); i = int(next.Add(1) - 1) {
			views[i] = foldAll(as[i].name, as[i].visible(math.MaxUint64))
		}
	})
	// The grant index is one structure: views join it one at a time.
	for i, a := range as {
		ix.install(a, views[i])
		a.pending, a.drop = nil, nil
	}
	ix.kviews.reset()
}
