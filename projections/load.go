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
			views[i].trim()
			as[i].records = trimmed(as[i].records)
		}
	})
	// The grant index is one structure: views join it one at a time.
	for i, a := range as {
		ix.install(a, views[i])
		a.pending, a.drop = nil, nil
	}
	ix.kviews.reset()
	ix.all = trimmed(ix.all)
	g := ix.grants
	g.es, g.bs = trimmed(g.es), trimmed(g.bs)
}

// A loaded index holds millions of slices grown by append, most of them
// small: their spare capacity, up to half of each, would be a good part of
// its memory. Once loaded they are copied to their length (an append after
// copies them again, as it would have grown them).

// trimmed returns s, or a copy of it without spare capacity.
func trimmed[S ~[]E, E any](s S) S {
	if cap(s) == len(s) {
		return s
	}
	if len(s) == 0 {
		return nil
	}
	return append(S(make([]E, 0, len(s))), s...)
}

// trim drops the spare capacity of v's slices. No State may share them yet.
func (v *view) trim() {
	v.versions, v.order, v.grants = trimmed(v.versions), trimmed(v.order), trimmed(v.grants)
	v.marks, v.seqMax = trimmed(v.marks), trimmed(v.seqMax)
	for _, l := range v.order {
		l.ids = trimmed(l.ids)
	}
}
