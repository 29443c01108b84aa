package ledger

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/oklog/ulid/v2"
)

// maxBatch is JetStream's largest atomic batch (MaxBatchSize's default).
const maxBatch = 1000

// AppendOptions modify an Append.
type AppendOptions struct {
	// ExpectVersion, when set, is the version the agreement must be at (0 for
	// an agreement not yet recorded); otherwise the append is a conflict.
	// It applies to input for a single agreement.
	ExpectVersion *uint64
	// DryRun checks the amendments and reports what they would change,
	// writing nothing.
	DryRun bool
	// Progress, if set, is called after each atomic batch is written with
	// the number of amendments written so far and the total.
	Progress func(done, total int)
}

// AppendResult is what an Append did.
type AppendResult struct {
	Appended  []Appended             `json:"appended"`          // in input order
	Conflicts []projections.Conflict `json:"conflicts"`         // conflicts the amendments introduced
	Effects   []projections.Effect   `json:"effects,omitempty"` // dry run: how each would change its agreement
	DryRun    bool                   `json:"dry_run,omitempty"`
}

// Appended is one amendment an Append recorded (or found recorded).
type Appended struct {
	ID        string `json:"id"`
	Agreement string `json:"agreement"`
	Version   uint64 `json:"version"`
	Seq       uint64 `json:"seq,omitempty"`
	Duplicate bool   `json:"duplicate,omitempty"` // the same amendment was already recorded
}

// request is one Append waiting for the commit loop.
type request struct {
	ctx      context.Context
	as       []*events.Amendment
	expect   *uint64
	progress func(done, total int)
	done     chan error
	res      *AppendResult
	fresh    []*events.Amendment // those not already recorded
}

// Append records amendments: checked against the history they join,
// chained to their agreements' last amendments, and written durably. An
// amendment whose id is already recorded with the same content is not
// written again (it is reported as a duplicate); with other content it is
// an error. When the method returns, queries see the amendments.
func (l *Ledger) Append(ctx context.Context, as []*events.Amendment, opts AppendOptions) (*AppendResult, error) {
	if len(as) == 0 {
		return nil, events.Errorf(events.Invalid, "nothing to append")
	}
	for _, a := range as {
		if a.ID == (ulid.ULID{}) {
			a.ID = ulid.Make()
		}
	}
	// From here on the ledger works on its own copies, read back as the
	// read model will read them: an amendment built in code with a bad
	// field is refused here, never written.
	as, err := events.Check(as)
	if err != nil {
		return nil, err
	}
	if opts.ExpectVersion != nil {
		for _, a := range as[1:] {
			if a.Agreement != as[0].Agreement {
				return nil, &events.Error{Kind: events.Invalid, Message: "an expected version applies to one agreement", Fields: []events.FieldError{{Path: "agreement", Message: fmt.Sprintf("the input names %s and %s", as[0].Agreement, a.Agreement)}}}
			}
		}
	}
	if opts.DryRun {
		return l.dryRun(as, opts)
	}
	req := &request{ctx: ctx, as: as, expect: opts.ExpectVersion, progress: opts.Progress, done: make(chan error, 1)}
	l.startLoad() // appends are checked against the whole read model
	if l.commitAlone(req) {
		if err := <-req.done; err != nil {
			return nil, err
		}
		return req.res, nil
	}
	select {
	case l.requests <- req:
	case <-l.stop:
		return nil, events.Errorf(events.Internal, "ledger is closed")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case err := <-req.done:
		if err != nil {
			return nil, err
		}
		return req.res, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("ledger: append: %w (the amendments may still be recorded; appending them again is safe)", ctx.Err())
	case <-l.stop:
		// Closing: the commit loop answers the requests it took before it
		// stops; one queued after it stopped is never taken.
		l.wg.Wait()
		select {
		case err := <-req.done:
			if err != nil {
				return nil, err
			}
			return req.res, nil
		default:
			return nil, events.Errorf(events.Internal, "ledger is closed")
		}
	}
}

// Validate checks amendments against the history they would join, writing
// nothing: what Append would refuse, Validate reports.
func (l *Ledger) Validate(as []*events.Amendment) error {
	as, err := events.Check(as)
	if err != nil {
		return err
	}
	if err := l.loaded(); err != nil {
		return err
	}
	var res AppendResult
	fresh, err := partition(l.rm.ix, as, &res)
	if err != nil {
		return err
	}
	return l.rm.ix.Validate(fresh)
}

