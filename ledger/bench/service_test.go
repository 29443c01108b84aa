package bench_test

import (
	"context"
	"testing"

	"github.com/agreement-ledger/ledger/ledger/bench"
)

// BenchmarkServiceQueries is p12 at the quick sizes: state queries through
// the NATS service with 1 and 3 instances, through HTTP and in-process.
func BenchmarkServiceQueries(b *testing.B) {
	for i := 0; i < b.N; i++ {
		r, err := bench.ServiceQueries(context.Background(), bench.Quick())
		if err != nil {
			b.Fatal(err)
		}
		report(b, r)
		for _, k := range []string{"service_1", "http", "in_process"} {
			b.ReportMetric(r.Figures[k], k+"-queries/s")
		}
		b.ReportMetric(r.Figures["overhead_us"], "overhead-µs")
	}
}
