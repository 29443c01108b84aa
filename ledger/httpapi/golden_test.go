package httpapi_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// TestTimelineSVGGolden: the drawings of the demo's agreements, at dates
// before and after the renegotiation and on a narrowed axis, are what they
// were.
func TestTimelineSVGGolden(t *testing.T) {
	s := newServer(t, true)
	for _, c := range []struct{ name, query string }{
		{"microsoft-openai-2026-03-15", "microsoft-openai.svg?at=2026-03-15&width=900"},
		{"microsoft-openai-2027-01-01", "microsoft-openai.svg?at=2027-01-01&width=1200"},
		{"microsoft-openai-narrow", "microsoft-openai.svg?at=2026-03-15&from=2025-09-01&to=2026-09-01"},
		{"openai-amazon-2026-03-15", "openai-amazon.svg?at=2026-03-15"},
	} {
		res := s.do(req{path: "/ui/timeline/" + c.query})
		if res.Status != 200 {
			t.Fatalf("%s: %d %s", c.query, res.Status, res.Body)
		}
		file := filepath.Join("testdata", "golden", "timeline-"+c.name+".svg")
		if *update {
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, res.Body, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (run go test ./ledger/httpapi -run %s -update to create it)", err, t.Name())
		}
		if !bytes.Equal(res.Body, want) {
			t.Errorf("%s differs from %s (rerun with -update if the change is intended); got:\n%s", c.query, file, res.Body)
		}
	}
}
