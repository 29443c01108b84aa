package projections

import (
	"encoding/json"
	"fmt"
	"slices"
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

// IntroducesEach tries groups on agreements of their own together; it must
// answer as checking them one after another does: each group's conflicts
// after the groups before it that pass, and each group's problems. Groups
// are single amendments of a generated history with many collisions, some
// on the same agreement (checked one by one), some retroactive and some
// made invalid.
func TestIntroducesEachAsOneAfterAnother(t *testing.T) {
	found, together := 0, 0
	for seed := range int64(8) {
		g := synth.New(seed)
		g.Parties, g.Products = 4, 3
		g.Retroactive, g.Retract, g.Declare, g.Close = 150, 40, 30, 5
		as := g.Many(12, 20)
		recs := inOrderAt(as)
		for cut := 10; cut+6 <= len(recs); cut += 17 {
			ix := NewIndex()
			for _, r := range recs[:cut] {
				c := *r
				if err := ix.Add(&c); err != nil {
					t.Fatal(err)
				}
			}
			var groups [][]*events.Amendment
			seen := map[string]bool{}
			apart := true
			for i, r := range recs[cut : cut+6] {
				a := r.Amendment
				if i == 3 && seed%2 == 0 {
					bad := *a // a clause that does not exist
					bad.Changes = []events.Change{{Op: events.End, ClauseID: "no-such-clause"}}
					a = &bad
				}
				apart = apart && !seen[a.Agreement]
				seen[a.Agreement] = true
				groups = append(groups, []*events.Amendment{a})
			}
			var want [][]Conflict
			var wantErrs []error
			var prior []*events.Amendment
			for _, gr := range groups {
				cs, err := ix.Introduces(prior, gr)
				if err == nil {
					prior = append(prior, gr...)
				}
				want, wantErrs = append(want, cs), append(wantErrs, err)
			}
			got, errs := ix.IntroducesEach(groups)
			for i := range groups {
				if fmt.Sprint(errs[i]) != fmt.Sprint(wantErrs[i]) {
					t.Fatalf("seed %d, cut %d, group %d: error %v, one after another %v", seed, cut, i, errs[i], wantErrs[i])
				}
				gj, _ := json.Marshal(got[i])
				wj, _ := json.Marshal(want[i])
				if wantErrs[i] == nil && string(gj) != string(wj) {
					t.Fatalf("seed %d, cut %d, group %d: IntroducesEach reports\n%s\none after another:\n%s", seed, cut, i, gj, wj)
				}
				found += len(want[i])
			}
			if apart && !slices.ContainsFunc(wantErrs, func(e error) bool { return e != nil }) {
				together++
			}
		}
	}
	if found == 0 || together == 0 {
		t.Fatalf("%d conflicts compared, %d sets of groups tried together: the test compares too little", found, together)
	}
	t.Logf("%d introduced conflicts compared; %d sets of groups tried together", found, together)
}

func inOrderAt(as []*events.Amendment) []*events.Record {
	recs := make([]*events.Record, len(as))
	for i, a := range as {
		recs[i] = &events.Record{Amendment: a, Seq: uint64(i + 1), Recorded: time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC)}
	}
	return recs
}

// Groups tried together see the groups before them done, and not those
// after them: the second of two new colliding grants is told of the
// collision, the first is not; and an amendment that leaves a grant
// colliding as it already did with an earlier group's grant introduces
// nothing.
func TestIntroducesEachInOrder(t *testing.T) {
	decode := func(js string) *events.Amendment {
		as, err := events.Decode([]byte(js))
		if err != nil {
			t.Fatal(err)
		}
		as[0].ID = ulidOf(as[0].Agreement + as[0].Effective.String())
		return as[0]
	}
	grant := func(agreement, holder string) *events.Amendment {
		return decode(`{"agreement": "` + agreement + `", "effective": "2026-01-01", "changes": [
			{"op": "open", "title": "` + agreement + `", "parties": ["acme", "` + holder + `"]},
			{"op": "add", "clause": {"id": "exc", "kind": "exclusivity", "grantor": "acme", "holder": "` + holder + `", "scope": {"products": ["widget"]}}}]}`)
	}
	ix := NewIndex()
	if err := ix.Add(&events.Record{Amendment: grant("first", "beta"), Seq: 1, Recorded: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	second, third := grant("second", "gamma"), grant("third", "delta")
	note := decode(`{"agreement": "first", "effective": "2026-03-01", "changes": [{"op": "amend", "clause": "exc", "set": {"note": "renewed"}}]}`)
	pairs := func(cs []Conflict) string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Clauses[0].Agreement+"/"+c.Clauses[1].Agreement)
		}
		return fmt.Sprint(out)
	}
	got, errs := ix.IntroducesEach([][]*events.Amendment{{second}, {third}, {note}})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("group %d: %v", i, err)
		}
	}
	want := []string{"[first/second]", "[first/third second/third]", "[]"}
	groups := [][]*events.Amendment{{second}, {third}, {note}}
	var prior []*events.Amendment
	for i := range want {
		if pairs(got[i]) != want[i] {
			t.Errorf("group %d introduces %s, want %s", i, pairs(got[i]), want[i])
		}
		// Checked after the groups before it, as a writer does when its
		// groups share agreements.
		cs, err := ix.Introduces(prior, groups[i])
		if err != nil {
			t.Fatal(err)
		}
		if pairs(cs) != want[i] {
			t.Errorf("group %d after the others introduces %s, want %s", i, pairs(cs), want[i])
		}
		prior = append(prior, groups[i]...)
	}
}
