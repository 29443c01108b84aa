package ledger

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/oklog/ulid/v2"
)

// The commit loop: appends that passed their checks are chained, written in
// atomic batches, and answered once the read model has them. Concurrent
// appends are gathered into one batch (one fsync); a lone writer commits its
// own append.

// commitAlone commits req in the caller's goroutine when no other commit
// is running or waiting: a lone writer's append is not handed to the
// commit loop and back. Concurrent writers queue for the commit loop,
// which commits them together.
func (l *Ledger) commitAlone(req *request) bool {
	// While writers are concurrent (the commit loop's last group held
	// several) their appends go to the loop, which gathers them into one
	// batch: one taken alone would cost a batch of its own.
	if l.grouped.Load() > 1 || len(l.requests) > 0 || !l.isReady() || !l.committing.TryLock() {
		return false
	}
	defer l.committing.Unlock()
	select {
	case <-l.stop:
		return false
	default:
	}
	if len(l.requests) > 0 {
		return false
	}
	l.commit([]*request{req})
	return true
}

// commitLoop gathers concurrent requests and commits them together.
func (l *Ledger) commitLoop() {
	defer l.wg.Done()
	// Appends are checked against the read model: they wait for it to load.
	select {
	case <-l.rm.ready:
	case <-l.stop:
		l.drain()
		return
	}
	for l.rm.loadErr != nil {
		select {
		case r := <-l.requests:
			r.done <- l.rm.loadErr
		case <-l.stop:
			l.drain()
			return
		}
	}
	last := 0 // how many requests the last commit held
	for {
		var group []*request
		select {
		case r := <-l.requests:
			group = append(group, r)
		case <-l.stop:
			l.drain()
			return
		}
		size := len(group[0].as)
		// Take what is queued. When writers are concurrent (this group or
		// the last held several), wait a little for more to join: an
		// atomic batch costs JetStream about the same for 2 or 32
		// messages, and the writers of the last commit are about to send
		// their next appends. A lone writer is never delayed.
		var timer <-chan time.Time
	gather:
		for size < maxBatch {
			var r *request
			select {
			case r = <-l.requests:
			default:
				// Nor is the window waited out once every append in
				// progress is in the group: no one else can join.
				if l.cfg.GroupWindow <= 0 || len(group) == 1 && last <= 1 || int64(len(group)) >= l.appending.Load() {
					break gather
				}
				if timer == nil {
					timer = time.After(l.cfg.GroupWindow)
				}
				select {
				case r = <-l.requests:
				case <-l.appended:
					continue // one fewer in progress: check again
				case <-timer:
					break gather
				}
			}
			if size+len(r.as) > maxBatch {
				l.committing.Lock()
				l.commit(group)
				l.committing.Unlock()
				group, size = nil, 0
			}
			group = append(group, r)
			size += len(r.as)
		}
		last = len(group)
		l.grouped.Store(int64(last))
		l.committing.Lock()
		l.commit(group)
		l.committing.Unlock()
	}
}

// drain fails the requests still queued when the ledger closes.
func (l *Ledger) drain() {
	for {
		select {
		case r := <-l.requests:
			r.done <- events.Errorf(events.Internal, "ledger is closed")
		default:
			return
		}
	}
}

