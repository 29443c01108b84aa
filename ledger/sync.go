package ledger

import (
	"context"
	"errors"

	"github.com/agreement-ledger/ledger/events"
	"github.com/nats-io/nats.go/jetstream"
)

// SyncAgreement waits until the read model has applied the last amendment
// of agreement on the stream now, whoever wrote it: a query about that
// agreement alone (State, History, Timeline, Diff) then sees every append
// acknowledged before it was called, by this process or another. It looks
// up that agreement's last message only (one literal subject); Sync, for
// questions across agreements, looks up the stream's.
//
// While the read model loads, such a query reads the agreement's messages
// from the stream itself, and there is nothing to wait for.
func (l *Ledger) SyncAgreement(ctx context.Context, agreement string) error {
	if !events.ValidSlug(agreement) || !l.isReady() {
		return nil // a name that is not a slug is reported unknown by the query
	}
	qctx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	defer cancel()
	msg, err := l.stream.GetLastMsgForSubject(qctx, l.cfg.Subject+"."+agreement)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil
	}
	if err != nil {
		return unavailable("reading the stream", err)
	}
	return l.rm.waitFor(ctx, msg.Sequence, l.cfg.Timeout)
}
