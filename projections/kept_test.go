package projections_test

import (
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/synth"
	"github.com/agreement-ledger/ledger/projections"
)

// A writer holds a batch it checked applied (Hold); the index then takes
// the batch's records back from the stream without folding them again, or
// the batch is taken back. Whatever happens, the index ends as an index that
// was only ever given the records that were added, and while a batch is
// held, queries answer as if it were not there.
func TestKeptBatch(t *testing.T) {
	times := []string{"2015-06-01", "2018-01-01", "2021-06-01", "2030-01-01"}
	cases := []struct {
		name string
		// run holds batch (a history's last amendments), then adds some of
		// them or others to ix; it returns the records ix was given.
		run func(t *testing.T, ix *projections.Index, batch []*events.Amendment, next func(a *events.Amendment) *events.Record) []*events.Record
	}{
		{"added whole", func(t *testing.T, ix *projections.Index, batch []*events.Amendment, next func(*events.Amendment) *events.Record) []*events.Record {
			var added []*events.Record
			for _, a := range batch {
				r := next(a)
				add(t, ix, r)
				if ix.Lookup(r.ID) == r {
					t.Fatalf("%s was folded again, not taken as held", r.ID)
				}
				added = append(added, r)
			}
			return added
		}},
		{"aborted", func(t *testing.T, ix *projections.Index, batch []*events.Amendment, next func(*events.Amendment) *events.Record) []*events.Record {
			return nil
		}},
		{"half added, then aborted", func(t *testing.T, ix *projections.Index, batch []*events.Amendment, next func(*events.Amendment) *events.Record) []*events.Record {
			r := next(batch[0])
			add(t, ix, r)
			return []*events.Record{r}
		}},
		{"another writer first", func(t *testing.T, ix *projections.Index, batch []*events.Amendment, next func(*events.Amendment) *events.Record) []*events.Record {
			// The same amendment decoded again is another writer's: the
			// batch is taken back and the record folded as any other.
			other := *batch[0]
			r := next(&other)
			add(t, ix, r)
			if ix.Lookup(r.ID) != r {
				t.Fatalf("another writer's %s was taken as the held one", r.ID)
			}
			return []*events.Record{r}
		}},
	}
	for _, retro := range []int{0, 1000} {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				g := synth.New(11)
				g.Retroactive = retro
				g.Parties = 3 // grants of one grantor meet: conflicts change
				hist := g.Many(3, 40)
				// The batch: the last amendments of two agreements and the
				// first of a new one.
				var batch []*events.Amendment
				for _, name := range g.Agreements()[:2] {
					batch = append(batch, g.Next(name), g.Next(name))
				}
				batch = append(batch, g.Agreement("new-deal", 2)...)
				recs := records(hist, lag(time.Hour))
				ix := index(t, recs)
				before := snapshot(t, ix, times...)
				_, errs, k := ix.Hold([][]*events.Amendment{batch})
				if errs[0] != nil {
					t.Fatalf("Hold: %v", errs[0])
				}
				if got := snapshot(t, ix, times...); got != before {
					t.Fatalf("answers while the batch is held differ from those before it")
				}
				seq := uint64(len(recs))
				last := recs[len(recs)-1].Recorded
				next := func(a *events.Amendment) *events.Record {
					seq++
					last = last.Add(time.Minute)
					return &events.Record{Amendment: a, Seq: seq, Recorded: last}
				}
				added := c.run(t, ix, batch, next)
				k.Abort()
				want := index(t, append(records(hist, lag(time.Hour)), copies(added)...))
				if got, w := snapshot(t, ix, times...), snapshot(t, want, times...); got != w {
					t.Fatalf("after the batch, the index answers otherwise than one given only the records added")
				}
				// The index goes on as any other: a batch after it is held
				// and added.
				more := g.Next(g.Agreements()[0])
				if _, errs, k := ix.Hold([][]*events.Amendment{{more}}); errs[0] != nil || k == nil {
					t.Fatalf("Hold after: %v", errs[0])
				}
				add(t, ix, next(more))
			})
		}
	}
}

func add(t *testing.T, ix *projections.Index, r *events.Record) {
	t.Helper()
	if err := ix.Add(r); err != nil {
		t.Fatal(err)
	}
	if an := ix.Anomalies(r.Agreement); len(an) > 0 {
		t.Fatalf("anomalies after adding %s: %v", r.ID, an)
	}
}

// copies returns records like recs, for another index.
func copies(recs []*events.Record) []*events.Record {
	out := make([]*events.Record, len(recs))
	for i, r := range recs {
		c := *r
		out[i] = &c
	}
	return out
}
