package ledger_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/seed"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
)

// TestBackupAndRestore: a backup restored into a fresh store holds the
// same history — every amendment at its sequence, with its recorded time —
// verifies, keeps the heads exported before the backup, and takes appends.
// A restore into a store that has the stream, or a backup into a directory
// in use, is refused.
func TestBackupAndRestore(t *testing.T) {
	l := ledgertest.New(t, ledger.Config{SnapshotEvery: 1})
	l.Given(seed.Amendments())
	l.Given(openDeal)
	for i := 1; i <= 30; i++ {
		l.Given(obligation(i))
	}
	rep, err := l.Verify(context.Background(), nil)
	if err != nil || !rep.OK {
		t.Fatalf("verify: %v %+v", err, rep)
	}
	exported := rep.Heads
	before := answers(t, l)
	dealBefore, _ := l.History("deal")

	dir := filepath.Join(t.TempDir(), "backup")
	info, err := l.Backup(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Messages != uint64(len(seed.Amendments())+31) || info.Bytes == 0 || len(info.Heads) != 3 {
		t.Errorf("backup: %+v", info)
	}
	if _, err := l.Backup(context.Background(), dir); events.KindOf(err) != events.Invalid || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a backup into a used directory: %v", err)
	}
	l.Given(obligation(31)) // after the backup: not in it

	fresh := ledger.Config{DataDir: t.TempDir()}
	rrep, err := ledger.Restore(context.Background(), fresh, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !rrep.OK || rrep.Checked != 3 || rrep.Amendments != int(info.Messages) {
		t.Fatalf("restored store: %s", ledgertest.JSON(t, rrep))
	}
	if _, err := ledger.Restore(context.Background(), fresh, dir); events.KindOf(err) != events.Invalid || !strings.Contains(err.Error(), "already holds stream LEDGER") {
		t.Errorf("a restore into a store that has the stream: %v", err)
	}

	r := ledgertest.New(t, fresh)
	after := answers(t, r)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s differs after the restore:\nbefore %s\n after %s", k, v, after[k])
		}
	}
	dealAfter, _ := r.History("deal")
	if ledgertest.JSON(t, dealAfter) != ledgertest.JSON(t, dealBefore) {
		t.Errorf("deal's history (sequences, recorded times, hashes) differs after the restore")
	}
	if rep, err := r.Verify(context.Background(), exported); err != nil || !rep.OK {
		t.Errorf("verify --since the heads exported before the backup: %v %+v", err, rep)
	}
	r.Given(obligation(31))
	if h, _ := r.History("deal"); len(h.Amendments) != 32 {
		t.Errorf("appending to the restored store: %d amendments", len(h.Amendments))
	}
	for _, name := range []string{"stream.snapshot", "stream.json", "heads.json"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("the backup has no %s", name)
		}
	}
}

// TestDamagedStoreIsNotBackedUp: a backup of a damaged store would keep
// the damage as if it were whole.
func TestDamagedStoreIsNotBackedUp(t *testing.T) {
	l, _ := damagedStore(t, ledger.Config{SnapshotEvery: -1})
	_, err := l.Backup(context.Background(), filepath.Join(t.TempDir(), "b"))
	if events.KindOf(err) != events.Damaged {
		t.Errorf("backup of a damaged store: %v", err)
	}
}
