package ledger_test

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
	"github.com/nats-io/nats.go/jetstream"
)

// obligations returns n amendments adding obligations to deal, from lot first.
func obligations(l *ledgertest.Ledger, first, n int) []*events.Amendment {
	var out []*events.Amendment
	for i := first; i < first+n; i++ {
		out = append(out, l.Amendments(obligation(i))...)
	}
	return out
}

// TestOutOfSpace: a store that has no room left refuses an append saying
// so — the store's directory, JetStream's reason, and that nothing of the
// input was recorded — with the kind no_space. It used to say "JetStream
// did not answer: nats: nats: API error: code=503 err_code=10023
// description=insufficient resources". Nothing partial is written,
// queries go on, Health says degraded, and appending resumes when there is
// room.
func TestOutOfSpace(t *testing.T) {
	cfg := ledger.Config{DataDir: t.TempDir(), MaxStore: 256 << 10, SnapshotEvery: -1}
	l := ledgertest.New(t, cfg)
	l.Given(openDeal)
	var err error
	next := 1
	for range 40 {
		if _, err = l.Append(context.Background(), obligations(l, next, 100), ledger.AppendOptions{}); err != nil {
			break
		}
		next += 100
	}
	if err == nil {
		t.Fatal("4000 amendments fit in a store of 256 KiB")
	}
	want := fmt.Sprintf("the store at %s is out of space (JetStream: insufficient resources); nothing of this input was recorded", cfg.DataDir)
	if events.KindOf(err) != events.NoSpace || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "did not answer") || strings.Contains(err.Error(), "nats:") {
		t.Fatalf("append to a full store: %v (kind %s); want %q", err, events.KindOf(err), want)
	}
	// Single amendments until JetStream itself refuses one (a batch is
	// refused by the ledger before JetStream would store it in part).
	for range 200 {
		if _, err = l.When(obligation(next)); err != nil {
			break
		}
		next++
	}
	if events.KindOf(err) != events.NoSpace || !strings.Contains(err.Error(), want) {
		t.Fatalf("a single amendment to a full store: %v", err)
	}
	if err := l.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := l.Status().Applied
	if _, err := l.Append(context.Background(), obligations(l, next, 100), ledger.AppendOptions{}); events.KindOf(err) != events.NoSpace {
		t.Fatalf("a batch to a full store: %v", err)
	}
	if err := l.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if after := l.Status().Applied; after != before {
		t.Errorf("the refused appends wrote: the stream went from %d to %d", before, after)
	}
	h, _ := l.History("deal")
	if len(h.Amendments) != next {
		t.Errorf("%d amendments recorded; want the %d acknowledged", len(h.Amendments), next)
	}
	hl := l.Health(context.Background())
	if hl.Status != "degraded" || len(hl.Problems) != 1 || !strings.Contains(hl.Problems[0], "is out of space") {
		t.Errorf("health: %+v", hl)
	}
	l.InForce("deal", "o-1", "2026-03-01") // queries go on

	// With room again (here a larger limit), the same input is recorded.
	l.Close()
	cfg.MaxStore = 16 << 20
	l = ledgertest.New(t, cfg)
	if _, err := l.Append(context.Background(), obligations(l, next, 100), ledger.AppendOptions{}); err != nil {
		t.Fatalf("append with room again: %v", err)
	}
	if hl := l.Health(context.Background()); hl.Status != "ok" {
		t.Errorf("health with room again: %+v", hl)
	}
}

// TestOutOfSpaceDuringALargeImport: when the room runs out after some of
// an input's batches, the error says how many amendments were recorded
// (whole batches), not that nothing was.
func TestOutOfSpaceDuringALargeImport(t *testing.T) {
	cfg := ledger.Config{DataDir: t.TempDir(), MaxStore: 640 << 10, SnapshotEvery: -1}
	l := ledgertest.New(t, cfg)
	as := append(l.Amendments(openDeal), obligations(l, 1, 2999)...)
	_, err := l.Append(context.Background(), as, ledger.AppendOptions{})
	if events.KindOf(err) != events.NoSpace || !strings.Contains(err.Error(), "out of space (JetStream: insufficient resources)") ||
		!strings.Contains(err.Error(), "1000 of the 3000 amendments of this input were recorded, in whole batches, and no more") || strings.Contains(err.Error(), "nothing of this input") {
		t.Fatalf("import into a full store: %v", err)
	}
	if err := l.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h, _ := l.History("deal"); len(h.Amendments) != 1000 {
		t.Errorf("%d amendments recorded, want 1000", len(h.Amendments))
	}
}

// TestSnapshotBucketHoldsOneSnapshot: replacing the snapshot used to leave
// the old one's chunks in the bucket's block until the file store compacted
// it (2 MB of garbage: 1.98 MB of bucket for 0.75 MB of stream). The bucket
// now holds the latest snapshot and no more.
func TestSnapshotBucketHoldsOneSnapshot(t *testing.T) {
	cfg := ledger.Config{DataDir: t.TempDir(), SnapshotEvery: 1}
	l := ledgertest.New(t, cfg)
	l.Given(openDeal)
	for i := range 10 {
		if _, err := l.Append(context.Background(), obligations(l, 1+300*i, 300), ledger.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
		l.Restart() // each close writes a snapshot
	}
	bucket := dirSize(t, filepath.Join(cfg.DataDir, "jetstream", "$G", "streams", "OBJ_LEDGER_SNAPSHOTS"))
	stream := dirSize(t, filepath.Join(cfg.DataDir, "jetstream", "$G", "streams", "LEDGER"))
	js, _ := jetstream.New(l.Conn())
	store, err := js.ObjectStore(context.Background(), "LEDGER_SNAPSHOTS")
	if err != nil {
		t.Fatal(err)
	}
	info, err := store.GetInfo(context.Background(), "read-model")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stream %d bytes, snapshot %d bytes, bucket %d bytes on disk", stream, info.Size, bucket)
	if bucket > int64(info.Size)+int64(info.Size)/4+16<<10 {
		t.Errorf("the bucket takes %d bytes on disk for a snapshot of %d (stream: %d)", bucket, info.Size, stream)
	}
}

func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if fi, err := d.Info(); err == nil && !d.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
