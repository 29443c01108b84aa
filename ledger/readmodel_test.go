package ledger

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/synth"
)

// TestReadModelsAgree: after a generated history written through the
// ledger — one append at a time, so every amendment is checked and kept
// applied by its writer (projections.Kept), and concurrently, so some are
// committed together — the writer's read model, a read model rebuilt from
// the stream, and one loaded from a snapshot answer alike: state, timeline
// and conflicts at random valid and known-at times.
func TestReadModelsAgree(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			writer, err := Open(ctx, Config{DataDir: dir, SnapshotEvery: -1})
			if err != nil {
				t.Fatal(err)
			}
			g := synth.New(seed)
			g.Retroactive, g.Retract, g.Declare, g.Close = 150, 40, 40, 10
			g.Parties = 4 // grants of one grantor meet: conflicts
			as := g.Many(6, 25)
			// Recorded at distinct moments, so that known-at times fall
			// between amendments.
			var recorded []time.Time
			for i := 0; i < len(as); i++ {
				// Now and then two amendments of two agreements at once, as
				// concurrent writers' are: they are committed together.
				batch := as[i : i+1]
				if i%5 == 4 && i+1 < len(as) && as[i+1].Agreement != as[i].Agreement {
					batch = as[i : i+2]
					i++
				}
				done := make(chan error, len(batch))
				for _, a := range batch {
					go func() {
						_, err := writer.Append(ctx, []*events.Amendment{a}, AppendOptions{})
						done <- err
					}()
				}
				for range batch {
					if err := <-done; err != nil {
						t.Fatal(err)
					}
				}
				recorded = append(recorded, time.Now())
				time.Sleep(time.Millisecond)
			}
			rng := rand.New(rand.NewPCG(uint64(seed), 9))
			type question struct{ at, known time.Time }
			var qs []question
			for range 40 {
				a := as[rng.IntN(len(as))]
				q := question{at: a.Effective.Add(time.Duration(rng.IntN(3)-1) * time.Minute)}
				if rng.IntN(3) > 0 {
					q.known = recorded[rng.IntN(len(recorded))]
				}
				qs = append(qs, q)
			}
			answers := func(l *Ledger) []string {
				var out []string
				for _, q := range qs {
					for _, name := range g.Agreements() {
						s, err := l.State(name, q.at, q.known)
						out = append(out, jsonOf(t, s)+fmt.Sprint(events.KindOf(err)))
						tl, err := l.Timeline(name, q.known)
						out = append(out, jsonOf(t, tl)+fmt.Sprint(events.KindOf(err)))
					}
					c, err := l.Conflicts(q.at, q.known)
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, jsonOf(t, c))
				}
				return out
			}
			want := answers(writer)
			writer.Close()
			for _, c := range []struct {
				name     string
				cfg      Config
				snapshot bool // loads one
			}{
				{"rebuilt from the stream", Config{DataDir: dir, SnapshotEvery: -1}, false},
				{"rebuilt, writing a snapshot", Config{DataDir: dir}, false},
				{"loaded from the snapshot", Config{DataDir: dir}, true},
			} {
				var logs bytes.Buffer
				c.cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
				l, err := Open(ctx, c.cfg)
				if err != nil {
					t.Fatal(err)
				}
				if err := l.Ready(ctx); err != nil {
					t.Fatal(err)
				}
				got := answers(l)
				l.Close()
				if loaded := strings.Contains(logs.String(), "loaded the read-model snapshot"); loaded != c.snapshot {
					t.Fatalf("%s: loaded a snapshot: %v; log:\n%s", c.name, loaded, logs.String())
				}
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("%s: answer %d differs from the writer's:\n%s\nwant\n%s", c.name, i, got[i], want[i])
					}
				}
			}
		})
	}
}
