package ledgertest

import (
	"os"
	"path/filepath"
	"testing"
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
