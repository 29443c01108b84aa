package projections_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/seed"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/oklog/ulid/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// day parses a date or an RFC 3339 time, failing the test when it is neither.
func day(t testing.TB, s string) time.Time {
	t.Helper()
	if s == "" {
		return time.Time{}
	}
	at, err := events.ParseTime(s)
	if err != nil {
		t.Fatalf("bad time in test: %v", err)
	}
	return at
}

// testID is the deterministic id of the nth amendment of a test history.
func testID(n int) ulid.ULID {
	var id ulid.ULID
	_ = id.SetTime(uint64(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()) + uint64(n))
	var e [10]byte
	binary.BigEndian.PutUint64(e[2:], uint64(n))
	_ = id.SetEntropy(e[:])
	return id
}

// decode reads amendments written as JSON, failing the test if they are not
// valid input. Amendments without an id get testID of their position
// plus base.
func decode(t testing.TB, base int, js string) []*events.Amendment {
	t.Helper()
	as, err := events.Decode([]byte(js))
	if err != nil {
		t.Fatalf("test input does not decode: %v\n%s", err, js)
	}
	for i, a := range as {
		if a.ID == (ulid.ULID{}) {
			a.ID = testID(base + i)
		}
	}
	return as
}

// Recording says when each amendment is recorded.
type recording func(i int, a *events.Amendment) time.Time

// lag records each amendment a fixed time after it takes effect; the
// recorded times are made to increase with the sequence.
func lag(d time.Duration) recording {
	return func(_ int, a *events.Amendment) time.Time { return a.Effective.Add(d) }
}

// at records amendment i at times[i].
func at(t testing.TB, times ...string) recording {
	return func(i int, _ *events.Amendment) time.Time {
		if i >= len(times) {
			t.Fatalf("no recorded time for amendment %d", i)
		}
		return day(t, times[i])
	}
}

// records turns amendments into records with sequences 1, 2, … and the
// recorded times rec gives them, forced to be non-decreasing.
func records(as []*events.Amendment, rec recording) []*events.Record {
	out := make([]*events.Record, len(as))
	var last time.Time
	for i, a := range as {
		r := rec(i, a)
		if r.Before(last) {
			r = last
		}
		last = r
		out[i] = &events.Record{Amendment: a, Seq: uint64(i + 1), Recorded: r}
	}
	return out
}

// index adds records to a new index, failing the test on an error or an
// anomaly (a record the fold skipped).
func index(t testing.TB, recs []*events.Record) *projections.Index {
	t.Helper()
	ix := projections.NewIndex()
	for _, r := range recs {
		if err := ix.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range ix.Agreements(time.Time{}) {
		if an := ix.Anomalies(s.Agreement); len(an) > 0 {
			t.Fatalf("%s: the fold skipped amendments: %+v", s.Agreement, an)
		}
	}
	return ix
}

// seedRecords is the seed history, each amendment recorded 12 hours after it
// takes effect: known at 2026-04-26, the renegotiation was not recorded yet.
func seedRecords() []*events.Record {
	return records(seed.Amendments(), lag(12*time.Hour))
}

// state queries an agreement's state, failing the test on an error.
func state(t testing.TB, ix *projections.Index, agreement, at, knownAt string) *projections.State {
	t.Helper()
	s, err := ix.State(agreement, day(t, at), day(t, knownAt))
	if err != nil {
		t.Fatalf("State(%s, %s, %s): %v", agreement, at, knownAt, err)
	}
	return s
}

// parsed is v's JSON form, parsed into maps, slices and scalars.
func parsed(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %T: %v", v, err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// jsonText is v's JSON form, indented.
func jsonText(t testing.TB, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatalf("marshal %T: %v", v, err)
	}
	return string(b)
}

// get walks a parsed JSON document: keys index objects, ints index arrays,
// and "id=X" picks the element of an array whose "id" is X.
func get(t testing.TB, doc any, path ...any) any {
	t.Helper()
	cur := doc
	for i, p := range path {
		switch k := p.(type) {
		case string:
			if id, ok := strings.CutPrefix(k, "id="); ok {
				arr, isArr := cur.([]any)
				if !isArr {
					t.Fatalf("%v: not an array at %v", path, path[:i])
				}
				var found any
				for _, e := range arr {
					if m, ok := e.(map[string]any); ok && m["id"] == id {
						found = e
					}
				}
				if found == nil {
					t.Fatalf("%v: no element with id %s", path, id)
				}
				cur = found
				continue
			}
			m, ok := cur.(map[string]any)
			if !ok {
				t.Fatalf("%v: not an object at %v", path, path[:i])
			}
			v, ok := m[k]
			if !ok {
				t.Fatalf("%v: no key %q (keys: %v)", path, k, keys(m))
			}
			cur = v
		case int:
			arr, ok := cur.([]any)
			if !ok || k >= len(arr) {
				t.Fatalf("%v: no element %d", path, k)
			}
			cur = arr[k]
		}
	}
	return cur
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ids lists the "id" of each element of a parsed JSON array, sorted.
func ids(t testing.TB, arr any) []string {
	t.Helper()
	a, ok := arr.([]any)
	if !ok {
		t.Fatalf("not an array: %v", arr)
	}
	out := []string{}
	for _, e := range a {
		out = append(out, e.(map[string]any)["id"].(string))
	}
	slices.Sort(out)
	return out
}

// clauseIDs lists the ids of a state's clauses in force, sorted.
func clauseIDs(s *projections.State) []string {
	out := []string{}
	for _, c := range s.Clauses {
		out = append(out, c.ID)
	}
	slices.Sort(out)
	return out
}

// golden compares v's JSON with testdata/golden/name.json, as parsed JSON so
// that key order and spacing do not matter; with -update it rewrites the file.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got := jsonText(t, v) + "\n"
	file := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./projections -run %s -update to create it)", err, t.Name())
	}
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatal(err)
	}
	if d := jsonDiff("", w, g); len(d) > 0 {
		if len(d) > 40 {
			d = append(d[:40], fmt.Sprintf("… and %d more", len(d)-40))
		}
		t.Errorf("%s differs from the golden file (want → got; rerun with -update if the change is intended):\n  %s", file, strings.Join(d, "\n  "))
	}
}

