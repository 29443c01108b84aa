package bench_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/agreement-ledger/ledger/ledger/bench"
)

// The benchmarks run the quick sizes once each and report the ledger's rate,
// the raw JetStream rate measured beside it, and their ratio:
//
//	go test ./ledger/bench -run '^$' -bench . -benchtime 1x

func report(b *testing.B, r *bench.Result) {
	b.ReportMetric(r.Ledger, "ledger-"+r.Unit)
	if r.Raw != nil {
		b.ReportMetric(*r.Raw, "raw-"+r.Unit)
		b.ReportMetric(*r.Ratio, "ratio")
	}
	if r.P99us != nil {
		b.ReportMetric(*r.P50us, "p50-µs")
		b.ReportMetric(*r.P99us100x, "p99-100x-µs")
	}
}

func BenchmarkAppendOneAtATime(b *testing.B) {
	for i := 0; i < b.N; i++ {
		r, _, err := bench.Appends(context.Background(), bench.Quick())
		if err != nil {
			b.Fatal(err)
		}
		report(b, r)
	}
}

func BenchmarkImport(b *testing.B) {
	for i := 0; i < b.N; i++ {
		r, err := bench.Import(context.Background(), bench.Quick())
		if err != nil {
			b.Fatal(err)
		}
		report(b, r)
	}
}

func BenchmarkConcurrentWriters(b *testing.B) {
	for i := 0; i < b.N; i++ {
		_, raw, err := bench.Appends(context.Background(), bench.Quick())
		if err != nil {
			b.Fatal(err)
		}
		r, err := bench.Writers(context.Background(), bench.Quick(), raw)
		if err != nil {
			b.Fatal(err)
		}
		report(b, r)
	}
}

func BenchmarkBigStore(b *testing.B) {
	for i := 0; i < b.N; i++ {
		out := map[string]*bench.Result{}
		if err := bench.BigStore(context.Background(), bench.Quick(), out, os.Stderr); err != nil {
			b.Fatal(err)
		}
		for _, id := range []string{"p4", "p5", "p6", "p7", "p8", "p8l"} {
			b.Run(id, func(b *testing.B) { report(b, out[id]) })
		}
	}
}

// TestQuickRun runs the whole quick benchmark when LEDGER_BENCH=1.
func TestQuickRun(t *testing.T) {
	if os.Getenv("LEDGER_BENCH") == "" {
		t.Skip("set LEDGER_BENCH=1 to run the quick benchmark")
	}
	rep, err := bench.Run(context.Background(), bench.Quick(), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.MarshalIndent(rep, "", "  ")
	t.Logf("%s", out)
}

func BenchmarkClusterAppends(b *testing.B) {
	for i := 0; i < b.N; i++ {
		c, err := bench.StartCluster("")
		if err != nil {
			b.Fatal(err)
		}
		r, _, err := bench.ClusterAppends(context.Background(), bench.Quick(), c)
		c.Close()
		if err != nil {
			b.Fatal(err)
		}
		report(b, r)
	}
}

func BenchmarkClusterWriters(b *testing.B) {
	for i := 0; i < b.N; i++ {
		c, err := bench.StartCluster("")
		if err != nil {
			b.Fatal(err)
		}
		r, err := bench.ClusterWriters(context.Background(), bench.Quick(), c, 0)
		c.Close()
		if err != nil {
			b.Fatal(err)
		}
		report(b, r)
	}
}

// binary builds the ledger command into a temporary directory once per
// test process, for p13, which runs it as a child process. It skips tb
// when the go command is not there to build it.
func binary(tb testing.TB) string {
	tb.Helper()
	built.Do(func() {
		goCmd, err := exec.LookPath("go")
		if err != nil {
			built.err = "p13 runs the ledger binary, and go is not on PATH to build it: " + err.Error()
			return
		}
		dir, err := os.MkdirTemp("", "ledger-bench-bin-")
		if err != nil {
			built.err = err.Error()
			return
		}
		bin := filepath.Join(dir, "ledger")
		out, err := exec.Command(goCmd, "build", "-o", bin, "github.com/agreement-ledger/ledger/cmd/ledger").CombinedOutput()
		if err != nil {
			built.err = "building the ledger binary for p13: " + err.Error() + ": " + string(out)
			return
		}
		built.bin = bin
	})
	if built.bin == "" {
		tb.Skip(built.err)
	}
	return built.bin
}

var built struct {
	sync.Once
	bin, err string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.bin != "" {
		os.RemoveAll(filepath.Dir(built.bin))
	}
	os.Exit(code)
}

func BenchmarkOneOff(b *testing.B) {
	sz := bench.Quick()
	sz.Binary = binary(b)
	for i := 0; i < b.N; i++ {
		r, err := bench.OneOff(context.Background(), sz)
		if err != nil {
			b.Fatal(err)
		}
		report(b, r)
		for k, v := range r.Figures {
			b.ReportMetric(v, k)
		}
	}
}
