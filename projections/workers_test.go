package projections

import (
	"math"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/synth"
)

// TestConflictsSharedAmongWorkers checks that Conflicts finds the same
// conflicts, in the same order, whether one goroutine gathers them or
// several share the grant index and the groups between them.
func TestConflictsSharedAmongWorkers(t *testing.T) {
	g := synth.New(11)
	g.Parties, g.Products = 40, 12
	g.Retroactive, g.Retract, g.Close = 150, 30, 5
	as := g.Many(400, 12)
	ix := NewIndex()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, a := range as {
		if err := ix.Add(&events.Record{Amendment: a, Seq: uint64(i + 1), Recorded: start.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	defer func(n, procs int) { minPerWorker = n; runtime.GOMAXPROCS(procs) }(minPerWorker, runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(4)
	found := 0
	for _, at := range []time.Time{as[len(as)/3].Effective, as[len(as)/2].Effective, as[len(as)-1].Effective} {
		// Everything recorded, and as known when half was.
		for _, knownAt := range []time.Time{{}, start.Add(time.Duration(len(as)/2) * time.Second)} {
			minPerWorker = math.MaxInt
			one := ix.Conflicts(at, knownAt)
			minPerWorker = 1
			shared := ix.Conflicts(at, knownAt)
			if !reflect.DeepEqual(one, shared) {
				t.Fatalf("at %s known at %s: %d conflicts found by one worker, %d by four, or in another order", at, knownAt, len(one.Conflicts), len(shared.Conflicts))
			}
			found += len(one.Conflicts)
		}
	}
	if found < 100 {
		t.Fatalf("only %d conflicts: the history does not exercise the split", found)
	}
	t.Logf("%d conflicts compared", found)
}
