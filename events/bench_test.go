package events_test

import (
	"testing"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/synth"
)

// BenchmarkDecodeStored reads back stored amendments as the read model does
// when it rebuilds (generated ones: several changes, scopes, money).
func BenchmarkDecodeStored(b *testing.B) {
	as := synth.New(1).Many(100, 20)
	data := make([][]byte, len(as))
	size := 0
	for i, a := range as {
		d, err := events.Encode(a, events.Hash{1})
		if err != nil {
			b.Fatal(err)
		}
		data[i] = d
		size += len(d)
	}
	b.SetBytes(int64(size / len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, _, err := events.DecodeStored(data[i%len(data)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckOne checks one amendment built in code, as an append of a
// single amendment does before anything else.
func BenchmarkCheckOne(b *testing.B) {
	as := synth.New(1).Agreement("p1", 2000)
	b.ReportAllocs()
	for i := range b.N {
		if _, err := events.Check(as[i%len(as) : i%len(as)+1]); err != nil {
			b.Fatal(err)
		}
	}
}
