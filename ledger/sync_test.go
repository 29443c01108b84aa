package ledger_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
)

// TestSyncAgreementSeesOtherProcessesWrites: right after one process
// appends, another that syncs the agreement answers with the append, every
// time; so does one that syncs everything, for the list of agreements.
func TestSyncAgreementSeesOtherProcessesWrites(t *testing.T) {
	a := ledgertest.New(t, ledger.Config{Listen: "127.0.0.1:-1"})
	b := ledgertest.New(t, ledger.Config{URL: a.ClientURL(), SnapshotEvery: -1})
	if err := b.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 40 {
		name := fmt.Sprintf("deal-%d", i%4)
		src := obligationFor(name, i)
		if i < 4 {
			src = fmt.Sprintf(`{"agreement":%q,"effective":"2026-01-01","changes":[{"op":"open","title":"Deal","parties":["openai","amazon"]}]}`, name)
		}
		res := a.Given(src)
		if err := b.SyncAgreement(ctx, name); err != nil {
			t.Fatal(err)
		}
		h, err := b.History(name)
		if err != nil {
			t.Fatalf("%s right after it was appended to elsewhere: %v", name, err)
		}
		if got, want := h.Amendments[len(h.Amendments)-1].ID.String(), res.Appended[0].ID; got != want {
			t.Fatalf("%s: the last amendment another process sees is %s, not %s, the one just appended", name, got, want)
		}
	}
	a.Given(`{"agreement":"late","effective":"2026-01-01","changes":[{"op":"open","title":"Late","parties":["openai","amazon"]}]}`)
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	list, err := b.Agreements(time.Now())
	if err != nil || len(list) != 5 {
		t.Fatalf("agreements after Sync: %v %v", list, err)
	}
	// A name that is not an agreement's is left to the query to refuse.
	if err := b.SyncAgreement(ctx, "no such/agreement"); err != nil {
		t.Fatal(err)
	}
}
