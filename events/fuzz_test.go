package events_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/oklog/ulid/v2"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/seed"
)

// FuzzDecode checks that Decode never panics and only fails with Invalid
// errors that name their problems; that what it accepts the schema accepts;
// and that every amendment it returns survives Encode, DecodeStored and
// Encode byte for byte, with a stable content hash, and reads back from its
// canonical input form.
func FuzzDecode(f *testing.F) {
	for _, data := range validFiles(f) {
		f.Add(data)
	}
	for _, tc := range goodInputs {
		f.Add([]byte(tc.input))
	}
	for _, tc := range badInputs {
		if len(tc.input) <= 8<<10 {
			f.Add([]byte(tc.input))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		as, err := events.Decode(data)
		if err != nil {
			var e *events.Error
			if !errors.As(err, &e) || e.Kind != events.Invalid || len(e.Fields) == 0 {
				t.Fatalf("Decode error is not Invalid with field errors: %T %v", err, err)
			}
			if as != nil {
				t.Fatalf("Decode returned amendments with an error")
			}
			return
		}
		if len(as) == 0 {
			t.Fatalf("Decode returned no amendments and no error")
		}
		if err := validate(t, data); err != nil {
			t.Fatalf("the schema rejects an input Decode accepts: %v", err)
		}
		for i, a := range as {
			if a.ID == (ulid.ULID{}) {
				a.ID = freshID(a)
			}
			hash := a.ContentHash()
			prev := events.Hash{}
			if i%2 == 1 {
				prev = somePrev
			}
			stored, err := events.Encode(a, prev)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			back, gotPrev, err := events.DecodeStored(stored)
			if err != nil {
				t.Fatalf("DecodeStored(%s): %v", stored, err)
			}
			if gotPrev != prev {
				t.Fatalf("prev = %v, want %v", gotPrev, prev)
			}
			again, err := events.Encode(back, gotPrev)
			if err != nil {
				t.Fatalf("Encode again: %v", err)
			}
			if !bytes.Equal(stored, again) {
				t.Fatalf("encoding is not stable:\n%s\n%s", stored, again)
			}
			if back.ContentHash() != hash || a.ContentHash() != hash {
				t.Fatalf("content hash is not stable for %s", stored)
			}
			canonical, err := json.Marshal(a)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			reread, err := events.Decode(canonical)
			if err != nil {
				t.Fatalf("Decode rejects the canonical form %s: %v", canonical, err)
			}
			if len(reread) != 1 || reread[0].ContentHash() != hash {
				t.Fatalf("canonical form %s reads back differently", canonical)
			}
		}
	})
}

// freshID returns an id for a that none of its retract changes targets.
func freshID(a *events.Amendment) ulid.ULID {
	for ms := uint64(1_700_000_000_000); ; ms++ {
		id := ulid.MustNew(ms, bytes.NewReader(make([]byte, 16)))
		taken := false
		for _, c := range a.Changes {
			taken = taken || c.Op == events.Retract && c.Of().Target == id
		}
		if !taken {
			return id
		}
	}
}

// FuzzCanonical checks the fast path against the strict reader: whatever
// the bytes, when the fast path reads them (as stored or as Check writes
// them), the strict reader reads them too, into a deeply equal amendment
// with the same prev, and they are the canonical form of what it read; and
// DecodeStored, fast path and all, answers exactly as the strict reader
// alone. The corpus is the canonical forms of generated amendments of
// every op and kind, and of the seed history, which the fuzzer mutates.
func FuzzCanonical(f *testing.F) {
	for i, a := range append(synthetic(4, 12, 20), seed.Amendments()...) {
		prev := events.Hash{}
		if i%2 == 1 {
			prev = somePrev
		}
		stored, err := events.Encode(a, prev)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(stored)
		if i%4 == 0 {
			input, _ := json.Marshal(a)
			f.Add(input)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fastAgreesWithStrict(t, data)
		a, prev, err := events.DecodeStored(data)
		strict, strictPrev, strictErr := events.DecodeStoredStrictly(data)
		if fmt.Sprint(err) != fmt.Sprint(strictErr) || prev != strictPrev {
			t.Fatalf("DecodeStored answers %v, the strict reader %v", err, strictErr)
		}
		if err == nil {
			sameAmendment(t, "DecodeStored", a, strict)
		}
	})
}

// fastAgreesWithStrict fails the test if the fast path reads data (as stored
// or as Check writes it) into anything but what the strict reader reads,
// or reads bytes that are not the canonical form of what it read.
func fastAgreesWithStrict(t *testing.T, data []byte) {
	t.Helper()
	if a, prev, ok := events.DecodeCanonical(data, true); ok {
		strict, strictPrev, err := events.DecodeStoredStrictly(data)
		if err != nil {
			t.Fatalf("the fast path reads what the strict reader rejects: %v\n%s", err, data)
		}
		if prev != strictPrev {
			t.Fatalf("prev %v, the strict reader's %v", prev, strictPrev)
		}
		sameAmendment(t, "stored", a, strict)
		if again, _ := events.Encode(a, prev); !bytes.Equal(again, data) {
			t.Fatalf("the fast path reads bytes that are not canonical:\n%s\nencodes as\n%s", data, again)
		}
	}
	if a, _, ok := events.DecodeCanonical(data, false); ok {
		strict, err := events.ReadStrictly(data)
		if err != nil {
			t.Fatalf("the fast path reads what the strict reader rejects: %v\n%s", err, data)
		}
		sameAmendment(t, "input", a, strict)
		if again, _ := json.Marshal(a); !bytes.Equal(again, data) {
			t.Fatalf("the fast path reads bytes that are not canonical:\n%s\nencodes as\n%s", data, again)
		}
	}
}