// commit records a group of requests, retrying when another writer got in
// first. Each request fails or succeeds on its own.
func (l *Ledger) commit(group []*request) {
	live := group
	synced := false
	for attempt := 0; len(live) > 0; attempt++ {
		var accepted []*request
		var fresh []*events.Amendment
		var at map[string]chainPoint
		var refused []refusal
		var kept *projections.Kept
		func() {
			l.rm.mu.RLock()
			defer l.rm.mu.RUnlock()
			accepted, fresh, at, refused, kept = l.prepare(live)
		}()
		if len(refused) > 0 && !synced {
			kept.Abort()
			// The read model may not have yet what another process wrote
			// (the agreement it opened, the version it reached): catch up
			// once and check again before refusing anything.
			synced = true
			ctx, cancel := context.WithTimeout(context.Background(), l.cfg.Timeout)
			err := l.Sync(ctx)
			cancel()
			if err == nil {
				continue
			}
		}
		for _, f := range refused {
			f.r.done <- f.err
		}
		if len(accepted) == 0 {
			kept.Abort()
			return
		}
		progress := func(int) {}
		if len(accepted) == 1 && accepted[0].progress != nil {
			progress = func(n int) { accepted[0].progress(n, len(fresh)) }
		}
		seq, ws, err := l.publish(accepted[0].ctx, fresh, at, progress)
		if err == nil {
			l.faults.clearNoSpace()
			err = l.finish(accepted, seq)
		}
		// Whatever of the batch the read model did not take back from the
		// stream is taken out of the views (nothing, when it was written).
		kept.Abort()
		for _, w := range ws {
			l.rm.forget(w)
		}
		if err != nil && !errors.Is(err, errRetry) {
			var p *partial
			if errors.As(err, &p) && len(accepted) > 1 {
				err = p.err // counts of the group say nothing of each input
			}
			for _, r := range accepted {
				if p != nil && len(accepted) == 1 {
					r.done <- p.explain(r.ids)
					continue
				}
				r.done <- err
			}
			return
		}
		if err == nil {
			return
		}
		if attempt >= 50 {
			for _, r := range accepted {
				r.done <- err
			}
			return
		}
		// Another writer got in first, or an id was already taken: catch up
		// and check again (the retry sees ids now recorded as duplicates).
		ctx, cancel := context.WithTimeout(context.Background(), l.cfg.Timeout)
		if err := l.Sync(ctx); err != nil {
			cancel()
			for _, r := range accepted {
				r.done <- err
			}
			return
		}
		cancel()
		time.Sleep(time.Duration(attempt) * 100 * time.Microsecond)
		live = accepted
	}
}

// refusal is a request prepare refused, and why.
type refusal struct {
	r   *request
	err error
}

// errRetry marks a publish that failed because the stream moved on.
var errRetry = errors.New("retry")

// Error codes JetStream answers a stale optimistic-concurrency check with
// (10164 on clustered streams), and a batch holding an id already stored.
const (
	codeWrongLastSeq         = 10071
	codeWrongLastSeqConstant = 10164
	codeBatchDuplicate       = 10201
)

// publish encodes amendments, chained to the points in at, and writes
// them in atomic batches of at most maxBatch (one plain publish when there
// is one), and returns the last sequence written and what it noted for
// the read model, batch by batch. The next batch is encoded while one is
// in flight.
func (l *Ledger) publish(ctx context.Context, as []*events.Amendment, at map[string]chainPoint, progress func(done int)) (uint64, []map[events.Hash]writing, error) {
	type encoded struct {
		msgs []*nats.Msg
		ws   map[events.Hash]writing
	}
	var take func() encoded
	if len(as) <= maxBatch {
		msgs, ws := l.encode(as, at)
		take = func() encoded { return encoded{msgs, ws} }
	} else {
		ahead := make(chan encoded, 1)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for start := 0; start < len(as); start += maxBatch {
				msgs, ws := l.encode(as[start:min(start+maxBatch, len(as))], at)
				select {
				case ahead <- encoded{msgs, ws}:
				case <-stop:
					return
				}
			}
		}()
		take = func() encoded { return <-ahead }
	}
	var last uint64
	var noted []map[events.Hash]writing
	lastBySubject := map[string]uint64{} // what the batches before wrote
	for start := 0; start < len(as); start += maxBatch {
		if ctx.Err() != nil {
			// Interrupted before this batch: the batches before are
			// recorded, none after.
			return 0, noted, &partial{err: interrupted(), done: start, total: len(as), sure: true}
		}
		enc := take()
		batch := enc.msgs
		if start > 0 {
			// The first message of each agreement in a later batch must
			// follow what the earlier batches wrote.
			fixExpectations(batch, lastBySubject)
		}
		l.rm.expect(enc.ws)
		noted = append(noted, enc.ws)
		seq, err := l.publishBatch(ctx, batch)
		if err != nil {
			if !errors.Is(err, errRetry) {
				// Say how much is recorded, so that the user knows what
				// running the input again will do. A batch refused for
				// want of space was refused whole; one unanswered may have
				// been recorded.
				err = &partial{err: err, done: start, total: len(as), inFlight: len(batch), sure: events.KindOf(err) == events.NoSpace}
			}
			return 0, noted, err
		}
		last = seq
		noteLastSequences(lastBySubject, batch, last)
		progress(start + len(batch))
	}
	return last, noted, nil
}

