package projections

import (
	"fmt"
	"math"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/synth"
)

// sharedIndex returns an index of as, recorded a second apart from start,
// with four cores to share it for the rest of the test (minPerWorker is
// the test's to set).
func sharedIndex(t *testing.T, as []*events.Amendment) (ix *Index, start time.Time) {
	ix = NewIndex()
	start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, a := range as {
		if err := ix.Add(&events.Record{Amendment: a, Seq: uint64(i + 1), Recorded: start.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func(n, procs int) func() {
		return func() { minPerWorker = n; runtime.GOMAXPROCS(procs) }
	}(minPerWorker, runtime.GOMAXPROCS(4)))
	return ix, start
}

// TestConflictsSharedAmongWorkers checks that Conflicts finds the same
// conflicts, in the same order, whether one goroutine gathers them or
// several share the grant index and the groups between them.
func TestConflictsSharedAmongWorkers(t *testing.T) {
	g := synth.New(11)
	g.Parties, g.Products = 40, 12
	g.Retroactive, g.Retract, g.Close = 150, 30, 5
	as := g.Many(400, 12)
	ix, start := sharedIndex(t, as)
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

// TestAvailsSharedAmongWorkers checks that every party's avails are the same
// whether one goroutine writes them or several share the parties.
func TestAvailsSharedAmongWorkers(t *testing.T) {
	g := synth.New(12)
	g.Parties, g.Products = 60, 4
	g.Retroactive, g.Retract, g.Close = 150, 30, 5
	as := g.Many(600, 10)
	ix, _ := sharedIndex(t, as)
	intervals, own, bases := 0, 0, 0
	for p := range g.Products {
		q := AvailsQuery{Scope: &events.Scope{Products: []string{fmt.Sprintf("product-%03d", p)}}, From: time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)}
		minPerWorker = math.MaxInt
		one, err := ix.Avails(q)
		if err != nil {
			t.Fatal(err)
		}
		minPerWorker = 1
		shared, err := ix.Avails(q)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(one.Parties, shared.Parties) {
			t.Fatalf("%s: the parties' intervals differ between one worker and four", q.Scope)
		}
		for _, p := range one.Parties {
			intervals += len(p.Intervals)
			if len(p.Intervals) > 1 {
				own++
			}
		}
		// The bases found, in order (the clauses that decide each interval).
		if !reflect.DeepEqual(one.lazy, shared.lazy) || !reflect.DeepEqual(one.span, shared.span) {
			t.Fatalf("%s: the bases differ between one worker and four", q.Scope)
		}
		bases += len(one.lazy)
	}
	if intervals < 1000 || own < 50 || bases < 100 {
		t.Fatalf("only %d intervals, %d parties with more than one, %d bases: the history does not exercise the split", intervals, own, bases)
	}
	t.Logf("%d intervals compared, %d parties with more than one, %d bases", intervals, own, bases)
}
