package ledgertest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
)

// BlockFile is the first message block of stream in the embedded store at
// dataDir: where nats-server 2.15 keeps the stream's first messages.
func BlockFile(dataDir, stream string) string {
	return filepath.Join(dataDir, "jetstream", "$G", "streams", stream, "msgs", "1.blk")
}

// FlipBlock inverts n bytes in the middle of the stream's first message
// block, as a failing disk would: the record there no longer matches its
// checksum. The store must be closed.
func FlipBlock(t testing.TB, dataDir, stream string, n int) {
	t.Helper()
	name := BlockFile(dataDir, stream)
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("ledgertest: %v", err)
	}
	for i := len(b) / 2; i < len(b)/2+n && i < len(b); i++ {
		b[i] ^= 0xff
	}
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatalf("ledgertest: %v", err)
	}
}

// Damaged opens a ledger whose store can no longer read agreement "deal"
// whole: "other" is opened (stream sequence 1), "deal" opened and given 49
// obligations (2-51), then the store is closed and bytes flipped in the
// middle of its message block, as a failing disk would. Questions about
// "deal" fail with a damaged error unless damage is allowed; "other" is
// whole.
func Damaged(t testing.TB, cfg ledger.Config) *Ledger {
	t.Helper()
	l := New(t, cfg)
	l.Given(`{"agreement":"other","effective":"2026-01-01","changes":[{"op":"open","title":"Other","parties":["acme","globex"]}]}`)
	l.Given(`{"agreement":"deal","effective":"2026-01-01","changes":[{"op":"open","title":"Deal","parties":["acme","globex"]}]}`)
	for i := 1; i < 50; i++ {
		l.Given(fmt.Sprintf(`{"agreement":"deal","effective":"2026-02-01","changes":[{"op":"add","clause":{"id":"o-%d","kind":"obligation","obligor":"acme","beneficiary":"globex","what":"deliver lot %d"}}]}`, i, i))
	}
	l.Close()
	FlipBlock(t, l.Dir(), "LEDGER", 16)
	Reopen(t, l)
	if _, err := l.History("deal"); events.KindOf(err) != events.Damaged {
		t.Fatalf("ledgertest: the flipped bytes did not damage deal: %v", err)
	}
	return l
}
