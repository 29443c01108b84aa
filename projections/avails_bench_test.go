package projections_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/synth"
	"github.com/agreement-ledger/ledger/projections"
)

// Targets (ledger bench p10, p11): avails over one year for a product in
// the store of 100k agreements ≤ 50 ms; the calendar of a year of it
// ≤ 100 ms. The store is BenchmarkConflicts's, built once per process.
//
// go test ./projections -run '^$' -bench 'Avails|Calendar' -benchtime 20x

func hundredThousand(b *testing.B) *fixture {
	manyAgreements.once.Do(func() {
		manyAgreements.recs = inOrder(synth.New(2).Many(100_000, 5))
		manyAgreements.ix = build(b, manyAgreements.recs)
	})
	return &manyAgreements
}

// benchYears are the years asked about: inside the span the synthetic
// agreements take effect in (2015 to about 2020), and after it, when
// clauses are in force with no new ones.
var benchYears = []int{2016, 2018, 2020, 2022}

func BenchmarkAvails(b *testing.B) {
	f := hundredThousand(b)
	cases := []struct {
		name  string
		party string
	}{{"every-party", ""}, {"one-party", "party-0001"}}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			parties, intervals := 0, 0
			latencies(b, func(i int) {
				y := benchYears[i%len(benchYears)]
				av, err := f.ix.Avails(projections.AvailsQuery{
					Scope: &events.Scope{Products: []string{fmt.Sprintf("product-%03d", 1+i%200)}, Channels: []string{"api"}},
					Party: c.party, From: time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC)})
				if err != nil {
					b.Fatal(err)
				}
				parties += len(av.Parties)
				for _, p := range av.Parties {
					intervals += len(p.Intervals)
				}
			})
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/op")
			b.ReportMetric(float64(parties)/float64(b.N), "parties/op")
			b.ReportMetric(float64(intervals)/float64(b.N), "intervals/op")
		})
	}
}

// BenchmarkAvailsJSON is one party's avails and its JSON document, as the
// API serves it for a question such as "when may P offer X?".
func BenchmarkAvailsJSON(b *testing.B) {
	f := hundredThousand(b)
	size := 0
	latencies(b, func(i int) {
		av, err := f.ix.Avails(projections.AvailsQuery{
			Scope: &events.Scope{Products: []string{fmt.Sprintf("product-%03d", 1+i%200)}, Channels: []string{"api"}},
			Party: "party-0001", From: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			b.Fatal(err)
		}
		out, err := json.Marshal(av)
		if err != nil {
			b.Fatal(err)
		}
		size += len(out)
	})
	b.ReportMetric(float64(size)/float64(b.N), "bytes/op")
}

// BenchmarkCalendar asks for the calendar of a year of every agreement:
// "gather" with the index's calendar facts gathered anew for each query
// (the first calendar a ledger is asked for), "window" read from them (every
// later one, the facts kept up to date as records are added).
func BenchmarkCalendar(b *testing.B) {
	f := hundredThousand(b)
	ask := func(b *testing.B, i int) {
		y := benchYears[i%len(benchYears)]
		c, err := f.ix.Calendar(projections.CalendarQuery{From: time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(c.Entries)), "entries/op")
		b.ReportMetric(float64(len(c.Standing)), "standing/op")
	}
	b.Run("gather", func(b *testing.B) {
		for i := range b.N {
			b.StopTimer()
			f.ix.ForgetCalendar()
			b.StartTimer()
			ask(b, i)
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
	})
	b.Run("window", func(b *testing.B) {
		ask(b, 0) // the facts, gathered once
		latencies(b, func(i int) { ask(b, i) })
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/op")
	})
}
