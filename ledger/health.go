package ledger

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/agreement-ledger/ledger/projections"
)

// Health is what an operator needs to know about the ledger's store: "ok",
// or "degraded" with the problems. A degraded ledger still answers what it
// can (the queries about undamaged agreements, for one).
type Health struct {
	Status   string   `json:"status"` // "ok" or "degraded"
	Loading  bool     `json:"loading,omitempty"`
	Problems []string `json:"problems,omitempty"`
	// Damaged lists the agreements whose histories the store cannot read
	// whole (see damage.go), Unreadable the stream sequences it counts but
	// cannot read.
	Damaged    []projections.Damage `json:"damaged,omitempty"`
	Unreadable []SeqRange           `json:"unreadable,omitempty"`
}

// faults remembers the last failure an operator must hear of that no
// query shows: the store out of space.
type faults struct {
	mu      sync.Mutex
	noSpace time.Time // when an append last failed for want of space
	msg     string
}

func (f *faults) setNoSpace(msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noSpace, f.msg = time.Now(), msg
}

// clearNoSpace forgets the failure once an append succeeds again.
func (f *faults) clearNoSpace() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noSpace, f.msg = time.Time{}, ""
}

// Health reports the store's health. It asks JetStream for the stream's
// state (bounded by ctx and the ledger's timeout), and does not wait for
// the read model to load.
func (l *Ledger) Health(ctx context.Context) Health {
	h := Health{Status: "ok", Loading: !l.isReady()}
	select {
	case <-l.rm.ready:
		if l.rm.loadErr != nil {
			h.Problems = append(h.Problems, "the read model could not be loaded: "+l.rm.loadErr.Error())
		}
	default:
	}
	l.rm.mu.RLock()
	h.Damaged, h.Unreadable = l.rm.dmg.list(), append([]SeqRange(nil), l.rm.dmg.holes...)
	loose := l.rm.dmg.unattributed()
	l.rm.mu.RUnlock()
	for _, d := range h.Damaged {
		h.Problems = append(h.Problems, damageMessage(&d))
	}
	for _, u := range loose {
		h.Problems = append(h.Problems, fmt.Sprintf("stream sequence %s cannot be read (no agreement's chain shows which it was yet; ledger verify --since with exported heads tells what is missing)", u))
	}
	l.faults.mu.Lock()
	if !l.faults.noSpace.IsZero() {
		h.Problems = append(h.Problems, fmt.Sprintf("%s (at %s)", l.faults.msg, l.faults.noSpace.UTC().Format(time.RFC3339)))
	}
	l.faults.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, min(l.cfg.Timeout, 2*time.Second))
	defer cancel()
	if st, err := l.js.Stream(ctx, l.cfg.Stream); err != nil {
		h.Problems = append(h.Problems, unavailable("reading the stream's state", err).Error())
	} else if info, err := st.Info(ctx); err != nil {
		h.Problems = append(h.Problems, unavailable("reading the stream's state", err).Error())
	} else if ld := info.State.Lost; ld != nil && (len(ld.Msgs) > 0 || ld.Bytes > 0) {
		h.Problems = append(h.Problems, fmt.Sprintf("the server reports %d bytes of the stream lost when it recovered its files (sequences %v): check exported heads with ledger verify --since", ld.Bytes, ld.Msgs))
	}
	if len(h.Problems) > 0 {
		h.Status = "degraded"
	}
	return h
}
