package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// readModel is the projection index fed by an ordered consumer, plus what
// the writer needs to know about each agreement's subject.
type readModel struct {
	prefix string // subject prefix with the trailing dot
	log    *slog.Logger

	mu       sync.RWMutex
	ix       *projections.Index
	subjects map[string]uint64 // last stream sequence on each agreement's subject, foreign messages included
	foreign  []Foreign         // messages skipped because the ledger did not write them
	dmg      *damageFinder     // holes in the stream, agreements damaged
	applied  uint64            // last stream sequence applied
	changed  chan struct{}     // closed and replaced whenever applied moves
	moved    time.Time         // when applied last moved

	// inFlight holds what this process is writing, by the hash of the
	// stored bytes: the read model takes the amendment from here rather
	// than decode the bytes again (equal hashes, equal bytes).
	wmu      sync.Mutex
	inFlight map[events.Hash]writing

	// stuck receives the sequence a waiter wants when it has seen no
	// progress for nudgeAfter: the ledger then follows the stream with a
	// new consumer.
	stuck chan uint64

	// ready is closed when the read model has loaded what the stream held
	// when the ledger opened; loadErr says why it could not, if it could not.
	ready   chan struct{}
	loadErr error
}

// nudgeAfter is how long a waiter waits without progress before it asks for
// a new consumer. The consumer's own recovery (missed heartbeats, then a
// reset with a backoff that grows to 10s) can leave the read model behind
// for many seconds after a cluster node dies; a waiter should not be.
const nudgeAfter = 1500 * time.Millisecond

// Foreign is a message on an agreement's subject that the read model skipped:
// it was not written by the ledger (bad JSON, a broken chain, a reused id).
type Foreign struct {
	Seq       uint64 `json:"seq"`
	Agreement string `json:"agreement"`
	Problem   string `json:"problem"`
	// Hash is set for a well-formed amendment that did not chain: should a
	// later message chain to it, it was the ledger's own (see damage.go).
	Hash events.Hash `json:"-"`
}

func newReadModel(subject string, log *slog.Logger) *readModel {
	return &readModel{
		prefix:   subject + ".",
		log:      log,
		ix:       projections.NewIndex(),
		subjects: map[string]uint64{},
		dmg:      newDamageFinder(false),
		changed:  make(chan struct{}),
		stuck:    make(chan uint64, 1),
		inFlight: map[events.Hash]writing{},
		ready:    make(chan struct{}),
	}
}

// message is one stream message as the read model sees it.
type message struct {
	seq     uint64
	time    time.Time
	subject string
	data    []byte
	header  nats.Header // only as Verify reads: it checks them against the body
}

// decoded is a message decoded outside the lock: a record, or why it is foreign.
type decoded struct {
	message
	agreement string
	rec       *events.Record
	prev      events.Hash // the hash rec's stored bytes chain to
	problem   string
}

// writing is an amendment being written, checked (events.Check) and
// encoded chained to prev.
type writing struct {
	a    *events.Amendment
	prev events.Hash
}

// expect notes amendments about to be written, by the hash of their bytes.
func (rm *readModel) expect(ws map[events.Hash]writing) {
	rm.wmu.Lock()
	defer rm.wmu.Unlock()
	maps.Copy(rm.inFlight, ws)
}

// forget drops what expect noted that the read model has not taken.
func (rm *readModel) forget(ws map[events.Hash]writing) {
	rm.wmu.Lock()
	defer rm.wmu.Unlock()
	for h := range ws {
		delete(rm.inFlight, h)
	}
}

func (rm *readModel) take(h events.Hash) (writing, bool) {
	rm.wmu.Lock()
	defer rm.wmu.Unlock()
	w, ok := rm.inFlight[h]
	if ok {
		delete(rm.inFlight, h)
	}
	return w, ok
}