// jsonDiff lists the paths at which two parsed JSON values differ.
func jsonDiff(path string, want, got any) []string {
	if reflect.DeepEqual(want, got) {
		return nil
	}
	show := func(v any) string {
		b, _ := json.Marshal(v)
		if len(b) > 120 {
			return string(b[:120]) + "…"
		}
		return string(b)
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			break
		}
		var out []string
		names := map[string]bool{}
		for k := range w {
			names[k] = true
		}
		for k := range g {
			names[k] = true
		}
		for _, k := range slices.Sorted(maps.Keys(names)) {
			wv, win := w[k]
			gv, gin := g[k]
			switch {
			case !gin:
				out = append(out, fmt.Sprintf("%s.%s: %s → (missing)", path, k, show(wv)))
			case !win:
				out = append(out, fmt.Sprintf("%s.%s: (missing) → %s", path, k, show(gv)))
			default:
				out = append(out, jsonDiff(path+"."+k, wv, gv)...)
			}
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok {
			break
		}
		var out []string
		for i := range max(len(w), len(g)) {
			p := fmt.Sprintf("%s[%d]", path, i)
			switch {
			case i >= len(g):
				out = append(out, fmt.Sprintf("%s: %s → (missing)", p, show(w[i])))
			case i >= len(w):
				out = append(out, fmt.Sprintf("%s: (missing) → %s", p, show(g[i])))
			default:
				out = append(out, jsonDiff(p, w[i], g[i])...)
			}
		}
		return out
	}
	if path == "" {
		path = "."
	}
	return []string{fmt.Sprintf("%s: %s → %s", path, show(want), show(got))}
}

// sameJSON fails the test when a and b do not have equal JSON forms.
func sameJSON(t testing.TB, what string, want, got any) {
	t.Helper()
	w, g := parsed(t, want), parsed(t, got)
	if d := jsonDiff("", w, g); len(d) > 0 {
		if len(d) > 20 {
			d = d[:20]
		}
		t.Fatalf("%s differs (want → got):\n  %s", what, strings.Join(d, "\n  "))
	}
}

// snapshot is everything an index answers about some agreements at some
// times, as JSON, for checking that something left it unchanged.
func snapshot(t testing.TB, ix *projections.Index, times ...string) string {
	t.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, "len %d last %d\n", ix.Len(), ix.LastSeq())
	for _, s := range ix.Agreements(time.Time{}) {
		tl, err := ix.Timeline(s.Agreement, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(jsonText(t, tl))
		h, err := ix.History(s.Agreement)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(jsonText(t, h))
		fmt.Fprintf(&b, "%v\n", ix.Anomalies(s.Agreement))
		for _, at := range times {
			b.WriteString(jsonText(t, state(t, ix, s.Agreement, at, "")))
		}
	}
	for _, at := range times {
		b.WriteString(jsonText(t, ix.Conflicts(day(t, at), time.Time{})))
	}
	return b.String()
}
