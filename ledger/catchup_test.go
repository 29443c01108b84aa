package ledger_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
)

// TestAppendChecksAgainstOtherProcessesWrites: a ledger checks an append
// against its read model, which may not have yet what another process
// has just written. It must catch up before it refuses: an amendment to an
// agreement another process has just opened is accepted, and so is an
// expected version another process has just reached.
func TestAppendChecksAgainstOtherProcessesWrites(t *testing.T) {
	a := ledgertest.New(t, ledger.Config{Listen: "127.0.0.1:-1"})
	b := ledgertest.New(t, ledger.Config{URL: a.ClientURL(), SnapshotEvery: -1})
	for i := range 40 {
		name := fmt.Sprintf("deal-%d", i)
		a.Given(fmt.Sprintf(`{"agreement":%q,"effective":"2026-01-01","changes":[{"op":"open","title":"Deal","parties":["openai","amazon"]}]}`, name))
		one := uint64(1)
		if _, err := b.Append(context.Background(), b.Amendments(obligationFor(name, 1)), ledger.AppendOptions{ExpectVersion: &one}); err != nil {
			t.Fatalf("%s: an append right after another process opened the agreement: %v", name, err)
		}
	}
}
