package projections_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/synth"
	"github.com/agreement-ledger/ledger/projections"
)

// Benchmarks over synthetic histories (events/synth). Targets: a state query
// p99 ≤ 100µs at 1k amendments in one agreement and ≤ 2× that at 100k;
// conflicts ≤ 50ms over 100k agreements; ≤ 1 KiB per amendment held.
//
// go test ./projections -run '^$' -bench . -benchtime 2000x

var recordedBase = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// inFoldOrder records amendments in the order of their effective times, so
// that Add extends each view in place and never refolds: the index answers
// about everything recorded exactly as it would had they come in generation
// order (which BenchmarkAdd measures). Recorded times are one second apart.
func inFoldOrder(as []*events.Amendment) []*events.Record {
	sorted := slices.Clone(as)
	slices.SortStableFunc(sorted, func(a, b *events.Amendment) int { return a.Effective.Compare(b.Effective) })
	return inOrder(sorted)
}

// inOrder records amendments in the order given.
func inOrder(as []*events.Amendment) []*events.Record {
	recs := make([]*events.Record, len(as))
	for i, a := range as {
		recs[i] = &events.Record{Amendment: a, Seq: uint64(i + 1), Recorded: recordedBase.Add(time.Duration(i) * time.Second)}
	}
	return recs
}

func build(b testing.TB, recs []*events.Record) *projections.Index {
	b.Helper()
	ix := projections.NewIndex()
	for _, r := range recs {
		if err := ix.Add(r); err != nil {
			b.Fatal(err)
		}
	}
	return ix
}

// fixture is an index built once per process and shared by benchmarks.
type fixture struct {
	once sync.Once
	ix   *projections.Index
	recs []*events.Record
}

var oneAgreement = map[int]*fixture{1_000: {}, 100_000: {}}

func single(b testing.TB, n int) *fixture {
	f := oneAgreement[n]
	f.once.Do(func() {
		f.recs = inFoldOrder(synth.New(1).Agreement("bench", n))
		f.ix = build(b, f.recs)
		if an := f.ix.Anomalies("bench"); len(an) > 0 {
			b.Fatalf("anomalies: %v", an[0])
		}
	})
	return f
}

// span is the range of valid time a history covers.
func span(recs []*events.Record) (time.Time, time.Duration) {
	lo, hi := recs[0].Effective, recs[0].Effective
	for _, r := range recs {
		if r.Effective.Before(lo) {
			lo = r.Effective
		}
		if r.Effective.After(hi) {
			hi = r.Effective
		}
	}
	return lo, hi.Sub(lo)
}

// latencies times each call of query and reports the median and the 99th
// percentile in microseconds.
func latencies(b *testing.B, query func(i int)) {
	b.Helper()
	lat := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		query(i)
		lat[i] = time.Since(start)
	}
	b.StopTimer()
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
}

func BenchmarkStateAt(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("amendments=%d", n), func(b *testing.B) {
			f := single(b, n)
			lo, d := span(f.recs)
			r := rand.New(rand.NewPCG(1, uint64(n)))
			ats := make([]time.Time, 4096)
			for i := range ats {
				ats[i] = lo.Add(time.Duration(r.Int64N(int64(d))))
			}
			clauses := 0
			latencies(b, func(i int) {
				s, err := f.ix.State("bench", ats[i%len(ats)], time.Time{})
				if err != nil {
					b.Fatal(err)
				}
				clauses += len(s.Clauses)
			})
			b.ReportMetric(float64(clauses)/float64(b.N), "clauses/op")
		})
	}
}