// noteLastSequences notes in lastBySubject the sequence each agreement's
// last message in batch got: the batch ended at sequence last.
func noteLastSequences(lastBySubject map[string]uint64, batch []*nats.Msg, last uint64) {
	for i, m := range batch {
		lastBySubject[m.Subject] = last - uint64(len(batch)-1-i)
	}
}

// fixExpectations sets, on the first message of each agreement in batch,
// the sequence its last message got in the batches before (lastBySubject).
func fixExpectations(batch []*nats.Msg, lastBySubject map[string]uint64) {
	seen := map[string]bool{}
	for _, m := range batch {
		if seen[m.Subject] {
			m.Header.Del(jetstream.ExpectedLastSubjSeqHeader)
			continue
		}
		seen[m.Subject] = true
		if seq, ok := lastBySubject[m.Subject]; ok {
			m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(seq, 10))
		}
	}
}

func (l *Ledger) publishBatch(ctx context.Context, batch []*nats.Msg) (uint64, error) {
	actx, stop := l.ackContext(ctx)
	defer stop()
	fail := func(err error) error {
		switch context.Cause(actx) {
		case errConnLost:
			return &events.Error{Kind: events.Internal, Message: fmt.Sprintf("the connection to NATS at %s was lost", orEmbedded(l.url))}
		case errInterrupted:
			return interrupted()
		}
		return l.classify(err)
	}
	if len(batch) == 1 {
		ack, err := l.js.PublishMsg(actx, batch[0])
		if err != nil {
			return 0, fail(err)
		}
		if ack.Duplicate {
			// Stored before, under the same id: the retry sees it and reports it.
			if err := l.rm.waitFor(actx, ack.Sequence, l.cfg.Timeout); err != nil {
				return 0, err
			}
			return 0, errRetry
		}
		return ack.Sequence, nil
	}
	if err := l.room(actx, batch); err != nil {
		return 0, err
	}
	id := ulid.Make().String()
	for i, m := range batch {
		m.Header.Set("Nats-Batch-Id", id)
		m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i+1))
		if i == len(batch)-1 {
			m.Header.Set("Nats-Batch-Commit", "1")
			break
		}
		if err := l.nc.PublishMsg(m); err != nil {
			return 0, unavailable("publishing a batch", err)
		}
	}
	ack, err := l.js.PublishMsg(actx, batch[len(batch)-1])
	if err != nil {
		return 0, fail(err)
	}
	return ack.Sequence, nil
}

// interrupted is the error of an append whose caller gave up (SIGINT,
// SIGTERM): its batch in flight was not acknowledged within interruptGrace.
func interrupted() error {
	return &events.Error{Kind: events.Internal, Message: "interrupted"}
}

// classify turns a publish error into errRetry (the stream moved on under
// us), or an error a user can act on.
func (l *Ledger) classify(err error) error {
	for _, code := range []jetstream.ErrorCode{codeWrongLastSeq, codeWrongLastSeqConstant, codeBatchDuplicate} {
		if errors.Is(err, &jetstream.APIError{ErrorCode: code}) {
			return errRetry
		}
	}
	if e := l.noSpace(err); e != nil {
		return e
	}
	return unavailable("appending", err)
}

