package ledger

import (
	"context"
	"testing"
	"time"
)

// TestSpaceSeenAsksNearTheLimit: the store's usage is asked once, then
// counted on while a batch is far from the limit, and asked again near it,
// after a second, and after a snapshot (forget).
func TestSpaceSeenAsksNearTheLimit(t *testing.T) {
	ctx := context.Background()
	l, err := Open(ctx, Config{DataDir: t.TempDir(), MaxStore: 8 << 20, SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s := &l.space
	used, limit, err := s.usage(ctx, l, 100)
	if err != nil {
		t.Fatal(err)
	}
	asked := s.at
	if asked.IsZero() || limit != 8<<20 || used != s.used+100 {
		t.Fatalf("first batch: used %d limit %d, seen %+v", used, limit, s)
	}
	if used, _, _ = s.usage(ctx, l, 50); s.at != asked || used != s.used+150 {
		t.Fatalf("a batch far from the limit asked again, or did not count the one before: used %d, seen %+v", used, s)
	}
	// Near the limit: asked again, and the count starts over from what the
	// store says.
	s.used = limit - limit/spaceMargin
	if used, _, _ = s.usage(ctx, l, 10); s.at == asked || s.used == limit-limit/spaceMargin || used != s.used+10 {
		t.Fatalf("a batch near the limit was let through on what was seen: used %d, seen %+v", used, s)
	}
	for name, stale := range map[string]func(){
		"after a second":   func() { s.at = time.Now().Add(-spaceFresh) },
		"after a snapshot": s.forget,
	} {
		stale()
		before := s.at
		s.usage(ctx, l, 10)
		if !s.at.After(before) || s.since != 10 {
			t.Errorf("%s: not asked again: seen %+v", name, s)
		}
	}
}
