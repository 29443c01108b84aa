package events_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/seed"
	"github.com/agreement-ledger/ledger/events/synth"
)

// synthetic returns generated amendments of every op and kind: many
// agreements with retractions, declarations and closes switched on.
func synthetic(seedValue int64, agreements, each int) []*events.Amendment {
	g := synth.New(seedValue)
	g.Retroactive, g.Retract, g.Declare, g.Close = 150, 40, 40, 4
	g.MinLive, g.MaxLive = 3, 8
	return g.Many(agreements, each)
}

// canonicalInputs returns amendments whose canonical forms the fast path
// must read: generated ones, the seed history, the valid test data, the
// good inputs, and what of the hostile corpus decodes.
func canonicalInputs(t testing.TB) map[string][]*events.Amendment {
	t.Helper()
	out := map[string][]*events.Amendment{
		"synth 1": synthetic(1, 40, 60),
		"synth 2": synthetic(2, 10, 200),
		"bench":   synth.New(1).Many(100, 20),
		"seed":    seed.Amendments(),
	}
	for name, data := range validFiles(t) {
		out[name] = decodeAll(t, data)
	}
	// Every character the encoder escapes in text that text may have.
	out["escapes"] = decodeAll(t, []byte(with(amendment(replace(openChange, "supply agreement", `<b>Tom & \"Jerry\"</b> \\ tab\there\nline \u2028 \u2029 é 漢字 🙂 \u00ff`)),
		`"summary":"\u003c\u003e\u0026 \/","source":{"quote":"q\n"}`)))
	for _, tc := range goodInputs {
		out["good input: "+tc.name] = decodeAll(t, []byte(tc.input))
	}
	decoded := 0
	for name, data := range hostileFiles(t) {
		if _, err := events.Decode(data); err == nil {
			out["hostile: "+name] = decodeAll(t, data)
			decoded++
		}
	}
	if decoded < 10 {
		t.Fatalf("only %d hostile inputs decode", decoded)
	}
	return out
}

// TestCanonicalReadsAsStrict checks that the fast path reads the canonical
// form of every amendment, stored (with and without prev) and as Check
// writes it, into the amendment the strict reader reads from the same bytes.
func TestCanonicalReadsAsStrict(t *testing.T) {
	kinds, ops := map[events.Kind]int{}, map[events.Op]int{}
	n := 0
	for name, as := range canonicalInputs(t) {
		for i, a := range as {
			for _, c := range a.Changes {
				ops[c.Op]++
				if c.Clause != nil {
					kinds[c.Clause.Kind]++
				}
			}
			for _, prev := range []events.Hash{{}, somePrev} {
				stored, err := events.Encode(a, prev)
				if err != nil {
					t.Fatal(err)
				}
				fast, fastPrev, ok := events.DecodeCanonical(stored, true)
				if !ok {
					t.Fatalf("%s [%d]: the fast path does not read %s", name, i, stored)
				}
				strict, strictPrev, err := events.DecodeStoredStrictly(stored)
				if err != nil {
					t.Fatalf("%s [%d]: %v", name, i, err)
				}
				if fastPrev != prev || strictPrev != prev {
					t.Fatalf("%s [%d]: prev %v and %v, want %v", name, i, fastPrev, strictPrev, prev)
				}
				sameAmendment(t, fmt.Sprintf("%s [%d] stored", name, i), fast, strict)
				n++
			}
			input, _ := json.Marshal(a)
			fast, _, ok := events.DecodeCanonical(input, false)
			if !ok {
				t.Fatalf("%s [%d]: the fast path does not read %s", name, i, input)
			}
			strict, err := events.ReadStrictly(input)
			if err != nil {
				t.Fatalf("%s [%d]: %v", name, i, err)
			}
			sameAmendment(t, fmt.Sprintf("%s [%d]", name, i), fast, strict)
			n++
		}
	}
	if len(ops) != len(events.Ops) || len(kinds) != len(events.Kinds) {
		t.Fatalf("the inputs have ops %v and kinds %v, not all of them", ops, kinds)
	}
	t.Logf("%d encodings read alike; ops %v, kinds %v", n, ops, kinds)
}

// sameAmendment fails the test unless fast and strict are deeply equal and
// every string the strict reader interned is the intern table's in fast too.
func sameAmendment(t testing.TB, name string, fast, strict *events.Amendment) {
	t.Helper()
	if !reflect.DeepEqual(fast, strict) {
		fj, _ := json.Marshal(fast)
		sj, _ := json.Marshal(strict)
		t.Fatalf("%s: the fast path reads\n%+v\n%s\nthe strict reader\n%+v\n%s", name, fast, fj, strict, sj)
	}
	var walk func(f, s reflect.Value)
	walk = func(f, s reflect.Value) {
		switch s.Kind() {
		case reflect.String:
			if events.Interned(s.String()) && !events.Interned(f.String()) {
				t.Fatalf("%s: %q is interned by the strict reader, not by the fast path", name, s.String())
			}
		case reflect.Pointer:
			if !s.IsNil() {
				walk(f.Elem(), s.Elem())
			}
		case reflect.Slice:
			for i := range s.Len() {
				walk(f.Index(i), s.Index(i))
			}
		case reflect.Struct:
			for i := range s.NumField() {
				walk(f.Field(i), s.Field(i))
			}
		}
	}
	walk(reflect.ValueOf(fast), reflect.ValueOf(strict))
}