// Error codes of JetStream out of room: the server's store limit (its
// default is three quarters of the disk's free space when it started) or
// the account's.
const (
	codeInsufficientResources = 10023
	codeStorageExceeded       = 10047
)

// noSpace returns the error of a publish refused for want of space, or
// nil. JetStream refuses the whole atomic batch, so nothing of it was
// written; the ledger remembers it for Health until an append succeeds.
func (l *Ledger) noSpace(err error) error {
	var api *jetstream.APIError
	if !errors.As(err, &api) || api.ErrorCode != codeInsufficientResources && api.ErrorCode != codeStorageExceeded {
		return nil
	}
	return l.outOfSpace(api.Description, "")
}

// outOfSpace is the error of an input refused for want of space; detail,
// if any, says how much there is.
func (l *Ledger) outOfSpace(reason, detail string) error {
	where := "the store at " + l.cfg.DataDir
	if l.cfg.URL != "" {
		where = "the NATS server at " + l.cfg.URL
	}
	msg := fmt.Sprintf("%s is out of space (JetStream: %s)", where, reason)
	l.faults.setNoSpace(msg)
	if detail != "" {
		detail = " (" + detail + ")"
	}
	return &events.Error{Kind: events.NoSpace, Message: msg + nothingRecorded + "; free space" + detail + ", or raise --max-store, and run it again"}
}

// room refuses an atomic batch the store has no room for. JetStream
// (nats-server 2.15) checks its store limit on each message as an R1
// stream commits a batch: a batch that crosses the limit is stored in
// part, and its commit never answered. So the ledger checks first,
// against the embedded server's limit and usage, or the account's limit
// on an external server. Concurrent writers can still cross it together;
// what is stored then is whole amendments, each once (ids), chained.
func (l *Ledger) room(ctx context.Context, batch []*nats.Msg) error {
	need := int64(0)
	for _, m := range batch {
		need += int64(len(m.Subject)+len(m.Data)) + 64
		for k, vs := range m.Header {
			for _, v := range vs {
				need += int64(len(k) + len(v) + 4)
			}
		}
	}
	used, limit, err := l.space.usage(ctx, l, need)
	if err != nil {
		return nil // JetStream answers for itself
	}
	if limit > 0 && used > limit {
		return l.outOfSpace("insufficient resources", fmt.Sprintf("%d bytes used of %d; a batch of %d amendments needs about %d more", used-need, limit, len(batch), need))
	}
	return nil
}

// spaceSeen is the store's usage and limit as last asked, and what the
// ledger wrote since: asking costs a round trip (the account's, on an
// external server), so a batch far from the limit is let through on what
// was seen, for a second at most, or until the ledger writes a snapshot.
type spaceSeen struct {
	mu                 sync.Mutex
	at                 time.Time
	used, limit, since int64
}

// forget makes the next batch ask again.
func (s *spaceSeen) forget() {
	s.mu.Lock()
	s.at = time.Time{}
	s.mu.Unlock()
}

// spaceFresh is how long a usage seen is used; spaceMargin the part of the
// limit below which it is.
const (
	spaceFresh  = time.Second
	spaceMargin = 10
)

// usage returns the store's usage, counting need as written, and its limit.
func (s *spaceSeen) usage(ctx context.Context, l *Ledger, need int64) (used, limit int64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Since(s.at) < spaceFresh && (s.limit <= 0 || s.used+s.since+need < s.limit-s.limit/spaceMargin) {
		s.since += need
		return s.used + s.since, s.limit, nil
	}
	if l.emb != nil {
		info, err := l.emb.srv.Jsz(nil)
		if err != nil {
			return 0, 0, err
		}
		used, limit = int64(info.Store), info.Config.MaxStore
	} else {
		ai, err := l.js.AccountInfo(ctx)
		if err != nil {
			return 0, 0, err
		}
		used, limit = int64(ai.Store), ai.Limits.MaxStore
	}
	s.at, s.used, s.limit, s.since = time.Now(), used, limit, need
	return used + need, limit, nil
}

