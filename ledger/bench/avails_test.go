package bench_test

import (
	"context"
	"os"
	"testing"

	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/bench"
)

// BenchmarkAvailsAndCalendar measures p10 and p11 on a store of the quick
// sizes' agreements (go test ./ledger/bench -run '^$' -bench Avails
// -benchtime 1x); the 100k-agreement figures are projections'
// BenchmarkAvails and BenchmarkCalendar, and ledger bench's full run.
func BenchmarkAvailsAndCalendar(b *testing.B) {
	ctx := context.Background()
	sz := bench.Quick()
	l, done, err := bench.AvailsStore(ctx, sz, os.Stderr)
	if err != nil {
		b.Fatal(err)
	}
	defer done()
	b.ResetTimer()
	for range b.N {
		for _, m := range []func(context.Context, bench.Sizes, *ledger.Ledger) (*bench.Result, error){bench.Avails, bench.Calendar} {
			r, err := m(ctx, sz, l)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%s %s: %.1f %s (%s) %s", r.ID, r.Name, r.Ledger, r.Unit, r.Target, r.Note)
			b.ReportMetric(r.Ledger, r.ID+"-"+r.Unit)
		}
	}
}
