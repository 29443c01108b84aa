package bench

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"

	"github.com/agreement-ledger/ledger/events/synth"
	"github.com/agreement-ledger/ledger/ledger"
)

func TestTmpHeap(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := ledger.Config{DataDir: dir, SnapshotEvery: -1}
	l, err := ledger.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	g := synth.New(1)
	g.Parties = 200
	n := 0
	for i := 0; i < 2; i++ {
		as := g.Many(500, 100)
		n += len(as)
		if _, err := l.Append(ctx, as, ledger.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	g = nil
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	l, err = ledger.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	t.Logf("heap per amendment %d", (m1.HeapAlloc-m0.HeapAlloc)/uint64(n))
	f, _ := os.Create("/tmp/heap2.prof")
	pprof.WriteHeapProfile(f)
	f.Close()
	l.Close()
}
