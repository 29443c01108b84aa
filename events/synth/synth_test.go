package synth_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/synth"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/oklog/ulid/v2"
)

// feed validates each amendment against the index and then adds it, as the
// ledger's append does; it fails the test at the first one that does not
// pass events validation (through its JSON form) or Index.Validate.
func feed(t *testing.T, ix *projections.Index, as []*events.Amendment) {
	t.Helper()
	rec := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, a := range as {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatalf("amendment %d: marshal: %v", i, err)
		}
		back, err := events.Decode(b)
		if err != nil {
			t.Fatalf("amendment %d does not pass events validation: %v\n%s", i, err, b)
		}
		if back[0].ContentHash() != a.ContentHash() {
			t.Fatalf("amendment %d does not survive its JSON form:\n%s", i, b)
		}
		if err := ix.Validate([]*events.Amendment{a}); err != nil {
			t.Fatalf("amendment %d (%s) does not apply to the history before it: %v\n%s", i, a.Agreement, err, b)
		}
		rec = rec.Add(time.Second)
		if err := ix.Add(&events.Record{Amendment: a, Seq: ix.LastSeq() + 1, Recorded: rec}); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range ix.Agreements(time.Time{}) {
		if an := ix.Anomalies(s.Agreement); len(an) > 0 {
			t.Fatalf("%s has anomalies: %v", s.Agreement, an)
		}
	}
}

func TestGeneratedAmendmentsAreValid(t *testing.T) {
	tests := []struct {
		name   string
		config func(*synth.Config)
		gen    func(*synth.Generator) []*events.Amendment
	}{
		{"one agreement", nil, func(g *synth.Generator) []*events.Amendment { return g.Agreement("deal", 1500) }},
		{"many agreements", nil, func(g *synth.Generator) []*events.Amendment { return g.Many(60, 25) }},
		{"all ops", func(c *synth.Config) {
			c.Retroactive, c.Retract, c.Declare, c.Close = 150, 40, 40, 4
			c.MinLive, c.MaxLive = 3, 8
		}, func(g *synth.Generator) []*events.Amendment { return g.Many(12, 80) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := synth.New(7)
			if tt.config != nil {
				tt.config(&g.Config)
			}
			as := tt.gen(g)
			if len(as) < 900 {
				t.Fatalf("generated %d amendments, want at least 900", len(as))
			}
			feed(t, projections.NewIndex(), as)
		})
	}
}

// TestMix checks that the generator makes what it promises: every op and
// kind, about 5% retroactive amendments, several changes per amendment,
// undisclosed values, and exclusive grants that conflict.
func TestMix(t *testing.T) {
	g := synth.New(3)
	g.Retract, g.Declare, g.Close = 10, 10, 2
	as := g.Many(400, 30)
	ops := map[events.Op]int{}
	kinds := map[events.Kind]int{}
	latest := map[string]time.Time{}
	retro, changes, undisclosed := 0, 0, 0
	for _, a := range as {
		if a.Effective.Before(latest[a.Agreement]) {
			retro++
		} else {
			latest[a.Agreement] = a.Effective
		}
		changes += len(a.Changes)
		for _, c := range a.Changes {
			ops[c.Op]++
			if c.Clause != nil {
				kinds[c.Clause.Kind]++
				if c.Clause.Rate != nil && c.Clause.Rate.Undisclosed {
					undisclosed++
				}
			}
		}
	}
	for _, op := range events.Ops {
		if ops[op] == 0 {
			t.Errorf("no %s change in %d amendments", op, len(as))
		}
	}
	for _, k := range events.Kinds {
		if kinds[k] == 0 {
			t.Errorf("no %s clause added", k)
		}
	}
	if share := float64(retro) / float64(len(as)); share < 0.02 || share > 0.10 {
		t.Errorf("%.1f%% of amendments are retroactive, want about 5%%", 100*share)
	}
	if per := float64(changes) / float64(len(as)); per < 1.5 {
		t.Errorf("%.2f changes per amendment, want several", per)
	}
	if undisclosed == 0 {
		t.Error("no undisclosed rate")
	}
	ix := projections.NewIndex()
	for i, a := range as {
		if err := ix.Add(&events.Record{Amendment: a, Seq: uint64(i + 1), Recorded: time.Unix(int64(i), 0)}); err != nil {
			t.Fatal(err)
		}
	}
	found := 0
	for y := 2016; y <= 2026; y += 2 {
		found += len(ix.Conflicts(time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{}).Conflicts)
	}
	if found == 0 {
		t.Error("no conflicting exclusive grants in 400 agreements")
	}
}

// TestLiveClausesBounded checks that a long history keeps its live clauses
// in the configured band, so that a 100k-amendment agreement is a long
// history of a normal agreement, not a huge one.
func TestLiveClausesBounded(t *testing.T) {
	as := synth.New(11).Agreement("long", 20000)
	// Recorded in effective order, so that the index never refolds: the
	// state with everything known is the same.
	sorted := slices.Clone(as)
	slices.SortStableFunc(sorted, func(a, b *events.Amendment) int { return a.Effective.Compare(b.Effective) })
	ix := projections.NewIndex()
	for i, a := range sorted {
		if err := ix.Add(&events.Record{Amendment: a, Seq: uint64(i + 1), Recorded: time.Unix(int64(i), 0)}); err != nil {
			t.Fatal(err)
		}
	}
	if an := ix.Anomalies("long"); len(an) > 0 {
		t.Fatalf("anomalies: %v", an[0])
	}
	first, last := sorted[0].Effective, sorted[len(sorted)-1].Effective
	if span := last.Sub(first); span > 31*365*24*time.Hour || span < 10*365*24*time.Hour {
		t.Errorf("history spans %v, want up to about 30 years", span)
	}
	most := 0
	for i := 1; i <= 20; i++ {
		at := first.Add(last.Sub(first) / 20 * time.Duration(i))
		s, err := ix.State("long", at, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		most = max(most, len(s.Clauses))
		if i > 2 && (len(s.Clauses) < 5 || len(s.Clauses) > 60) {
			t.Errorf("%d clauses in force at %s, want about 20-50", len(s.Clauses), at)
		}
	}
	if most < 15 {
		t.Errorf("at most %d clauses in force, want about 20-50", most)
	}
}

func TestDeterministic(t *testing.T) {
	enc := func(seed int64) []byte {
		b, err := json.Marshal(synth.New(seed).Many(20, 30))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b, c := enc(5), enc(5), enc(6)
	if string(a) != string(b) {
		t.Error("the same seed gave different histories")
	}
	if string(a) == string(c) {
		t.Error("different seeds gave the same history")
	}
	ids := map[ulid.ULID]bool{}
	for _, s := range []int64{5, 6} {
		for _, am := range synth.New(s).Many(20, 30) {
			if am.ID == (ulid.ULID{}) || ids[am.ID] {
				t.Fatalf("amendment id %s is zero or repeated", am.ID)
			}
			ids[am.ID] = true
		}
	}
}

// TestNewFrom drives the generator from a source that always answers 0 —
// the least random source there is — and checks that it still makes a
// valid history of the length asked.
func TestNewFrom(t *testing.T) {
	g := synth.NewFrom(zero{}, 1)
	as := g.Agreement("zeros", 200)
	if len(as) != 200 {
		t.Fatalf("got %d amendments, want 200", len(as))
	}
	feed(t, projections.NewIndex(), as)
}

type zero struct{}

func (zero) IntN(int) int { return 0 }

func Example() {
	g := synth.New(1)
	hist := g.Agreement("example", 100)
	fmt.Println(len(hist), hist[0].Changes[0].Op)
	// Output: 100 open
}