func (l *Ledger) dryRun(as []*events.Amendment, opts AppendOptions) (*AppendResult, error) {
	if err := l.loaded(); err != nil {
		return nil, err
	}
	// Not under the read model's lock: a dry run waits for a batch being
	// written to be resolved, which the read model does (see Kept).
	res := &AppendResult{DryRun: true, Appended: []Appended{}}
	fresh, err := partition(l.rm.ix, as, res)
	if err != nil {
		return nil, err
	}
	if err := checkVersion(l.rm.ix, as, opts.ExpectVersion, nil); err != nil {
		return nil, err
	}
	pv, err := l.rm.ix.Preview(fresh)
	if err != nil {
		return nil, err
	}
	res.Conflicts, res.Effects = pv.Conflicts, pv.Effects
	return res, nil
}

// partition splits amendments into those not yet recorded and those already
// recorded (reported in res as duplicates). An id recorded with different
// content is an error.
func partition(ix *projections.Index, as []*events.Amendment, res *AppendResult) ([]*events.Amendment, error) {
	var fresh []*events.Amendment
	var p events.Problems
	for i, a := range as {
		r := ix.Lookup(a.ID)
		if r == nil {
			fresh = append(fresh, a)
			continue
		}
		if r.Agreement != a.Agreement || r.ContentHash() != a.ContentHash() {
			path := "id"
			if len(as) > 1 {
				path = fmt.Sprintf("[%d].id", i)
			}
			p.Add(path, "amendment %s is already recorded (%s version %d) with different content; an id names one amendment forever", a.ID, r.Agreement, r.Version)
			continue
		}
		res.Appended = append(res.Appended, Appended{ID: a.ID.String(), Agreement: r.Agreement, Version: r.Version, Seq: r.Seq, Duplicate: true})
	}
	return fresh, p.Err("invalid amendment")
}

// checkVersion checks an expected version against the index, counting
// amendments of the same commit gathered before this request.
func checkVersion(ix *projections.Index, as []*events.Amendment, expect *uint64, before map[string]uint64) error {
	if expect == nil {
		return nil
	}
	name := as[0].Agreement
	var have uint64
	if head := ix.Head(name); head != nil {
		have = head.Version
	}
	have += before[name]
	if have != *expect {
		return &events.Error{Kind: events.Conflict, Message: fmt.Sprintf("agreement %s is at version %d, not the expected %d; read it again and retry", name, have, *expect)}
	}
	return nil
}