// nothingRecorded is what an error says when none of the input was.
const nothingRecorded = "; nothing of this input was recorded"

// partial is a publish that failed after done of total amendments were
// recorded, in whole batches. The batch in flight (inFlight amendments)
// was refused whole when sure, else it may have been recorded too.
type partial struct {
	err         error
	done, total int
	inFlight    int
	sure        bool
}

func (p *partial) Error() string { return p.err.Error() }
func (p *partial) Unwrap() error { return p.err }

// explain says what err, a publish's failure, left recorded of r's input
// and what running it again does. ids says whether the input carried its
// amendments' ids: without them, the ledger assigned new ones, and a run
// again would record what was recorded a second time.
func (p *partial) explain(ids bool) error {
	if p.done == 0 && p.sure {
		if strings.Contains(p.err.Error(), nothingRecorded) {
			return p.err
		}
		return &events.Error{Kind: events.KindOf(p.err), Message: p.err.Error() + nothingRecorded}
	}
	var msg strings.Builder
	base := p.err
	var e *events.Error
	kind := events.KindOf(base)
	if errors.As(base, &e) {
		msg.WriteString(e.Message)
	} else {
		msg.WriteString(base.Error())
	}
	maybe := ""
	if !p.sure && p.inFlight > 0 {
		maybe = fmt.Sprintf(" (and perhaps the batch in flight, amendments %d-%d)", p.done+1, p.done+p.inFlight)
	}
	var what string
	if p.done == 0 {
		what = fmt.Sprintf("; none of the %d amendments of this input is acknowledged%s", p.total, maybe)
	} else {
		what = fmt.Sprintf("; %d of the %d amendments of this input were recorded, in whole batches%s, and no more", p.done, p.total, maybe)
	}
	text := msg.String()
	if strings.Contains(text, nothingRecorded) {
		text = strings.Replace(text, nothingRecorded, what, 1)
	} else {
		text += what
	}
	msg.Reset()
	msg.WriteString(text)
	recorded := p.done > 0 || !p.sure
	switch {
	case ids && recorded:
		msg.WriteString("; running the same input again records the rest exactly once")
	case ids:
		msg.WriteString("; run it again when the store can take it")
	case p.done > 0:
		fmt.Fprintf(&msg, "; the input carries no ids, so running it again would record the first %d again (and the batch in flight, if it was recorded): give each amendment an id, or run only those that ledger history does not show", p.done)
	case recorded:
		msg.WriteString("; the input carries no ids: before running it again, check with ledger history whether the batch in flight was recorded, or give each amendment an id")
	}
	return &events.Error{Kind: kind, Message: msg.String()}
}

// finish waits until the read model has the committed amendments, then
// answers each request. When the read model does not get there, it answers
// none of them and returns why.
func (l *Ledger) finish(accepted []*request, seq uint64) error {
	if err := l.rm.waitFor(context.Background(), seq, l.cfg.Timeout); err != nil {
		return err
	}
	l.rm.mu.RLock()
	defer l.rm.mu.RUnlock()
	for _, r := range accepted {
		r.done <- r.collect(l.rm.ix)
	}
	return nil
}

// collect fills the result with every amendment of the request, in input order.
func (r *request) collect(ix *projections.Index) error {
	dup := map[string]bool{}
	for _, a := range r.res.Appended {
		dup[a.ID] = true
	}
	r.res.Appended = r.res.Appended[:0]
	for _, a := range r.as {
		rec := ix.Lookup(a.ID)
		if rec == nil {
			return events.Errorf(events.Internal, "amendment %s was acknowledged but the read model skipped it (see ledger verify)", a.ID)
		}
		r.res.Appended = append(r.res.Appended, Appended{ID: a.ID.String(), Agreement: a.Agreement, Version: rec.Version, Seq: rec.Seq, Duplicate: dup[a.ID.String()]})
	}
	return nil
}
