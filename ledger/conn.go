package ledger

import (
	"context"
	"errors"
	"sync"
	"time"
)

// lostAfter is how long the writers' connection may be down before an
// append waiting on it gives up: the client reconnects by itself (a server
// restarting, a cluster node failing over), but a caller should hear
// within seconds that its server is gone, not after each batch's timeout.
const lostAfter = 2 * time.Second

// interruptGrace is how long a batch in flight may take to be acknowledged
// after the caller's context ends (SIGINT, SIGTERM) before it is abandoned.
const interruptGrace = time.Second

var (
	errConnLost    = errors.New("connection lost")
	errInterrupted = errors.New("interrupted")
)

// connWatch follows the writers' connection: its context is cancelled once
// the connection has been down for lostAfter, and renewed when it is back.
type connWatch struct {
	mu     sync.Mutex
	lost   context.Context
	cancel context.CancelCauseFunc
	timer  *time.Timer
}

func newConnWatch() *connWatch {
	w := &connWatch{}
	w.lost, w.cancel = context.WithCancelCause(context.Background())
	return w
}

// down notes that the connection went down.
func (w *connWatch) down() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer == nil {
		cancel := w.cancel
		w.timer = time.AfterFunc(lostAfter, func() { cancel(errConnLost) })
	}
}

// closed notes that the connection is closed for good.
func (w *connWatch) closed() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cancel(errConnLost)
}

// up notes that the connection is back.
func (w *connWatch) up() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	if w.lost.Err() != nil {
		w.lost, w.cancel = context.WithCancelCause(context.Background())
	}
}

// ctx is done once the connection has been lost.
func (w *connWatch) ctx() context.Context {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lost
}

// ackContext bounds the wait for one batch's acknowledgement: the ledger's
// timeout per batch (a long import has no deadline of its own), the
// connection lost (errConnLost), or interruptGrace after ctx ends
// (errInterrupted). stop releases it.
func (l *Ledger) ackContext(ctx context.Context) (actx context.Context, stop func()) {
	base, cancel := context.WithCancelCause(context.Background())
	actx, tcancel := context.WithTimeout(base, l.cfg.Timeout)
	done := make(chan struct{})
	lost := l.watch.ctx()
	go func() {
		select {
		case <-lost.Done():
			cancel(errConnLost)
		case <-ctx.Done():
			select {
			case <-time.After(interruptGrace):
				cancel(errInterrupted)
			case <-lost.Done():
				cancel(errConnLost)
			case <-done:
			}
		case <-done:
		}
	}()
	return actx, func() {
		close(done)
		tcancel()
		cancel(nil)
	}
}
