package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/agreement-ledger/ledger/events/seed"
)

// TestHistoryFullExportsAndReimports: ledger history --full prints the
// amendments as stored; appended to a fresh store with ledger append they
// are stored byte for byte as they were — the same canonical bodies, ids and
// hashes (verify's heads are equal) — and the state is the same.
func TestHistoryFullExportsAndReimports(t *testing.T) {
	t.Parallel()
	src := newStore(t)
	src.run(0, "append", src.file("seed.json", seed.JSON))
	// A retraction and an amend, so the export has more than adds.
	src.runIn(0, `{"agreement":"openai-amazon","effective":"2026-06-01","summary":"recorded in error","changes":[{"op":"declare","condition":"audit"}]}`, "append", "-")
	var h2 historyDoc
	src.json(&h2, 0, "history", "openai-amazon")
	src.runIn(0, `{"agreement":"openai-amazon","effective":"2026-07-01","changes":[{"op":"retract","amendment":"`+h2.Amendments[len(h2.Amendments)-1].ID+`"}]}`, "append", "-")

	dst := newStore(t)
	for _, name := range []string{"microsoft-openai", "openai-amazon"} {
		lines := src.run(0, "history", name, "--full").stdout
		array := src.run(0, "history", name, "--full", "-o", "json").stdout
		var parsed []json.RawMessage
		if err := json.Unmarshal([]byte(array), &parsed); err != nil || len(parsed) != strings.Count(lines, "\n") {
			t.Fatalf("%s: -o json is not an array of the lines: %v\n%s", name, err, array)
		}
		for i, l := range strings.Split(strings.TrimSuffix(lines, "\n"), "\n") {
			if !bytes.Equal(parsed[i], []byte(l)) {
				t.Errorf("%s: element %d of the array is not line %d:\n%s\n%s", name, i, i, parsed[i], l)
			}
		}
		// An append refuses a retraction of an amendment in the same
		// input: a history with one is appended in parts, a new input
		// from each retraction on.
		var part []string
		for i, l := range strings.SplitAfter(strings.TrimSuffix(lines, "\n"), "\n") {
			if strings.Contains(l, `"op":"retract"`) && len(part) > 0 {
				dst.run(0, "append", dst.file(fmt.Sprintf("%s-%d.jsonl", name, i), []byte(strings.Join(part, ""))))
				part = nil
			}
			part = append(part, l)
		}
		dst.run(0, "append", dst.file(name+".jsonl", []byte(strings.Join(part, ""))))
		if again := dst.run(0, "history", name, "--full").stdout; again != lines {
			t.Errorf("%s: re-imported amendments differ:\n%s\nwant\n%s", name, again, lines)
		}
		for _, at := range []string{"2026-03-15", "2026-06-15", "2027-01-01", "2031-06-01"} {
			want := src.run(0, "state", name, "--at", at, "-o", "json").stdout
			if got := dst.run(0, "state", name, "--at", at, "-o", "json").stdout; got != want {
				t.Errorf("%s at %s: state\n%s\nwant\n%s", name, at, got, want)
			}
		}
	}
	// Equal heads: every stored body and its chain are identical.
	type heads struct {
		Heads []struct {
			Agreement, Hash string
			Version         uint64
		} `json:"heads"`
	}
	var hs, hd heads
	if err := json.Unmarshal([]byte(src.run(0, "verify", "--heads").stdout), &hs); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(dst.run(0, "verify", "--heads").stdout), &hd); err != nil {
		t.Fatal(err)
	}
	if len(hs.Heads) != 2 || len(hd.Heads) != 2 || hs.Heads[0] != hd.Heads[0] || hs.Heads[1] != hd.Heads[1] || hs.Heads[1].Version != 3 {
		t.Errorf("heads %+v, re-imported %+v", hs, hd)
	}
	// Refused through the service, which does not export yet.
	r := src.run(2, "history", "openai-amazon", "--full", "--service", "--nats", "nats://127.0.0.1:1")
	if !strings.Contains(r.stderr, "--full is not asked through --service") {
		t.Errorf("--full --service: %s", r)
	}
}
