package ledger

import (
	"context"
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
	ids      bool // the input carried every amendment's id
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
	l.appending.Add(1)
	defer func() {
		l.appending.Add(-1)
		select {
		case l.appended <- struct{}{}:
		default:
		}
	}()
	ids := true // every amendment came with its id: running the input again is safe
	for _, a := range as {
		if a.ID == (ulid.ULID{}) {
			a.ID, ids = ulid.Make(), false
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
	req := &request{ctx: ctx, as: as, ids: ids, expect: opts.ExpectVersion, progress: opts.Progress, done: make(chan error, 1)}
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
		// The commit loop stops the request before its next batch, or
		// abandons its batch in flight within interruptGrace, and answers
		// what was recorded.
		select {
		case err := <-req.done:
			if err != nil {
				return nil, err
			}
			return req.res, nil
		case <-time.After(interruptGrace + 500*time.Millisecond):
		}
		return nil, fmt.Errorf("ledger: append: %w (the amendments may still be recorded; appending them again with the same ids is safe)", ctx.Err())
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
	if err := l.rm.refuseDamaged(as); err != nil {
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
	if err := l.rm.refuseDamaged(as); err != nil {
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

// prepare checks each request after the ones before it, refusing those that
// do not pass, and returns the amendments of the rest in order, with the
// points their agreements chain to (publish encodes them). What passes is
// kept applied to the read model's views (the index holds it tentatively
// until the stream hands it back). A request whose context has ended is
// answered at once.
func (l *Ledger) prepare(group []*request) ([]*request, []*events.Amendment, map[string]chainPoint, []refusal, *projections.Kept) {
	ix := l.rm.ix
	var live []*request
	var refused []refusal
	for _, r := range group {
		if r.ctx.Err() != nil {
			r.done <- &events.Error{Kind: events.Internal, Message: "interrupted" + nothingRecorded, Err: r.ctx.Err()}
			continue
		}
		if err := l.rm.damagedIn(r.as); err != nil {
			refused = append(refused, refusal{r, err})
			continue
		}
		r.res = &AppendResult{Appended: []Appended{}}
		live = append(live, r)
	}
	var accepted []*request
	var kept *projections.Kept
	if ownAgreements(live) {
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
	at := map[string]chainPoint{}
	for _, a := range fresh {
		if _, ok := at[a.Agreement]; ok {
			continue
		}
		var p chainPoint
		if h := ix.Head(a.Agreement); h != nil {
			p.head = h.Hash
		}
		p.seq = l.rm.subjects[a.Agreement]
		at[a.Agreement] = p
	}
	return accepted, fresh, at, refused, kept
}

// chainPoint is where an agreement's next message chains: the hash of its
// last amendment, and the stream sequence of its subject's last message
// (which the message expects, so that a write by another process since
// fails).
type chainPoint struct {
	head events.Hash
	seq  uint64
}

// encode encodes amendments, in order, as the messages that write them,
// each chained to its agreement's point in at (which it moves on), and
// notes for the read model what each message holds. The first message of
// each agreement expects its subject's last sequence.
func (l *Ledger) encode(as []*events.Amendment, at map[string]chainPoint) ([]*nats.Msg, map[events.Hash]writing) {
	msgs := make([]*nats.Msg, 0, len(as))
	ws := make(map[events.Hash]writing, len(as))
	expected := map[string]bool{}
	for _, a := range as {
		p := at[a.Agreement]
		data, err := events.Encode(a, p.head)
		if err != nil {
			panic(err) // every amendment here has an id
		}
		h := events.Sum(data)
		ws[h] = writing{a, p.head}
		m := nats.NewMsg(l.cfg.Subject + "." + a.Agreement)
		m.Data = data
		m.Header.Set(jetstream.MsgIDHeader, a.ID.String())
		setSelfDescribing(m.Header, p.head)
		if !expected[a.Agreement] {
			expected[a.Agreement] = true
			m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(p.seq, 10))
		}
		msgs = append(msgs, m)
		p.head = h
		at[a.Agreement] = p
	}
	return msgs, ws
}

// ownAgreements reports whether no two requests name the same agreement.
func ownAgreements(rs []*request) bool {
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
