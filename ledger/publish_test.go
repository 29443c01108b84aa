package ledger

import (
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// An import written in several batches: the first message of each agreement
// in a later batch expects the sequence its agreement's last message got in
// the batches before; its other messages expect nothing (the batch is atomic).
func TestExpectationsAcrossBatches(t *testing.T) {
	msgs := func(subjects ...string) []*nats.Msg {
		var out []*nats.Msg
		for _, s := range subjects {
			m := nats.NewMsg(s)
			m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, "1")
			out = append(out, m)
		}
		return out
	}
	last := map[string]uint64{}
	noteLastSequences(last, msgs("a", "b", "a", "c"), 10) // sequences 7, 8, 9, 10
	noteLastSequences(last, msgs("d"), 11)
	batch := msgs("b", "a", "b", "e", "d")
	fixExpectations(batch, last)
	want := []string{"8", "9", "", "1", "11"} // e is new to these batches: its header stays
	for i, m := range batch {
		if got := m.Header.Get(jetstream.ExpectedLastSubjSeqHeader); got != want[i] {
			t.Errorf("message %d (%s) expects %q, want %q", i, m.Subject, got, want[i])
		}
	}
}
