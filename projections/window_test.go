package projections_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/synth"
	"github.com/agreement-ledger/ledger/projections"
	"pgregory.net/rapid"
)

// A retroactive record or a retraction is folded in by rolling the view back
// to where it changes history and folding the rest again, when that rest is
// within the window; beyond it the agreement is folded again from scratch.
// Validate and Preview try amendments on a live view the same way and then
// restore it. These properties run the generated histories with windows so
// small that both happen often, and check every answer against indexes
// folded from scratch.

// windows are the (minimum records, percent) settings tried: always refold,
// a window of a record or a few, and a window of half the history (the
// other tests run with the default window, which these histories never
// leave).
var windows = [][2]int{{0, 0}, {1, 0}, {4, 0}, {0, 50}}

// propScratch checks, for a sample of known-at times and of valid times,
// that the index answers what an index of the records recorded by then,
// folded from scratch, answers: states (which read the current view up to
// a bound when what was known then is a prefix of it, and fold otherwise),
// conflicts and rights checks.
func propScratch(f failer, src synth.Source, h *history) {
	f.Helper()
	for _, k := range pick(src, h.known, 8) {
		then := projections.NewIndex()
		for _, r := range h.recs {
			if k.IsZero() || !r.Recorded.After(k) {
				if err := then.Add(r); err != nil {
					f.Fatalf("Add: %v", err)
				}
			}
		}
		then.RefoldAll()
		for _, t := range pick(src, h.valid, 6) {
			for _, name := range h.names {
				same(f, fmt.Sprintf("%s at %s known at %s, incrementally vs from scratch", name, t, k), stateOrErr(then, name, t, k), stateOrErr(h.ix, name, t, k))
			}
			same(f, fmt.Sprintf("conflicts at %s known at %s, incrementally vs from scratch", t, k), then.Conflicts(t, k), h.ix.Conflicts(t, k))
			q := projections.RightsQuery{Party: propParties[src.IntN(len(propParties))], Scope: h.scopes[src.IntN(len(h.scopes))], At: t, KnownAt: k}
			same(f, fmt.Sprintf("check %+v, incrementally vs from scratch", q), then.Check(q), h.ix.Check(q))
		}
	}
}

// propLazy checks that an index given every record before any query (which
// folds what Add deferred all at once, as when the read model replays the
// stream) answers what the index queried after each record does.
func propLazy(f failer, src synth.Source, h *history) {
	f.Helper()
	lazy := projections.NewIndex()
	for _, r := range h.recs {
		c := *r
		if err := lazy.Add(&c); err != nil {
			f.Fatalf("Add: %v", err)
		}
	}
	for _, k := range pick(src, h.known, 3) {
		for _, t := range pick(src, h.valid, 4) {
			for _, name := range h.names {
				same(f, fmt.Sprintf("%s at %s known at %s, added at once vs one by one", name, t, k), stateOrErr(h.ix, name, t, k), stateOrErr(lazy, name, t, k))
			}
			same(f, fmt.Sprintf("conflicts at %s known at %s, added at once vs one by one", t, k), h.ix.Conflicts(t, k), lazy.Conflicts(t, k))
		}
	}
	for _, name := range h.names {
		a, errA := h.ix.Timeline(name, time.Time{})
		b, errB := lazy.Timeline(name, time.Time{})
		if (errA == nil) != (errB == nil) {
			f.Fatalf("timeline of %s: %v vs %v", name, errA, errB)
		}
		same(f, "timeline of "+name+", added at once vs one by one", a, b)
	}
}

