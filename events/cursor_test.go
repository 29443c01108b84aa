package events

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestCursorTime checks the fast path's times against ParseTime: it reads
// every time FormatTime writes as ParseTime does, and of the strings one
// edit away from them only those FormatTime writes, as ParseTime reads them.
func TestCursorTime(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	times := []time.Time{minTime, maxTime, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(2000, 2, 29, 23, 59, 59, 1, time.UTC),
		time.Date(2026, 2, 27, 0, 0, 0, 500, time.UTC), time.Date(2026, 2, 27, 0, 0, 1, 0, time.UTC)}
	for range 3000 {
		tm := time.Unix(r.Int64N(maxTime.Unix()-minTime.Unix())+minTime.Unix(), 0).UTC()
		switch r.IntN(4) {
		case 0:
			tm = tm.Truncate(24 * time.Hour)
		case 1:
			tm = tm.Add(time.Duration(r.IntN(1000)) * time.Millisecond)
		case 2:
			tm = tm.Add(time.Duration(r.IntN(1e9)))
		}
		times = append(times, tm)
	}
	read := func(s string) (time.Time, bool) {
		d := &cursor{b: []byte(`"` + s + `"`)}
		tm, ok := d.time()
		return tm, ok && d.i == len(d.b)
	}
	const alphabet = "0123456789-:.TZ+ "
	edits, canonical := 0, 0
	for _, tm := range times {
		s := FormatTime(tm)
		got, ok := read(s)
		want, err := ParseTime(s)
		if !ok || err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: the cursor reads %v (%v), ParseTime %v (%v)", s, got, ok, want, err)
		}
		for i := 0; i <= len(s); i++ {
			var variants []string
			if i < len(s) {
				variants = append(variants, s[:i]+s[i+1:])
			}
			for _, c := range alphabet {
				variants = append(variants, s[:i]+string(c)+s[i:])
				if i < len(s) {
					variants = append(variants, s[:i]+string(c)+s[i+1:])
				}
			}
			for _, v := range variants {
				edits++
				got, ok := read(v)
				if !ok {
					continue
				}
				canonical++
				want, err := ParseTime(v)
				if err != nil || !reflect.DeepEqual(got, want) || FormatTime(got) != v {
					t.Fatalf("%q: the cursor reads %v, ParseTime %v (%v), FormatTime writes %q", v, got, want, err, FormatTime(got))
				}
			}
		}
	}
	if canonical == 0 || canonical == edits {
		t.Fatalf("%d of %d edits are read: the edits do not exercise both answers", canonical, edits)
	}
}

// TestCursorText checks the fast path's texts: it reads every text the
// encoder writes for a string readText accepts, as encoding/json reads it,
// and nothing readText refuses.
func TestCursorText(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	pieces := []string{"a", "Z", " ", "\n", "\t", "\r", "\x00", "\x1f", "\x7f", `"`, `\`, "/", "<", ">", "&", "é", "漢", "🙂", "\u2028", "\u2029", "\ufffd", "\xff", "\u00a0"}
	accepted := 0
	for range 20000 {
		var b strings.Builder
		for range r.IntN(8) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		s := b.String()
		lit := appendString(nil, s)
		d := &cursor{b: lit}
		got, ok := d.text(20)
		var want string
		if err := json.Unmarshal(lit, &want); err != nil {
			t.Fatal(err)
		}
		strict := checkSize(want, 20) == nil && checkText(want) == nil
		if !ok {
			// Only invalid UTF-8, written as an escaped U+FFFD, is refused
			// though readText reads it.
			if strict && !strings.Contains(string(lit), `\ufffd`) {
				t.Fatalf("%s: the cursor refuses a text readText reads", lit)
			}
			continue
		}
		accepted++
		if !strict || got != want || d.i != len(lit) {
			t.Fatalf("%s: the cursor reads %q, encoding/json %q (readText accepts it: %v)", lit, got, want, strict)
		}
	}
	if accepted < 1000 {
		t.Fatalf("only %d texts accepted", accepted)
	}
}
