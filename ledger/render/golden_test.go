package render_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/seed"
	"github.com/agreement-ledger/ledger/ledger/render"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/oklog/ulid/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// golden compares got with the file testdata/golden/name byte for byte; with
// -update it rewrites the file.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./ledger/render -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (rerun with -update if the change is intended); got:\n%s", file, got)
	}
}

// indexOf records amendments in the order given, one second apart from a
// fixed time (and given ids where they have none), so that what is drawn does not depend on the clock.
func indexOf(t *testing.T, as []*events.Amendment) *projections.Index {
	t.Helper()
	ix := projections.NewIndex()
	base := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for i, a := range as {
		if a.ID == (ulid.ULID{}) {
			a.ID = ulid.MustNew(ulid.Timestamp(base)+uint64(i), bytes.NewReader(make([]byte, 16)))
		}
		if err := ix.Add(&events.Record{Amendment: a, Seq: uint64(i + 1), Recorded: base.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	return ix
}

// TestTimelineGolden: the demo's agreements and the made-up one of these
// tests, drawn as text and as SVG, are what they were.
func TestTimelineGolden(t *testing.T) {
	made, err := events.Decode([]byte(history))
	if err != nil {
		t.Fatal(err)
	}
	ix := indexOf(t, append(seed.Amendments(), made...))
	for _, name := range []string{"microsoft-openai", "openai-amazon", "acme-globex"} {
		tl, err := ix.Timeline(name, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		var text, svg bytes.Buffer
		if err := render.Timeline(&text, tl, render.TimelineOptions{}); err != nil {
			t.Fatal(err)
		}
		golden(t, "timeline-"+name+".txt", text.Bytes())
		if err := render.TimelineSVG(tl, &svg, render.SVGOptions{Now: time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
		golden(t, "timeline-"+name+".svg", svg.Bytes())
	}
}