func (rm *readModel) decode(m message) decoded {
	d := decoded{message: m, agreement: strings.TrimPrefix(m.subject, rm.prefix)}
	h := events.Sum(m.data)
	w, ok := rm.take(h)
	if !ok {
		a, prev, err := events.DecodeStored(m.data)
		if err != nil {
			d.problem = err.Error()
			return d
		}
		w = writing{a, prev}
	}
	if w.a.Agreement != d.agreement {
		d.problem = fmt.Sprintf("amendment names agreement %s but is on the subject of %s", w.a.Agreement, d.agreement)
		return d
	}
	d.rec, d.prev = &events.Record{Amendment: w.a, Seq: m.seq, Recorded: m.time, Hash: h}, w.prev
	return d
}

// apply adds decoded messages to the index, in stream order. A message
// that does not chain is skipped as foreign, unless it shows the agreement
// damaged (see damage.go); then it and the agreement's later messages are
// kept out of the index, which holds the intact prefix.
func (rm *readModel) apply(ds []decoded) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	for _, d := range ds {
		if d.seq <= rm.applied {
			continue // already applied (a snapshot covered it)
		}
		rm.dmg.seen(rm.applied, d.seq)
		rm.applied = d.seq
		rm.moved = time.Now()
		rm.subjects[d.agreement] = d.seq
		if rm.dmg.beyond(d.agreement, d.seq) {
			continue
		}
		problem, broken := d.problem, false
		if problem == "" {
			problem, broken = rm.link(d.rec, d.prev)
		}
		if broken {
			var headVersion, headSeq uint64
			if head := rm.ix.Head(d.agreement); head != nil {
				headVersion, headSeq = head.Version, head.Seq
			}
			if dmg, dropped := rm.dmg.broken(d.rec, d.prev, headVersion, headSeq); dmg != nil {
				rm.foreign = slices.DeleteFunc(rm.foreign, func(f Foreign) bool { return f.Agreement == d.agreement && slices.Contains(dropped, f.Seq) })
				rm.log.Error("the store is damaged: an agreement's history cannot be read whole", "agreement", dmg.Agreement, "version", dmg.Version, "seq", dmg.Seq, "problem", dmg.Problem)
				continue
			}
		}
		if problem == "" {
			if err := rm.ix.Add(d.rec); err != nil {
				problem = err.Error()
			}
		}
		if problem != "" {
			f := Foreign{Seq: d.seq, Agreement: d.agreement, Problem: problem}
			if broken {
				f.Hash = d.rec.Hash
			}
			rm.foreign = append(rm.foreign, f)
			rm.log.Warn("skipped a message the ledger did not write", "seq", d.seq, "subject", d.subject, "problem", problem)
		}
	}
	close(rm.changed)
	rm.changed = make(chan struct{})
}

// damage returns the damage of an agreement, or nil.
func (rm *readModel) damage(agreement string) *projections.Damage {
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	if d := rm.dmg.damaged[agreement]; d != nil {
		c := *d
		return &c
	}
	return nil
}

// damagedIn returns the error of the first amendment of as to a damaged
// agreement: an append to it would chain to a history the store cannot
// read whole. The caller holds rm.mu.
func (rm *readModel) damagedIn(as []*events.Amendment) error {
	for _, a := range as {
		if d := rm.dmg.damaged[a.Agreement]; d != nil {
			return damagedError(d)
		}
	}
	return nil
}

// refuseDamaged is damagedIn for a caller that does not hold rm.mu.
func (rm *readModel) refuseDamaged(as []*events.Amendment) error {
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	return rm.damagedIn(as)
}

// damages lists the damaged agreements and the holes none of them claims.
func (rm *readModel) damages() ([]projections.Damage, []SeqRange) {
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	return rm.dmg.list(), rm.dmg.unattributed()
}

// load adds records read from a snapshot, which the read model applied
// when they were first read: nothing is decoded or checked again, and the
// index files them for its Fold. If one does not apply, what was added is
// taken out again, and the caller replays the stream instead.
func (rm *readModel) load(ctx context.Context, recs []*events.Record) error {
	const chunk = 8192
	for lo := 0; lo < len(recs); lo += chunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := rm.loadChunk(recs[lo:min(lo+chunk, len(recs))]); err != nil {
			rm.mu.Lock()
			rm.ix, rm.applied = projections.NewIndex(), 0
			rm.ix.Defer()
			rm.mu.Unlock()
			return err
		}
	}
	return nil
}

