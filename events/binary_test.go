package events_test

import (
	"bytes"
	"testing"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/seed"
	"github.com/agreement-ledger/ledger/events/synth"
)

// Amendments read back from the binary form are those written: their
// canonical encodings (what is stored and hashed) are byte for byte the
// same, for every op, clause kind and value the generator makes and for the
// seed history (undisclosed money and rates, sources, signed dates).
func TestBinaryRoundTrip(t *testing.T) {
	g := synth.New(5)
	g.Retract, g.Declare, g.Close = 30, 30, 10
	big, err := events.Decode([]byte(`{"id":"01JQ4Z6N8S9C2E7W3Y5T1V0B6D","agreement":"big","effective":"2026-01-01","changes":[
		{"op":"open","title":"Big","parties":["a","b"]},
		{"op":"add","clause":{"id":"c","kind":"commitment","obligor":"a","beneficiary":"b","what":"w",
		 "amount":{"amount":"999999999999999999.999999999","currency":"USD"}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]*events.Amendment{
		"seed":         seed.Amendments(),
		"synth":        g.Many(50, 60),
		"long":         synth.New(6).Agreement("long", 3000),
		"beyond int64": big,
	}
	for name, as := range cases {
		t.Run(name, func(t *testing.T) {
			w := events.NewBinaryWriter()
			var b []byte
			for _, a := range as {
				b = w.Append(b, a)
			}
			strs := w.Strings
			for i, a := range as {
				got, rest, err := events.ReadBinary(b, strs)
				if err != nil {
					t.Fatalf("amendment %d: %v", i, err)
				}
				b = rest
				want, _ := events.Encode(a, events.Hash{7})
				have, _ := events.Encode(got, events.Hash{7})
				if !bytes.Equal(want, have) {
					t.Fatalf("amendment %d reads back as\n%s\nnot\n%s", i, have, want)
				}
				// What is read is what decoding its JSON gives.
				dec, _, err := events.DecodeStored(have)
				if err != nil {
					t.Fatal(err)
				}
				if d, _ := events.Encode(dec, events.Hash{7}); !bytes.Equal(d, have) {
					t.Fatalf("amendment %d: decoded JSON differs", i)
				}
			}
			if len(b) != 0 {
				t.Fatalf("%d bytes left over", len(b))
			}
			// Each alone, as a snapshot reads them.
			for i, a := range as {
				one := w.Append(nil, a)
				if _, rest, err := events.ReadBinary(one, strs); err != nil || len(rest) > 0 {
					t.Fatalf("amendment %d alone: %v (%d bytes left)", i, err, len(rest))
				}
			}
		})
	}
}

// A binary form cut short or holding bad references is an error, never a
// panic.
func TestBinaryMalformed(t *testing.T) {
	w := events.NewBinaryWriter()
	b := w.Append(nil, seed.Amendments()[0])
	for n := range len(b) {
		if _, _, err := events.ReadBinary(b[:n], w.Strings); err == nil {
			t.Fatalf("reading %d of %d bytes succeeded", n, len(b))
		}
	}
	if _, _, err := events.ReadBinary(b, w.Strings[:1]); err == nil {
		t.Fatal("reading with a short string table succeeded")
	}
}

// FuzzReadBinary: whatever the bytes, reading them does not panic.
func FuzzReadBinary(f *testing.F) {
	w := events.NewBinaryWriter()
	var b []byte
	for _, a := range seed.Amendments() {
		b = w.Append(b, a)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b) > 0 {
			_, rest, err := events.ReadBinary(b, w.Strings)
			if err != nil {
				return
			}
			b = rest
		}
	})
}