// TestFastPathIsTaken checks that DecodeStored and Check read canonical
// bytes by the fast path, and other bytes by the strict reader alone.
func TestFastPathIsTaken(t *testing.T) {
	as := synthetic(3, 5, 20)
	before := events.CanonicalReads()
	for _, a := range as {
		stored, err := events.Encode(a, somePrev)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := events.DecodeStored(stored); err != nil {
			t.Fatal(err)
		}
	}
	if got := events.CanonicalReads() - before; got != uint64(len(as)) {
		t.Fatalf("DecodeStored read %d of %d amendments by the fast path", got, len(as))
	}
	before = events.CanonicalReads()
	if _, err := events.Check(as); err != nil {
		t.Fatal(err)
	}
	if got := events.CanonicalReads() - before; got != uint64(len(as)) {
		t.Fatalf("Check read %d of %d amendments by the fast path", got, len(as))
	}

	// Bytes that are not canonical are read, by the strict reader alone.
	stored, _ := events.Encode(as[0], somePrev)
	spaced := bytes.Replace(stored, []byte(`,"changes":`), []byte(`, "changes": `), 1)
	before = events.CanonicalReads()
	a, prev, err := events.DecodeStored(spaced)
	if err != nil || prev != somePrev || a.ContentHash() != as[0].ContentHash() {
		t.Fatalf("DecodeStored of spaced bytes: %v", err)
	}
	if events.CanonicalReads() != before {
		t.Fatalf("the fast path read bytes that are not canonical: %s", spaced)
	}
}

// TestRejectedByTheFastPath checks that the fast path reads none of the
// inputs the strict reader rejects, so that their errors are the strict
// reader's (TestRejectionTexts holds their words).
func TestRejectedByTheFastPath(t *testing.T) {
	inputs := map[string][]byte{}
	for _, tc := range badInputs {
		inputs["bad input: "+tc.name] = []byte(tc.input)
	}
	for name, data := range hostileFiles(t) {
		inputs["hostile: "+name] = data
	}
	for name, data := range invalidStored(t) {
		inputs["stored: "+name] = data
	}
	for name, a := range rejectedInCode(t) {
		data, _ := json.Marshal(a)
		inputs["in code: "+name] = data
		if a.ID.IsZero() {
			continue
		}
		if stored, err := events.Encode(a, somePrev); err == nil {
			inputs["in code, stored: "+name] = stored
		}
	}
	for _, name := range slices.Sorted(maps.Keys(inputs)) {
		data := inputs[name]
		for _, stored := range []bool{false, true} {
			a, _, ok := events.DecodeCanonical(data, stored)
			if !ok {
				continue
			}
			// What the fast path reads, the strict reader reads alike.
			var strict *events.Amendment
			var err error
			if stored {
				strict, _, err = events.DecodeStoredStrictly(data)
			} else {
				strict, err = events.ReadStrictly(data)
			}
			if err != nil {
				t.Errorf("%s (stored %v): the fast path reads what the strict reader rejects: %v", name, stored, err)
				continue
			}
			sameAmendment(t, name, a, strict)
			if !strings.HasPrefix(name, "in code") {
				t.Errorf("%s (stored %v): the fast path reads an input that is not canonical", name, stored)
			}
		}
	}
}

// TestCanonicalEdits holds the fast path to the strict reader on every
// canonical encoding one edit away from those of short amendments with
// every op and kind: each byte deleted, doubled, or replaced by one of the
// bytes that matter to the grammar. The edits that keep the form canonical
// (another digit of a date or an amount, another letter of a slug) are
// where the two could disagree.
func TestCanonicalEdits(t *testing.T) {
	as := synthetic(5, 10, 40)
	slices.SortStableFunc(as, func(a, b *events.Amendment) int {
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		return len(ja) - len(jb)
	})
	seen := map[string]bool{} // ops and kinds
	var picked []*events.Amendment
	for _, a := range as {
		var has []string
		for _, c := range a.Changes {
			has = append(has, string(c.Op))
			if c.Clause != nil {
				has = append(has, string(c.Clause.Kind))
			}
		}
		if slices.ContainsFunc(has, func(w string) bool { return !seen[w] }) {
			picked = append(picked, a)
			for _, w := range has {
				seen[w] = true
			}
		}
	}
	if len(seen) != len(events.Ops)+len(events.Kinds) {
		t.Fatalf("the amendments have only %v", seen)
	}
	const alphabet = "09afzAFZ-.:,{}[]\"\\ Tnt"
	edits := 0
	for i, a := range picked {
		var data []byte
		if i%2 == 0 {
			data, _ = events.Encode(a, somePrev)
		} else {
			data, _ = json.Marshal(a)
		}
		for j := range data {
			variants := [][]byte{slices.Delete(slices.Clone(data), j, j+1), slices.Insert(slices.Clone(data), j, data[j])}
			for k := range len(alphabet) {
				if alphabet[k] != data[j] {
					v := slices.Clone(data)
					v[j] = alphabet[k]
					variants = append(variants, v)
				}
			}
			for _, v := range variants {
				fastAgreesWithStrict(t, v)
				edits++
			}
		}
	}
	t.Logf("%d edits of %d amendments", edits, len(picked))
}