func (rm *readModel) loadChunk(recs []*events.Record) error {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	for _, r := range recs {
		if err := rm.ix.Add(r); err != nil {
			return err
		}
		rm.applied = r.Seq
	}
	return nil
}

// link checks that r, whose stored bytes chain to prev, chains to its
// agreement's head; broken says the chain is what failed.
func (rm *readModel) link(r *events.Record, prev events.Hash) (problem string, broken bool) {
	var want events.Hash
	if head := rm.ix.Head(r.Agreement); head != nil {
		want = head.Hash
	}
	if prev != want {
		return fmt.Sprintf("chain broken: prev is %s, but the agreement's last amendment hashes to %s", short(prev), short(want)), true
	}
	if old := rm.ix.Lookup(r.ID); old != nil {
		return fmt.Sprintf("amendment id %s was already recorded at sequence %d", r.ID, old.Seq), false
	}
	return "", false
}

func short(h events.Hash) string {
	if h.IsZero() {
		return "(none)"
	}
	return h.String()[:16]
}

// waitFor blocks until the read model has applied sequence seq. It gives up
// when ctx ends, or when the read model makes no progress for stall: a
// large catch-up may take long, a stuck one should not hang its caller.
func (rm *readModel) waitFor(ctx context.Context, seq uint64, stall time.Duration) error {
	timer := time.NewTimer(stall)
	defer timer.Stop()
	nudge := time.NewTicker(nudgeAfter)
	defer nudge.Stop()
	for {
		rm.mu.RLock()
		applied, ch := rm.applied, rm.changed
		rm.mu.RUnlock()
		if applied >= seq {
			return nil
		}
		select {
		case <-ch:
			timer.Reset(stall)
			nudge.Reset(nudgeAfter)
		case <-nudge.C:
			select {
			case rm.stuck <- seq:
			default:
			}
		case <-timer.C:
			return &events.Error{Kind: events.Internal, Message: fmt.Sprintf("the read model is stuck at sequence %d, short of %d, for %s", applied, seq, stall)}
		case <-ctx.Done():
			return fmt.Errorf("ledger: read model at sequence %d did not reach %d: %w", applied, seq, ctx.Err())
		}
	}
}

// follow starts an ordered consumer from sequence from+1 that feeds the read
// model until ctx ends. Messages are decoded in batches on every core, then
// applied in stream order.
func (rm *readModel) follow(ctx context.Context, js jetstream.JetStream, stream string, from uint64) (jetstream.ConsumeContext, error) {
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{rm.prefix + "*"},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    from + 1,
	})
	if err != nil {
		return nil, fmt.Errorf("ledger: read model consumer: %w", err)
	}
	in := make(chan message, 4096)
	// Messages handed to run and not yet applied. This callback is the
	// only one to add to it.
	var queued atomic.Int64
	go rm.run(ctx, in, &queued)
	return cons.Consume(func(msg jetstream.Msg) {
		meta, err := msg.Metadata()
		if err != nil {
			rm.log.Warn("message without metadata", "err", err)
			return
		}
		m := message{seq: meta.Sequence.Stream, time: meta.Timestamp, subject: msg.Subject(), data: msg.Data()}
		if queued.Load() == 0 && meta.NumPending == 0 {
			// Nothing before it waits and nothing after it is there yet:
			// apply it here. A writer waiting for its append is answered
			// two goroutine hand-offs sooner; a catch-up is decoded in
			// batches, on every core.
			rm.apply([]decoded{rm.decode(m)})
			return
		}
		queued.Add(1)
		select {
		case in <- m:
		case <-ctx.Done():
		}
	}, jetstream.PullMaxMessages(1000),
		// Short heartbeats: when the server holding the consumer goes away
		// (a cluster node dies), the consumer is recreated within seconds.
		jetstream.PullExpiry(3*time.Second), jetstream.PullHeartbeat(time.Second))
}

