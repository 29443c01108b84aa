package projections

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/synth"
)

// allConflicts compares every pair of exclusive grants in the index, over
// all valid time: the slow, obvious answer.
func allConflicts(ix *Index) []Conflict {
	defer ix.read()()
	var gs []grant
	for _, a := range ix.agreements {
		for _, x := range a.v.grants {
			gs = append(gs, grant{a: a, x: x, mask: ix.grants.mask(x.clause.Scope, false), key: -1, holder: -1})
		}
	}
	var out []Conflict
	for i := range gs {
		for j := i + 1; j < len(gs); j++ {
			if c, ok := conflict(gs[i], gs[j]); ok {
				out = append(out, c)
			}
		}
	}
	return out
}

// Preview compares only the grants an amendment makes or changes; the
// conflicts it reports must be those of comparing everything before and
// after.
// It runs with the default window (a batch is tried on the agreement's own
// view, which notes what the batch did to its grants) and with none (the
// batch is tried on a view of its own).
func TestPreviewConflictsCompareEverything(t *testing.T) {
	for _, w := range [][2]int{{windowMin, windowPct}, {0, 0}, {1, 0}} {
		t.Run(fmt.Sprintf("window=%d,%d", w[0], w[1]), func(t *testing.T) {
			defer SetWindow(w[0], w[1])()
			previewConflictsCompareEverything(t)
		})
	}
}

func previewConflictsCompareEverything(t *testing.T) {
	found := 0
	for seed := range int64(10) {
		// Few parties and products, so grants collide often; retroactive
		// amendments, retractions, conditions and closings change grants
		// made earlier.
		g := synth.New(seed)
		g.Parties, g.Products = 4, 3
		g.Retroactive, g.Retract, g.Declare, g.Close = 250, 60, 40, 5
		as := g.Many(8, 30)
		recs := make([]*events.Record, len(as))
		for i, a := range as {
			recs[i] = &events.Record{Amendment: a, Seq: uint64(i + 1), Recorded: time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC)}
		}
		for cut := 1; cut < len(recs); cut += 3 {
			n := min(1+cut%3, len(recs)-cut) // batches of one to three
			before, after := NewIndex(), NewIndex()
			for i, r := range recs[:cut+n] {
				if i < cut {
					c := *r
					if err := before.Add(&c); err != nil {
						t.Fatal(err)
					}
				}
				c := *r
				if err := after.Add(&c); err != nil {
					t.Fatal(err)
				}
			}
			batch := make([]*events.Amendment, n)
			for i, r := range recs[cut : cut+n] {
				batch[i] = r.Amendment
			}
			pv, err := before.Preview(batch)
			if err != nil {
				continue // the batch does not apply on its own (a later amendment fixes it up)
			}
			want := introduced(allConflicts(before), allConflicts(after))
			got, _ := json.Marshal(pv.Conflicts)
			wantJSON, _ := json.Marshal(want)
			if string(got) != string(wantJSON) {
				t.Fatalf("seed %d, records %d–%d: preview reports\n%s\ncomparing everything:\n%s", seed, cut+1, cut+n, got, wantJSON)
			}
			found += len(want)
		}
	}
	if found == 0 {
		t.Fatal("no batch introduced a conflict: the test compares nothing")
	}
	t.Logf("%d introduced conflicts checked", found)
}

// A writer gathering requests into one commit checks each after those
// before it: each request is told only of the conflicts its own
// agreements introduce, not those of the requests before it.
func TestIntroducesAfterPrior(t *testing.T) {
	grant := func(agreement, holder string) *events.Amendment {
		as, err := events.Decode([]byte(`{"agreement": "` + agreement + `", "effective": "2026-01-01", "changes": [
			{"op": "open", "title": "` + agreement + `", "parties": ["acme", "` + holder + `"]},
			{"op": "add", "clause": {"id": "exc", "kind": "exclusivity", "grantor": "acme", "holder": "` + holder + `", "scope": {"products": ["widget"]}}}]}`))
		if err != nil {
			t.Fatal(err)
		}
		as[0].ID = ulidOf(agreement)
		return as[0]
	}
	ix := NewIndex()
	if err := ix.Add(&events.Record{Amendment: grant("first", "beta"), Seq: 1, Recorded: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	second, third := grant("second", "gamma"), grant("third", "delta")
	pairs := func(cs []Conflict) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Clauses[0].Agreement+"/"+c.Clauses[1].Agreement)
		}
		return out
	}
	cs, err := ix.Introduces(nil, []*events.Amendment{second})
	if err != nil {
		t.Fatal(err)
	}
	if got := pairs(cs); len(got) != 1 || got[0] != "first/second" {
		t.Fatalf("second alone introduces %v, want [first/second]", got)
	}
	cs, err = ix.Introduces([]*events.Amendment{second}, []*events.Amendment{third})
	if err != nil {
		t.Fatal(err)
	}
	if got := pairs(cs); len(got) != 2 || got[0] != "first/third" || got[1] != "second/third" {
		t.Fatalf("third after second introduces %v, want [first/third second/third]", got)
	}
}

func ulidOf(s string) (id [16]byte) {
	copy(id[:], s)
	return id
}