// propPreviewRestores checks that validating and previewing amendments that
// take effect anywhere in the history (so that the live view is rolled back
// and restored) leaves the index answering exactly what it did.
func propPreviewRestores(f failer, src synth.Source, h *history) {
	f.Helper()
	if len(h.recs) == 0 {
		return
	}
	times := pick(src, h.valid, 3)
	snap := func() string {
		var s string
		for _, name := range h.names {
			tl, err := h.ix.Timeline(name, time.Time{})
			if err == nil {
				s += jsonOf(f, tl)
			}
			for _, t := range times {
				s += jsonOf(f, stateOrErr(h.ix, name, t, time.Time{}))
			}
			s += fmt.Sprint(h.ix.Anomalies(name))
		}
		for _, t := range times {
			s += jsonOf(f, h.ix.Conflicts(t, time.Time{}))
		}
		return s
	}
	before := snap()
	for range 3 {
		// An amendment recorded earlier, moved to another time: it may apply
		// or not, and may break what comes after it.
		old := h.recs[src.IntN(len(h.recs))].Amendment
		a := *old
		a.ID = [16]byte{}
		a.Effective = h.valid[src.IntN(len(h.valid))]
		_ = h.ix.Validate([]*events.Amendment{&a})
		_, _ = h.ix.Preview([]*events.Amendment{&a})
		if after := snap(); after != before {
			f.Fatalf("validating and previewing %s effective %s changed the index", jsonOf(f, &a), a.Effective)
		}
	}
}

func TestWindowProperties(t *testing.T) {
	for _, w := range windows {
		t.Run(fmt.Sprintf("min=%d,pct=%d", w[0], w[1]), func(t *testing.T) {
			defer projections.SetWindow(w[0], w[1])()
			rapid.Check(t, func(t *rapid.T) {
				src := rapidSource{t}
				h := generate(t, src, 40)
				propScratch(t, src, h)
				propIncremental(t, src, h)
				propLazy(t, src, h)
				propPreviewRestores(t, src, h)
			})
		})
	}
}

// TestWindowLong runs longer histories, where retroactive records land both
// inside and outside a window of a few records.
func TestWindowLong(t *testing.T) {
	defer projections.SetWindow(8, 0)()
	for seed := range int64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			src := pcg(100 + seed)
			h := generate(t, src, 200)
			propScratch(t, src, h)
			propIncremental(t, src, h)
			propLazy(t, src, h)
			propPreviewRestores(t, src, h)
		})
	}
}

// TestConcurrentQueries runs queries while records are added (retroactive
// ones are folded by the first query after them) and while Validate and
// Preview try retroactive amendments on the live views (which they roll
// back and restore), all under the index's lock: run with -race.
func TestConcurrentQueries(t *testing.T) {
	defer projections.SetWindow(0, 100)()
	var h *history
	for seed := int64(7); h == nil || len(h.recs) < 60; seed++ {
		h = generate(t, pcg(seed), 150)
	}
	ix := projections.NewIndex()
	done := make(chan struct{})
	errs := make(chan error, 4)
	for w := range 3 {
		go func() {
			defer func() { errs <- nil }()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				at := h.valid[(i*7+w)%len(h.valid)]
				k := h.known[(i*3+w)%len(h.known)]
				for _, name := range h.names {
					if _, err := ix.State(name, at, k); err != nil && events.KindOf(err) != events.NotFound {
						errs <- err
						return
					}
				}
				ix.Conflicts(at, k)
				ix.Check(projections.RightsQuery{Party: propParties[i%len(propParties)], Scope: h.scopes[i%len(h.scopes)], At: at, KnownAt: k})
				_, _ = ix.Timeline(h.names[i%len(h.names)], k)
				ix.Anomalies(h.names[i%len(h.names)])
			}
		}()
	}
	src := pcg(8)
	for i, r := range h.recs {
		c := *r
		if err := ix.Add(&c); err != nil {
			t.Fatal(err)
		}
		if i%4 == 0 {
			a := *h.recs[src.IntN(i+1)].Amendment
			a.ID = [16]byte{}
			a.Effective = h.valid[src.IntN(len(h.valid))]
			_ = ix.Validate([]*events.Amendment{&a})
			_, _ = ix.Preview([]*events.Amendment{&a})
		}
	}
	close(done)
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, at := range pick(src, h.valid, 10) {
		for _, name := range h.names {
			same(t, fmt.Sprintf("%s at %s, added while queried", name, at), stateOrErr(h.ix, name, at, time.Time{}), stateOrErr(ix, name, at, time.Time{}))
		}
		same(t, fmt.Sprintf("conflicts at %s, added while queried", at), h.ix.Conflicts(at, time.Time{}), ix.Conflicts(at, time.Time{}))
	}
}