// run applies the messages from in, taking whatever has arrived as a
// batch, and takes them off queued once applied. A batch is decoded while
// the one before it is applied.
func (rm *readModel) run(ctx context.Context, in <-chan message, queued *atomic.Int64) {
	out, _ := rm.applying(func(n int) { queued.Add(-int64(n)) })
	defer close(out)
	var batch []message
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-in:
			batch = append(batch[:0], m)
		}
	drain:
		for len(batch) < 2048 {
			select {
			case m := <-in:
				batch = append(batch, m)
			default:
				break drain
			}
		}
		ds := make([]decoded, len(batch))
		if len(batch) < 64 {
			for i, m := range batch {
				ds[i] = rm.decode(m)
			}
		} else {
			parallel(len(batch), func(i int) { ds[i] = rm.decode(batch[i]) })
		}
		out <- ds
	}
}

// applying starts a goroutine that applies the batches sent on out, in
// order, calling applied (if set) with the size of each, until out is
// closed; then it closes done.
func (rm *readModel) applying(applied func(n int)) (out chan<- []decoded, done <-chan struct{}) {
	ch, fin := make(chan []decoded, 1), make(chan struct{})
	go func() {
		defer close(fin)
		for ds := range ch {
			rm.apply(ds)
			if applied != nil {
				applied(len(ds))
			}
		}
	}()
	return ch, fin
}

// agreementIndex is an index of one agreement's messages alone, read from
// its subject: all that a query about the agreement depends on, for such
// queries while the read model loads. The messages go through the read
// model's own rules (decoding, the chain, ids within the agreement), so the
// answers are those the loaded read model gives.
func (l *Ledger) agreementIndex(agreement string) (*projections.Index, *projections.Damage, error) {
	rm := newReadModel(l.cfg.Subject, slog.New(slog.DiscardHandler))
	if !events.ValidSlug(agreement) {
		return rm.ix, nil, nil // the query reports it unknown
	}
	// As long as Verify may take: an agreement's history can be long.
	ctx, cancel := context.WithTimeout(context.Background(), 10*l.cfg.Timeout)
	defer cancel()
	subject := rm.prefix + agreement
	st, err := l.js.Stream(ctx, l.cfg.Stream)
	if err != nil {
		return nil, nil, unavailable("reading the stream", err)
	}
	last, err := st.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return rm.ix, nil, nil
	}
	if err != nil {
		return nil, nil, unavailable("reading the stream", err)
	}
	// This reader sees one subject, so no holes of its own: when a message
	// does not chain, the stream is asked whether one lies before it, as
	// the read model would have seen.
	rm.dmg.dense = l.dense
	var holeErr error
	rm.dmg.firstHole = func(from, to uint64) uint64 {
		seq, err := l.firstHole(ctx, from, to)
		if err != nil && holeErr == nil {
			holeErr = err
		}
		return seq
	}
	// Each message is decoded and filed as it arrives, while the client
	// fetches the next ones; the agreement is folded once, at the end.
	rm.ix.Defer()
	err = l.readStream(ctx, subject, last.Sequence, func(m message) { rm.apply([]decoded{rm.decode(m)}) })
	if err != nil {
		return nil, nil, err
	}
	rm.ix.Fold()
	if holeErr != nil {
		return nil, nil, holeErr
	}
	return rm.ix, rm.dmg.damaged[agreement], nil
}

// firstHole returns the first sequence in [from, to] that the stream does
// not deliver (it cannot read it), or 0, reading the agreements' subjects
// over that range.
func (l *Ledger) firstHole(ctx context.Context, from, to uint64) (uint64, error) {
	next := from
	var hole uint64
	err := l.readRange(ctx, l.cfg.Subject+".*", from, to, true, func(m message) {
		if hole == 0 && m.seq > next {
			hole = next
		}
		next = m.seq + 1
	})
	if err != nil {
		return 0, err
	}
	if hole == 0 && next <= to {
		hole = next
	}
	return hole, nil
}
