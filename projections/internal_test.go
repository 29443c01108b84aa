package projections

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/oklog/ulid/v2"
)

func TestIDTable(t *testing.T) {
	var tab idTable
	r := rand.New(rand.NewPCG(1, 2))
	var recs []*events.Record
	for i := range 5000 {
		var id ulid.ULID
		if i%2 == 0 {
			binary.BigEndian.PutUint64(id[8:], uint64(i)) // ids that differ in a few bits
		} else {
			binary.LittleEndian.PutUint64(id[:8], r.Uint64())
			binary.LittleEndian.PutUint64(id[8:], r.Uint64())
		}
		rec := &events.Record{Amendment: &events.Amendment{ID: id}}
		if tab.get(id) != nil {
			t.Fatalf("%s found before it was put", id)
		}
		tab.put(rec)
		recs = append(recs, rec)
	}
	for _, rec := range recs {
		if got := tab.get(rec.ID); got != rec {
			t.Fatalf("get(%s) = %v", rec.ID, got)
		}
	}
	if 4*tab.n > 3*len(tab.slots) {
		t.Fatalf("%d records in %d slots", tab.n, len(tab.slots))
	}
}

func TestMicros(t *testing.T) {
	times := []time.Time{
		{},
		time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 1000, time.UTC),
		time.Date(2026, 4, 27, 12, 0, 0, 999, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(500000, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for i := 1; i < len(times); i++ {
		a, b := micros(times[i-1]), micros(times[i])
		if a > b {
			t.Errorf("micros(%s) = %d > micros(%s) = %d", times[i-1], a, times[i], b)
		}
	}
	for _, x := range times[1:8] {
		l := &line{added: micros(x), addedNs: uint16(x.Nanosecond() % 1000)}
		if got := l.addedT(); !got.Equal(x) {
			t.Errorf("%s comes back as %s", x, got)
		}
	}
}

// TestRecordedTimesDecrease checks that known-at treats recorded times as
// made non-decreasing: a record stamped earlier than the one before it is
// known from the time of that one.
func TestRecordedTimesDecrease(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2020, 1, d, 0, 0, 0, 0, time.UTC) }
	ix := NewIndex()
	for i, rec := range []time.Time{day(1), day(5), day(3), day(7)} {
		a := &events.Amendment{Agreement: "a", Effective: day(1 + i), Changes: []events.Change{{Op: events.Declare, Detail: &events.Detail{Condition: string(rune('a' + i))}}}}
		a.ID[15] = byte(i + 1)
		if i == 0 {
			a.Changes = []events.Change{{Op: events.Open, Detail: &events.Detail{Title: "t", Parties: []string{"x", "y"}}}}
		}
		if err := ix.Add(&events.Record{Amendment: a, Seq: uint64(i + 1), Recorded: rec}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		known   time.Time
		version uint64
	}{{day(1), 1}, {day(3), 1}, {day(4), 1}, {day(5), 3}, {day(6), 3}, {day(7), 4}} {
		s, err := ix.State("a", day(20), c.known)
		if err != nil {
			t.Fatal(err)
		}
		if s.Version != c.version || len(s.Conditions) != int(c.version)-1 {
			t.Errorf("known at %s: version %d with %d conditions, want %d", c.known.Format(time.DateOnly), s.Version, len(s.Conditions), c.version)
		}
	}
}

// TestMayCover: the masks never rule out a scope that covers a query
// (mayCover is a necessary condition of Covers), over random scopes of
// values the index has seen and has not.
func TestMayCover(t *testing.T) {
	g := newGrantIndex()
	r := rand.New(rand.NewPCG(3, 4))
	values := func(prefix string, n int) []string {
		if r.IntN(3) == 0 {
			return nil
		}
		var out []string
		for range 1 + r.IntN(2) {
			out = append(out, prefix+string(rune('a'+r.IntN(n))))
		}
		return out
	}
	scope := func(n int) *events.Scope {
		return &events.Scope{Products: values("p", n), Channels: values("c", n), Platforms: values("f", n), Territories: values("t", n)}
	}
	ruled := 0
	for range 20000 {
		s, q := scope(60), scope(70) // queries name values no scope has
		covers, may := s.Covers(q), mayCover(g.mask(s, true), g.mask(q, false))
		if covers && !may {
			t.Fatalf("%v covers %v, but its mask rules it out", s, q)
		}
		if !may {
			ruled++
		}
	}
	if ruled < 10000 {
		t.Errorf("the masks ruled out only %d of 20000 scopes", ruled)
	}
}

// TestCondIndex: a condIndex answers as a map of conditions to the clauses
// added under them, through adds and pops, holding a few conditions in a
// slice and more than condScan in a map.
func TestCondIndex(t *testing.T) {
	for _, conds := range []int{3, condScan, condScan + 1, 3 * condScan} {
		var ci *condIndex
		if ci.get("any") != nil {
			t.Fatal("a nil condIndex has clauses")
		}
		ci = &condIndex{}
		model := map[string][]*line{}
		var added []string // conditions in the order added, for pops
		check := func(step string) {
			for i := range conds + 1 {
				c := fmt.Sprintf("c%d", i)
				if got, want := ci.get(c), model[c]; !slices.Equal(got, want) {
					t.Fatalf("%d conditions, %s: %s has %d clauses, want %d", conds, step, c, len(got), len(want))
				}
			}
		}
		for i := range 3 * conds {
			c := fmt.Sprintf("c%d", i%conds)
			l := &line{}
			ci.add(c, l)
			model[c] = append(model[c], l)
			added = append(added, c)
			check(fmt.Sprintf("after add %d", i))
		}
		if conds > condScan && ci.many == nil || conds <= condScan && ci.many != nil {
			t.Fatalf("%d conditions: held in a map: %v", conds, ci.many != nil)
		}
		for i := len(added) - 1; i >= 0; i-- {
			c := added[i]
			ci.pop(c)
			model[c] = model[c][:len(model[c])-1]
			if len(model[c]) == 0 {
				delete(model, c)
			}
			check(fmt.Sprintf("after pop %d", i))
		}
	}
}
