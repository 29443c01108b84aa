package ledger

import (
	"strings"
	"testing"

	"github.com/agreement-ledger/ledger/events"
)

// TestPartialSaysWhatARunAgainDoes: a failed import says how much of it
// is recorded, and whether running it again is safe: only when the input
// carried its ids (without them the ledger assigned new ones, and a run
// again records the recorded amendments a second time).
func TestPartialSaysWhatARunAgainDoes(t *testing.T) {
	lost := events.Errorf(events.Internal, "the connection to NATS at nats://x was lost")
	for _, c := range []struct {
		p    partial
		ids  bool
		want []string
	}{
		{partial{err: lost, done: 3000, total: 20000, inFlight: 1000}, true,
			[]string{"3000 of the 20000 amendments of this input were recorded, in whole batches (and perhaps the batch in flight, amendments 3001-4000)", "running the same input again records the rest exactly once"}},
		{partial{err: lost, done: 3000, total: 20000, inFlight: 1000}, false,
			[]string{"3000 of the 20000", "the input carries no ids, so running it again would record the first 3000 again"}},
		{partial{err: lost, done: 0, total: 500, inFlight: 500}, false,
			[]string{"none of the 500 amendments of this input is acknowledged (and perhaps the batch in flight, amendments 1-500)", "check with ledger history whether the batch in flight was recorded"}},
		{partial{err: interrupted(), done: 0, total: 500, sure: true}, false,
			[]string{"interrupted; nothing of this input was recorded"}},
	} {
		got := c.p.explain(c.ids).Error()
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%+v ids=%v:\n got %s\nwant %s", c.p, c.ids, got, w)
			}
		}
	}
}