// BenchmarkStateJSON is a state query and its JSON document, as the API serves it.
func BenchmarkStateJSON(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("amendments=%d", n), func(b *testing.B) {
			f := single(b, n)
			lo, d := span(f.recs)
			r := rand.New(rand.NewPCG(2, uint64(n)))
			latencies(b, func(int) {
				s, err := f.ix.State("bench", lo.Add(time.Duration(r.Int64N(int64(d)))), time.Time{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.MarshalJSON(); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkStateKnownAt asks for states as known at a random earlier time:
// the index folds the records visible then for each query.
func BenchmarkStateKnownAt(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("amendments=%d", n), func(b *testing.B) {
			f := single(b, n)
			lo, d := span(f.recs)
			r := rand.New(rand.NewPCG(3, uint64(n)))
			latencies(b, func(int) {
				k := recordedBase.Add(time.Duration(r.IntN(n)) * time.Second)
				if _, err := f.ix.State("bench", lo.Add(time.Duration(r.Int64N(int64(d)))), k); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

var manyAgreements fixture

func BenchmarkConflicts(b *testing.B) {
	const agreements, per = 100_000, 5
	manyAgreements.once.Do(func() {
		manyAgreements.recs = inOrder(synth.New(2).Many(agreements, per))
		manyAgreements.ix = build(b, manyAgreements.recs)
	})
	f := &manyAgreements
	lo, d := span(f.recs)
	r := rand.New(rand.NewPCG(4, 0))
	found := 0
	b.ResetTimer()
	for range b.N {
		found += len(f.ix.Conflicts(lo.Add(time.Duration(r.Int64N(int64(d)))), time.Time{}).Conflicts)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/op")
	b.ReportMetric(float64(found)/float64(b.N), "conflicts/op")
}

// BenchmarkCheck is a rights check across the 100k agreements.
func BenchmarkCheck(b *testing.B) {
	if manyAgreements.ix == nil {
		b.Skip("run with BenchmarkConflicts, which builds the 100k agreements")
	}
	f := &manyAgreements
	lo, d := span(f.recs)
	r := rand.New(rand.NewPCG(5, 0))
	latencies(b, func(int) {
		f.ix.Check(projections.RightsQuery{Party: fmt.Sprintf("party-%04d", 1+r.IntN(20000)),
			Scope: &events.Scope{Products: []string{fmt.Sprintf("product-%03d", 1+r.IntN(200))}, Channels: []string{"api"}},
			At:    lo.Add(time.Duration(r.Int64N(int64(d))))})
	})
}

// BenchmarkAdd feeds records to a fresh index and reports records/s:
// interleaved agreements as generated (5% retroactive), one agreement in
// effective order (each record extends the view), and one agreement as
// generated, where each retroactive record changes history behind the
// others. The index may fold a retroactive record when it is next read
// rather than when it is added: each run ends with a read (Anomalies), so
// that the figure includes the folding; "read-each" reads after every
// record, as a ledger answering queries while it appends does.
func BenchmarkAdd(b *testing.B) {
	cases := []struct {
		name     string
		recs     func() []*events.Record
		readEach bool
	}{
		{"stream/agreements=1000/records=50000", func() []*events.Record { return inOrder(synth.New(6).Many(1000, 50)) }, false},
		{"one-agreement/in-effective-order/records=20000", func() []*events.Record {
			return inFoldOrder(synth.New(7).Agreement("a", 20000))
		}, false},
		{"one-agreement/as-generated/records=2000", func() []*events.Record { return inOrder(synth.New(7).Agreement("a", 2000)) }, false},
		{"one-agreement/as-generated/records=8000", func() []*events.Record { return inOrder(synth.New(7).Agreement("a", 8000)) }, false},
		{"one-agreement/as-generated/records=8000/read-each", func() []*events.Record { return inOrder(synth.New(7).Agreement("a", 8000)) }, true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			recs := c.recs()
			b.ResetTimer()
			for range b.N {
				ix := projections.NewIndex()
				for _, r := range recs {
					r := *r
					if err := ix.Add(&r); err != nil {
						b.Fatal(err)
					}
					if c.readEach {
						ix.Anomalies(r.Agreement)
					}
				}
				ix.Anomalies(recs[0].Agreement)
			}
			b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkMemory measures the heap an index holds per amendment,
// amendments included, after a GC. It builds each index once whatever b.N
// is. "agreements=1000/per=1000" folds synth's amendments as made;
// "agreements=100000/per=10/stored" is the shape of ledger bench's p7 (a
// million amendments, ten an agreement, interleaved, each party in about
// ten agreements), its amendments decoded from their stored bytes and
// loaded as the ledger loads them (Defer, Add, Fold).
func BenchmarkMemory(b *testing.B) {
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	report := func(b *testing.B, n int, base, withRecords, withIndex uint64) {
		b.ReportMetric(float64(withRecords-base)/float64(n), "B/amendment-decoded")
		b.ReportMetric(float64(withIndex-base)/float64(n), "B/amendment-indexed")
		b.ReportMetric(float64(withIndex-withRecords)/float64(n), "B/amendment-index-only")
	}
	b.Run("agreements=1000/per=1000", func(b *testing.B) {
		const agreements, per = 1000, 1000
		base := heap()
		as := synth.New(8).Many(agreements, per)
		recs := inFoldOrder(as)
		as = nil
		withRecords := heap()
		b.ResetTimer()
		ix := build(b, recs)
		b.StopTimer()
		recs = nil
		report(b, agreements*per, base, withRecords, heap())
		runtime.KeepAlive(ix)
	})
	for _, agreements := range []int{20_000, 100_000} {
		b.Run(fmt.Sprintf("agreements=%d/per=10/stored", agreements), func(b *testing.B) {
			const per = 10
			base := heap()
			recs := storedMany(b, 9, agreements, per)
			withRecords := heap()
			b.ResetTimer()
			ix := projections.NewIndex()
			ix.Defer()
			for _, r := range recs {
				if err := ix.Add(r); err != nil {
					b.Fatal(err)
				}
			}
			ix.Fold()
			b.StopTimer()
			n := len(recs)
			recs = nil
			report(b, n, base, withRecords, heap())
			runtime.KeepAlive(ix)
		})
	}
}

// storedMany makes agreements × per amendments as ledger bench's big store
// does (agreements interleaved at random, made 10,000 at a time by
// generators drawing from one pool of parties), each encoded as the ledger
// stores it, chained to its agreement's previous one, and decoded back:
// records holding what a ledger's read model holds.
func storedMany(b testing.TB, seed int64, agreements, per int) []*events.Record {
	b.Helper()
	const slice = 10_000
	var recs []*events.Record
	prev := map[string]events.Hash{}
	for made, k := 0, 0; made < agreements; made, k = made+slice, k+1 {
		n := min(slice, agreements-made)
		g := synth.New(seed<<20 + int64(k))
		g.Parties = max(agreements/5, g.Parties)
		rng := rand.New(rand.NewPCG(uint64(seed), uint64(k)))
		names, left, active := make([]string, n), make([]int, n), make([]int, n)
		for i := range n {
			names[i], left[i], active[i] = fmt.Sprintf("agreement-%06d", made+i+1), per, i
		}
		for len(active) > 0 {
			j := rng.IntN(len(active))
			i := active[j]
			a := g.Next(names[i])
			if a != nil {
				data, err := events.Encode(a, prev[a.Agreement])
				if err != nil {
					b.Fatal(err)
				}
				d, _, err := events.DecodeStored(data)
				if err != nil {
					b.Fatal(err)
				}
				h := events.Sum(data)
				prev[a.Agreement] = h
				seq := uint64(len(recs) + 1)
				recs = append(recs, &events.Record{Amendment: d, Seq: seq, Recorded: recordedBase.Add(time.Duration(seq) * time.Millisecond), Hash: h})
				left[i]--
			}
			if a == nil || left[i] == 0 {
				active[j] = active[len(active)-1]
				active = active[:len(active)-1]
			}
		}
	}
	return slices.Clip(recs)
}

// BenchmarkIntroduces checks the next amendment of a long agreement against
// its history, as the ledger does before each append.
func BenchmarkIntroduces(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("history=%d", n), func(b *testing.B) {
			as := synth.New(1).Agreement("p1", n+1)
			ix := build(b, inOrder(as[:n]))
			next := as[n : n+1]
			b.ResetTimer()
			for range b.N {
				if _, err := ix.Introduces(nil, next); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAppendEach checks each amendment of one agreement against its
// history, holding it, and then adds it, as the ledger does for appends one
// at a time (ledger bench p1): one in twenty is retroactive.
func BenchmarkAppendEach(b *testing.B) {
	as := synth.New(1).Agreement("p1", 2000)
	b.ResetTimer()
	for range b.N {
		ix := projections.NewIndex()
		for i, a := range as {
			if _, errs, _ := ix.Hold([][]*events.Amendment{as[i : i+1]}); errs[0] != nil {
				b.Fatal(errs[0])
			}
			r := &events.Record{Amendment: a, Seq: uint64(i + 1), Recorded: recordedBase.Add(time.Duration(i) * time.Second)}
			if err := ix.Add(r); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(as)), "µs/append")
}

// BenchmarkIntroducesBatch checks one amendment for each of many
// agreements at once, as an import does: linear in the batch.
func BenchmarkIntroducesBatch(b *testing.B) {
	for _, n := range []int{1000, 20000} {
		b.Run(fmt.Sprintf("agreements=%d", n), func(b *testing.B) {
			g := synth.New(3)
			ix := build(b, inOrder(g.Many(n, 5)))
			var next []*events.Amendment
			for _, name := range g.Agreements() {
				if a := g.Next(name); a != nil {
					next = append(next, a)
				}
			}
			b.ResetTimer()
			for range b.N {
				if _, err := ix.Introduces(nil, next); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(next)*b.N)/b.Elapsed().Seconds(), "amendments/s")
		})
	}
}

// BenchmarkFold folds every record of one long agreement and of many short
// ones from scratch, as loading a history (Defer, Fold) does.
func BenchmarkFold(b *testing.B) {
	cases := map[string][]*events.Record{
		"one-agreement/records=20000":   inOrder(synth.New(7).Agreement("a", 20000)),
		"agreements=1000/records=50000": inOrder(synth.New(6).Many(1000, 50)),
	}
	for name, recs := range cases {
		b.Run(name, func(b *testing.B) {
			for range b.N {
				ix := projections.NewIndex()
				ix.Defer()
				for _, r := range recs {
					r := *r
					if err := ix.Add(&r); err != nil {
						b.Fatal(err)
					}
				}
				ix.Fold()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
		})
	}
}