// commitAlone commits req in the caller's goroutine when no other commit
// is running or waiting: a lone writer's append is not handed to the
// commit loop and back. Concurrent writers queue for the commit loop,
// which commits them together.
func (l *Ledger) commitAlone(req *request) bool {
	if len(l.requests) > 0 || !l.isReady() || !l.committing.TryLock() {
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
				if timer == nil {
					if l.cfg.GroupWindow <= 0 || len(group) == 1 && last <= 1 {
						break gather
					}
					timer = time.After(l.cfg.GroupWindow)
				}
				select {
				case r = <-l.requests:
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
		var msgs []*nats.Msg
		var refused []refusal
		var ws map[events.Hash]writing
		var kept *projections.Kept
		func() {
			l.rm.mu.RLock()
			defer l.rm.mu.RUnlock()
			accepted, msgs, ws, refused, kept = l.prepare(live)
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
			progress = func(n int) { accepted[0].progress(n, len(msgs)) }
		}
		l.rm.expect(ws)
		seq, err := l.publish(accepted[0].ctx, msgs, progress)
		if err == nil {
			err = l.finish(accepted, seq)
		}
		// Whatever of the batch the read model did not take back from the
		// stream is taken out of the views (nothing, when it was written).
		kept.Abort()
		l.rm.forget(ws)
		if err != nil && !errors.Is(err, errRetry) {
			for _, r := range accepted {
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

// prepare checks each request after the ones before it, refusing those that
// do not pass, and encodes the rest as messages chained to their agreements.
// What passes is kept applied to the read model's views (the index holds
// it tentatively until the stream hands it back). A request whose context
// has ended is answered at once.
func (l *Ledger) prepare(group []*request) ([]*request, []*nats.Msg, map[events.Hash]writing, []refusal, *projections.Kept) {
	ix := l.rm.ix
	var live []*request
	for _, r := range group {
		if r.ctx.Err() != nil {
			r.done <- r.ctx.Err()
			continue
		}
		r.res = &AppendResult{Appended: []Appended{}}
		live = append(live, r)
	}
	var accepted []*request
	var refused []refusal
	var kept *projections.Kept
	if apart(live) {
		// Concurrent writers on agreements of their own: checked together.
		var checked []*request
		var freshes [][]*events.Amendment
		for _, r := range live {
			fresh, err := partition(ix, r.as, r.res)
			if err == nil {
				err = checkVersion(ix, r.as, r.expect, nil)
			}
			if err != nil {
				refused = append(refused, refusal{r, err})
				continue
			}
			r.fresh = fresh
			checked, freshes = append(checked, r), append(freshes, fresh)
		}
		conflicts, errs, held := ix.Hold(freshes)
		kept = held
		for i, r := range checked {
			if errs[i] != nil {
				refused = append(refused, refusal{r, errs[i]})
				continue
			}
			if len(r.fresh) > 0 {
				r.res.Conflicts = conflicts[i]
			}
			accepted = append(accepted, r)
		}
	} else {
		// Each after those before it that pass: a version expected by one
		// counts what those before it append to its agreement.
		var prior []*events.Amendment
		count := map[string]uint64{}
		for _, r := range live {
			fresh, err := partition(ix, r.as, r.res)
			if err == nil {
				err = checkVersion(ix, r.as, r.expect, count)
			}
			if err == nil && len(fresh) > 0 {
				r.res.Conflicts, err = ix.Introduces(prior, fresh)
			}
			if err != nil {
				refused = append(refused, refusal{r, err})
				continue
			}
			r.fresh = fresh
			for _, a := range fresh {
				count[a.Agreement]++
			}
			prior = append(prior, fresh...)
			accepted = append(accepted, r)
		}
		if len(prior) > 0 {
			var err error
			if kept, err = ix.Keep(prior); err != nil {
				// Each passed after the ones before it: together they pass.
				for _, r := range accepted {
					refused = append(refused, refusal{r, err})
				}
				accepted = nil
			}
		}
	}
	var fresh []*events.Amendment
	for _, r := range accepted {
		fresh = append(fresh, r.fresh...)
	}
	heads := map[string]events.Hash{}
	expect := map[string]uint64{}
	var msgs []*nats.Msg
	ws := make(map[events.Hash]writing, len(fresh))
	for _, a := range fresh {
		prev, ok := heads[a.Agreement]
		if !ok {
			if h := ix.Head(a.Agreement); h != nil {
				prev = h.Hash
			}
		}
		data, err := events.Encode(a, prev)
		if err != nil {
			panic(err) // every amendment here has an id
		}
		h := events.Sum(data)
		heads[a.Agreement] = h
		ws[h] = writing{a, prev}
		m := nats.NewMsg(l.cfg.Subject + "." + a.Agreement)
		m.Data = data
		m.Header.Set(jetstream.MsgIDHeader, a.ID.String())
		if _, seen := expect[a.Agreement]; !seen {
			expect[a.Agreement] = l.rm.subjects[a.Agreement]
			m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(expect[a.Agreement], 10))
		}
		msgs = append(msgs, m)
	}
	return accepted, msgs, ws, refused, kept
}

// apart reports whether no two requests name the same agreement.
func apart(rs []*request) bool {
	owner := map[string]*request{}
	for _, r := range rs {
		for _, a := range r.as {
			if o, ok := owner[a.Agreement]; ok && o != r {
				return false
			}
			owner[a.Agreement] = r
		}
	}
	return true
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

// publish writes msgs in atomic batches of at most maxBatch (one plain
// publish when there is one message) and returns the last sequence written.
func (l *Ledger) publish(ctx context.Context, msgs []*nats.Msg, progress func(done int)) (uint64, error) {
	var last uint64
	lastBySubject := map[string]uint64{} // what the batches before wrote
	for start := 0; start < len(msgs); start += maxBatch {
		batch := msgs[start:min(start+maxBatch, len(msgs))]
		if start > 0 {
			// The first message of each agreement in a later batch must
			// follow what the earlier batches wrote.
			fixExpectations(batch, lastBySubject)
		}
		seq, err := l.publishBatch(ctx, batch)
		if err != nil {
			return 0, err
		}
		last = seq
		written(lastBySubject, batch, last)
		progress(start + len(batch))
	}
	return last, nil
}

// written notes in lastBySubject the sequence each agreement's last message
// in batch got: the batch ended at sequence last.
func written(lastBySubject map[string]uint64, batch []*nats.Msg, last uint64) {
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
	ctx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	defer cancel()
	if len(batch) == 1 {
		ack, err := l.js.PublishMsg(ctx, batch[0])
		if err != nil {
			return 0, classify(err)
		}
		if ack.Duplicate {
			// Stored before, under the same id: the retry sees it and reports it.
			if err := l.rm.waitFor(ctx, ack.Sequence, l.cfg.Timeout); err != nil {
				return 0, err
			}
			return 0, errRetry
		}
		return ack.Sequence, nil
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
	ack, err := l.js.PublishMsg(ctx, batch[len(batch)-1])
	if err != nil {
		return 0, classify(err)
	}
	return ack.Sequence, nil
}

// classify turns a publish error into errRetry (the stream moved on under
// us), or an error a user can act on.
func classify(err error) error {
	for _, code := range []jetstream.ErrorCode{codeWrongLastSeq, codeWrongLastSeqConstant, codeBatchDuplicate} {
		if errors.Is(err, &jetstream.APIError{ErrorCode: code}) {
			return errRetry
		}
	}
	return unavailable("appending", err)
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
