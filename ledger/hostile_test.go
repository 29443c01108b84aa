package ledger_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
	"github.com/nats-io/nats.go/jetstream"
)

// TestHostileInputIsRefusedAndWritesNothing runs the corpus through
// Decode and Append: each input is refused with an error naming its field,
// and the stream is exactly as it was.
func TestHostileInputIsRefusedAndWritesNothing(t *testing.T) {
	l := ledgertest.New(t)
	l.Given(string(ledgertest.HostileSetup()))
	js, _ := jetstream.New(l.Conn())
	state := func() jetstream.StreamState {
		t.Helper()
		st, err := js.Stream(context.Background(), "LEDGER")
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return info.State
	}
	before := state()
	cases := ledgertest.HostileCases(t)
	if len(cases) < 60 {
		t.Fatalf("the corpus has %d cases, want at least 60", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			as, err := events.Decode(c.Body)
			if err == nil {
				_, err = l.Append(context.Background(), as, ledger.AppendOptions{})
			}
			var e *events.Error
			if !errors.As(err, &e) || e.Kind != events.Invalid {
				t.Fatalf("got %v, want an invalid-input error", err)
			}
			found := false
			for _, f := range e.Fields {
				if f.Path == c.Field && strings.Contains(f.Message, c.Says) {
					found = true
				}
			}
			if !found && !(c.Field == "" && strings.Contains(e.Error(), c.Says)) {
				t.Fatalf("error does not name %q with %q: %v", c.Field, c.Says, err)
			}
		})
	}
	if after := state(); after.LastSeq != before.LastSeq || after.Msgs != before.Msgs || after.Bytes != before.Bytes {
		t.Fatalf("the stream changed: before %+v, after %+v", before, after)
	}
}
