package bench_test

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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

// BenchmarkHugeStore runs p9's path at 100k amendments over 10k
// agreements (--size 100k): the 10m measurements, smaller.
func BenchmarkHugeStore(b *testing.B) {
	sz, err := bench.ForSize("100k")
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		out := map[string]*bench.Result{}
		if err := bench.HugeStore(context.Background(), sz, out, os.Stderr); err != nil {
			b.Fatal(err)
		}
		for _, id := range []string{"p9_p4", "p9_p5", "p9_p6", "p9_p7", "p9_p8", "p9_p8l"} {
			b.Run(id, func(b *testing.B) { report(b, out[id]) })
		}
	}
}

// tiny are sizes small enough for a test of every measurement's path.
func tiny() bench.Sizes {
	return bench.Sizes{Name: "tiny", Quick: true, Appends: 20, Import: 500, Writers: 4, PerWriter: 5, ClusterAppends: 20, ClusterPerWriter: 5,
		Store: 3000, Agreements: 200, Small: 50, Large: 500, Queries: 100, Huge: 4000, HugeAgreements: 300,
		OneOff: 300, OneOffRuns: 1, OneOffLimit: time.Minute, Seed: 1}
}

// TestEveryMeasurement runs every measurement at tiny sizes, p9 and p13
// among them, and checks the report has each row, in order, in text and
// in JSON.
func TestEveryMeasurement(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster and builds the ledger binary")
	}
	sz := tiny()
	sz.Binary = binary(t)
	rep, err := bench.Run(context.Background(), sz, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", text.String())
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	at := -1
	for _, id := range bench.Order {
		r := rep.Results[id]
		if r == nil {
			t.Errorf("no %s", id)
			continue
		}
		// Heap growth at tiny sizes can be lost in what was freed.
		if r.Skipped != "" || r.Ledger < 0 || r.Ledger == 0 && !strings.HasSuffix(id, "p7") || math.IsNaN(r.Ledger) || math.IsInf(r.Ledger, 0) {
			t.Errorf("%s: %+v", id, r)
		}
		if _, ok := doc[id]; !ok {
			t.Errorf("the JSON report has no %q", id)
		}
		i := strings.Index(text.String(), "\n"+id+" ")
		if i <= at {
			t.Errorf("%s is not in the text after the row before it", id)
		}
		at = i
	}
	for _, k := range []string{"state_s", "state_rss_mb", "history_s", "history_rss_mb", "timeline_s", "timeline_rss_mb"} {
		if v := rep.Results["p13"].Figures[k]; v <= 0 {
			t.Errorf("p13's %s is %v", k, v)
		}
	}
	if r := rep.Results["p8l"]; r.Raw == nil || *r.Raw <= 0 {
		t.Errorf("p8l has no raw figure: %+v", r)
	}
	if r := rep.Results["p13"]; r.Raw == nil || *r.Raw <= 0 || !strings.Contains(r.Note, "raw JetStream in a process") {
		t.Errorf("p13 has no raw figure: %+v", r)
	}
	if r := rep.Results["p2"]; r.Figures["as_ledger_writes"] <= 0 || r.Figures["of_as_ledger_writes"] <= 0 || !strings.Contains(r.Note, "the ledger's messages") {
		t.Errorf("p2 has no raw figure of the ledger's own messages: %+v", r)
	}
	if rep.Results["p3"].Figures["ceiling"] != *rep.Results["p3"].Raw {
		t.Errorf("p3 is not compared with the ceiling: %+v", rep.Results["p3"])
	}
}

// TestOnly runs what Sizes.Only names, and only that.
func TestOnly(t *testing.T) {
	sz := tiny()
	sz.Only = []string{"p1", "p13"} // p13 without a binary: skipped
	rep, err := bench.Run(context.Background(), sz, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for id := range rep.Results {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"p1", "p13"}) || rep.Results["p13"].Skipped == "" {
		t.Errorf("ran %v, p13 %+v", ids, rep.Results["p13"])
	}
	sz.Only = []string{"p99"}
	if _, err := bench.Run(context.Background(), sz, io.Discard); err == nil {
		t.Error("an unknown id was run")
	}
}

func TestForSize(t *testing.T) {
	for _, name := range bench.SizeNames {
		sz, err := bench.ForSize(name)
		if err != nil || sz.Name != name {
			t.Errorf("%s: %+v, %v", name, sz, err)
		}
	}
	if sz, _ := bench.ForSize("10m"); sz.Huge != 10_000_000 || sz.HugeAgreements != 1_000_000 || sz.Store != bench.Full().Store {
		t.Errorf("10m: %+v", sz)
	}
	if sz, _ := bench.ForSize("quick"); sz.Huge != 0 || !sz.Quick {
		t.Errorf("quick: %+v", sz)
	}
	if _, err := bench.ForSize("2m"); err == nil {
		t.Error("ForSize(2m) did not fail")
	}
}

// TestQuickRun runs the whole quick benchmark when LEDGER_BENCH=1.
func TestQuickRun(t *testing.T) {
	if os.Getenv("LEDGER_BENCH") == "" {
		t.Skip("set LEDGER_BENCH=1 to run the quick benchmark")
	}
	sz := bench.Quick()
	sz.Binary = binary(t)
	rep, err := bench.Run(context.Background(), sz, os.Stderr)
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
