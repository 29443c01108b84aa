package render_test

import (
	"fmt"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/synth"
	"github.com/agreement-ledger/ledger/ledger/render"
	"github.com/agreement-ledger/ledger/projections"
)

// long is an index holding one synthetic agreement of n amendments, built
// once per size and shared by the tests and benchmarks of this file.
func long(tb testing.TB, n int) *projections.Index {
	tb.Helper()
	longMu.Lock()
	defer longMu.Unlock()
	if ix := longs[n]; ix != nil {
		return ix
	}
	ix := projections.NewIndex()
	base := time.Date(2045, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, a := range synth.New(1).Agreement("big", n) {
		r := &events.Record{Amendment: a, Seq: uint64(i + 1), Recorded: base.Add(time.Duration(i) * time.Second)}
		if err := ix.Add(r); err != nil {
			tb.Fatal(err)
		}
	}
	longs[n] = ix
	return ix
}

var (
	longMu sync.Mutex
	longs  = map[int]*projections.Index{}
)

func BenchmarkHistory(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		h, err := long(b, n).History("big")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				if err := render.History(io.Discard, h); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/amendment")
		})
	}
}

// allocated is the number of bytes fn allocates.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHistoryCostIsLinear: writing a history ten times as long allocates
// about ten times as much, not a hundred (the table once copied the rest of
// its output for every line: 19 s for 20,000 amendments). It counts bytes,
// not time, so a loaded machine does not make it fail.
func TestHistoryCostIsLinear(t *testing.T) {
	perAmendment := func(n int) float64 {
		h, err := long(t, n).History("big")
		if err != nil {
			t.Fatal(err)
		}
		var werr error
		b := allocated(func() { werr = render.History(io.Discard, h) })
		if werr != nil {
			t.Fatal(werr)
		}
		return float64(b) / float64(n)
	}
	small, large := perAmendment(2000), perAmendment(20000)
	t.Logf("bytes allocated per amendment: %.0f at 2000, %.0f at 20000", small, large)
	if large > 2*small {
		t.Errorf("a history of 20000 amendments allocates %.0f bytes per amendment, %.1f× as much as one of 2000: the cost is not linear", large, large/small)
	}
}
