package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/oklog/ulid/v2"
)

// Ledger is an open agreement ledger.
type Ledger struct {
	cfg      Config
	emb      *embedded // nil when connected to an external server
	nc       *nats.Conn
	js       jetstream.JetStream
	stream   jetstream.Stream // the stream, looked up once (catching up asks it for its last message)
	feed     *nats.Conn       // the read model's connection (see connect)
	feedJS   jetstream.JetStream
	rm       *readModel
	consMu   sync.Mutex // guards consumer and unfollow, which the watch loop replaces
	consumer jetstream.ConsumeContext
	unfollow context.CancelFunc // stops the read model's applier
	requests chan *request
	// committing is held by whoever commits: the commit loop, or a lone
	// writer committing its own append (commitAlone).
	committing sync.Mutex
	grouped    atomic.Int64  // requests in the commit loop's last group
	appending  atomic.Int64  // calls of Append in progress
	appended   chan struct{} // a call of Append ended (the commit loop checks appending again)
	space      spaceSeen     // the store's usage, for room
	stop       chan struct{}
	wg         sync.WaitGroup
	loading    context.CancelFunc // stops the initial load
	lctx       context.Context    // the initial load's
	loadOnce   sync.Once          // starts it (see Config.Lazy)
	loadMu     sync.Mutex         // orders starting it and Close
	closed     sync.Once
	snaps      *snapshots
	dense      bool // the stream holds only the agreements' subjects (see damage.go)
	faults     faults
	watch      *connWatch // the writers' connection (see conn.go)
	url        string     // the server connected to: cfg.URL, or the one sharing DataDir
}

// Open starts (or connects to) JetStream, makes sure the stream exists and
// is safe, and starts loading the read model (from the latest snapshot,
// then the stream) and following the stream. When another ledger process
// holds cfg.DataDir and listens, Open connects through it instead.
//
// Open does not wait for the read model. Until it has loaded, a query about
// one agreement (State, History, Timeline, Diff) is answered from that
// agreement's own messages on the stream, which are all it depends on;
// every other call waits for the load. Ready waits for it too.
func Open(ctx context.Context, cfg Config) (*Ledger, error) {
	cfg = cfg.withDefaults()
	l := &Ledger{cfg: cfg, rm: newReadModel(cfg.Subject, cfg.Logger), requests: make(chan *request, 1024), appended: make(chan struct{}, 1), stop: make(chan struct{}), watch: newConnWatch()}
	if err := l.connect(); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			l.shutdown()
		}
	}()
	octx, cancel := context.WithTimeout(ctx, 4*cfg.Timeout)
	defer cancel()
	if err := l.waitForJetStream(octx); err != nil {
		return nil, err
	}
	var err error
	if l.stream, err = ensureStream(octx, l.js, cfg); err != nil {
		return nil, err
	}
	// A stream of the agreements' subjects alone delivers every sequence
	// to the read model: one never delivered could not be read.
	subjects := l.stream.CachedInfo().Config.Subjects
	l.dense = len(subjects) == 1 && subjects[0] == cfg.Subject+".*"
	l.rm.dmg.dense = l.dense
	if l.snaps, err = openSnapshots(octx, l.js, cfg); err != nil {
		return nil, err
	}
	l.lctx, l.loading = context.WithCancel(context.Background())
	l.wg.Add(3)
	go l.commitLoop()
	go l.snapshotLoop()
	go l.watchLoop()
	if !cfg.Lazy {
		l.startLoad()
	}
	ok = true
	return l, nil
}

// startLoad starts loading the read model, once; not after Close.
func (l *Ledger) startLoad() {
	l.loadOnce.Do(func() {
		l.loadMu.Lock()
		defer l.loadMu.Unlock()
		select {
		case <-l.stop:
			return
		default:
		}
		l.wg.Add(1)
		go l.load(l.lctx)
	})
}

// load loads the read model: the latest snapshot, then the stream from
// where it ends, up to what the stream holds now. It closes rm.ready when
// done, with rm.loadErr set if JetStream did not let it finish.
func (l *Ledger) load(ctx context.Context) {
	defer l.wg.Done()
	defer close(l.rm.ready)
	fail := func(err error) {
		if ctx.Err() != nil {
			l.rm.loadErr = events.Errorf(events.Internal, "ledger is closed")
			return // closed while loading: nothing went wrong
		}
		l.rm.loadErr = err
		l.cfg.Logger.Error("the read model could not be loaded", "err", err)
	}
	if holdLoad != nil {
		holdLoad(ctx)
	}
	// What the stream holds now is filed as it comes and folded once, at
	// the end, on every core.
	l.rm.ix.Defer()
	var holes func(ctx context.Context, from, to uint64) (uint64, error)
	if l.dense {
		holes = l.firstHole
	}
	from := l.snaps.load(ctx, l.rm, l.js, holes)
	if ctx.Err() != nil {
		fail(ctx.Err())
		return
	}
	follow, unfollow := context.WithCancel(context.Background())
	cons, err := l.rm.follow(follow, l.feedJS, l.cfg.Stream, from)
	if err != nil {
		unfollow()
		fail(err)
		return
	}
	l.consMu.Lock()
	l.consumer, l.unfollow = cons, unfollow
	l.consMu.Unlock()
	if err := l.catchUp(ctx); err != nil {
		fail(err)
		return
	}
	l.rm.ix.Fold()
}

// holdLoad, set only by tests, is called as the load starts and may block
// to keep the read model loading.
var holdLoad func(ctx context.Context)

// Ready waits until the read model has loaded what the stream held when
// the ledger opened.
func (l *Ledger) Ready(ctx context.Context) error {
	l.startLoad()
	select {
	case <-l.rm.ready:
		return l.rm.loadErr
	case <-l.stop:
		return events.Errorf(events.Internal, "ledger is closed")
	case <-ctx.Done():
		return fmt.Errorf("ledger: waiting for the read model to load: %w", ctx.Err())
	}
}

// loaded waits for the read model to load, for calls that take no context.
func (l *Ledger) loaded() error { return l.Ready(context.Background()) }

// snapshotLoop writes a snapshot whenever enough has been recorded.
func (l *Ledger) snapshotLoop() {
	defer l.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
			if !l.isReady() {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*l.cfg.Timeout)
			if l.snaps.write(ctx, l.rm, false) {
				l.space.forget() // the snapshot took room
			}
			cancel()
		}
	}
}

// watchLoop gives the read model a new consumer when a waiter finds it
// stuck: the stream has what the waiter wants, but nothing arrives (the
// server holding the consumer died and the consumer has not recovered).
func (l *Ledger) watchLoop() {
	defer l.wg.Done()
	var last time.Time
	for {
		var want uint64
		select {
		case <-l.stop:
			return
		case want = <-l.rm.stuck:
		}
		l.rm.mu.RLock()
		from, idle := l.rm.applied, time.Since(l.rm.moved)
		l.rm.mu.RUnlock()
		if from >= want || idle < nudgeAfter || time.Since(last) < 2*nudgeAfter {
			continue
		}
		last = time.Now()
		l.refollow(from)
	}
}

// refollow replaces the read model's consumer with one that starts after
// sequence from. What the old one still applies is skipped by the new one,
// and the other way round: apply ignores sequences it has applied.
func (l *Ledger) refollow(from uint64) {
	follow, unfollow := context.WithCancel(context.Background())
	// Creating the consumer is one request, bounded by JetStream's API
	// timeout (follow has no deadline); follow then lives as long as the
	// consumer.
	cons, err := l.rm.follow(follow, l.feedJS, l.cfg.Stream, from)
	if err != nil {
		unfollow()
		l.cfg.Logger.Warn("the read model is stuck and a new consumer could not be created; trying again when it is needed", "applied", from, "err", err)
		return
	}
	l.cfg.Logger.Info("the read model was stuck: following the stream with a new consumer", "applied", from)
	l.consMu.Lock()
	oldCons, oldUnfollow := l.consumer, l.unfollow
	l.consumer, l.unfollow = cons, unfollow
	l.consMu.Unlock()
	if oldCons != nil {
		oldCons.Stop()
		oldUnfollow()
	}
}

func (l *Ledger) connect() error {
	cfg := l.cfg
	url := cfg.URL
	if url == "" {
		emb, err := startEmbedded(cfg)
		switch {
		case errors.Is(err, errInUse):
			if url, err = sharedURL(cfg.DataDir); err != nil {
				return err
			}
			cfg.Logger.Info("data directory is held by another ledger process; connecting through it", "url", url)
		case err != nil:
			return err
		default:
			l.emb = emb
		}
	}
	l.url = url
	dial := func(name string) (*nats.Conn, jetstream.JetStream, error) {
		opts := append(connectOptions(cfg), nats.Name(name))
		if name == writers {
			opts = append(opts,
				nats.DisconnectErrHandler(func(*nats.Conn, error) { l.watch.down() }),
				nats.ReconnectHandler(func(*nats.Conn) { l.watch.up() }),
				nats.ClosedHandler(func(*nats.Conn) { l.watch.closed() }))
		}
		var nc *nats.Conn
		var err error
		if l.emb != nil {
			nc, err = nats.Connect("", append(opts, nats.InProcessServer(l.emb.srv))...)
		} else {
			nc, err = nats.Connect(url, opts...)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("ledger: connecting to NATS at %s: %w", orEmbedded(url), err)
		}
		js, err := jetstream.New(nc)
		return nc, js, err
	}
	// The read model follows the stream on a connection of its own: on the
	// writers' connection, an append's acknowledgement would wait behind the
	// messages delivered to the read model (a large import's among them).
	var err error
	if l.nc, l.js, err = dial(writers); err == nil {
		l.feed, l.feedJS, err = dial("agreement-ledger read model")
	}
	if err != nil {
		l.shutdown()
	}
	return err
}

// writers names the writers' connection.
const writers = "agreement-ledger"

func orEmbedded(url string) string {
	if url == "" {
		return "the embedded server"
	}
	return url
}

// waitForJetStream waits until JetStream answers (a fresh cluster takes a
// few seconds to elect a meta leader).
func (l *Ledger) waitForJetStream(ctx context.Context) error {
	for {
		// Each try has its own short deadline: a server that has no meta
		// leader yet does not answer at all, and a try bounded only by ctx
		// would spend the whole wait on the first request.
		tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := l.js.AccountInfo(tctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("ledger: JetStream is not available: %w", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Close stops appending, writes a snapshot (if the read model has loaded
// and the server is there), and shuts down the connection and the embedded
// server.
func (l *Ledger) Close() error { return l.close(true) }

// CloseNow is Close without the snapshot: for a command interrupted
// (SIGINT, SIGTERM), which should stop at once, however large the store.
func (l *Ledger) CloseNow() error { return l.close(false) }

func (l *Ledger) close(snapshot bool) error {
	l.closed.Do(func() {
		l.loadMu.Lock()
		close(l.stop)
		l.loadMu.Unlock()
		if l.loading != nil {
			l.loading()
		}
		l.wg.Wait()
		l.committing.Lock() // a lone writer's commit ends; none starts
		defer l.committing.Unlock()
		if snapshot && l.snaps != nil && l.isReady() && l.nc.IsConnected() {
			ctx, cancel := context.WithTimeout(context.Background(), l.cfg.Timeout)
			l.snaps.write(ctx, l.rm, true)
			cancel()
		}
		l.shutdown()
	})
	return nil
}

func (l *Ledger) shutdown() {
	// A lost server is not waited for: nothing to drain to.
	for _, nc := range []*nats.Conn{l.nc, l.feed} {
		if nc != nil && !nc.IsConnected() {
			nc.Close()
		}
	}
	// An ordered consumer whose server is gone retries its reset with
	// backoff (up to 10 s between tries) holding the lock its Stop takes
	// (nats.go 1.55): its stop is waited for only briefly.
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		l.consMu.Lock()
		defer l.consMu.Unlock()
		if l.unfollow != nil {
			l.unfollow()
		}
		if l.consumer != nil {
			l.consumer.Stop()
		}
	}()
	select {
	case <-stopped:
	case <-time.After(time.Second):
		l.cfg.Logger.Warn("the read model's consumer did not stop within a second; closing without it")
	}
	for _, nc := range []*nats.Conn{l.nc, l.feed} {
		if nc == nil || nc.IsClosed() {
			continue
		}
		nc.Drain()
		for i := 0; i < 100 && !nc.IsClosed(); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		nc.Close()
	}
	if l.emb != nil {
		l.emb.stop()
	}
}

// ClientURL is where other processes can reach the embedded server, or "".
func (l *Ledger) ClientURL() string {
	if l.emb == nil {
		return ""
	}
	return l.emb.url
}

// Conn is the ledger's NATS connection.
func (l *Ledger) Conn() *nats.Conn { return l.nc }

// Config is the configuration the ledger runs with, defaults filled in.
func (l *Ledger) Config() Config { return l.cfg }

// isReady reports whether the read model has loaded, without waiting.
func (l *Ledger) isReady() bool {
	select {
	case <-l.rm.ready:
		return l.rm.loadErr == nil
	default:
		return false
	}
}

// Sync waits until the read model has applied everything on the stream now,
// including what other processes wrote.
func (l *Ledger) Sync(ctx context.Context) error {
	if err := l.Ready(ctx); err != nil {
		return err
	}
	return l.catchUp(ctx)
}

// catchUp waits until the read model has applied what the stream holds now.
func (l *Ledger) catchUp(ctx context.Context) error {
	qctx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	defer cancel()
	msg, err := l.stream.GetLastMsgForSubject(qctx, l.cfg.Subject+".*")
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil
	}
	if err != nil {
		return unavailable("reading the stream", err)
	}
	return l.rm.waitFor(ctx, msg.Sequence, l.cfg.Timeout)
}

// unavailable wraps a JetStream failure with a message a user can act on.
func unavailable(what string, err error) error {
	var api *jetstream.APIError
	if errors.As(err, &api) {
		// JetStream answered, with an error: say what it said, once.
		return &events.Error{Kind: events.Internal, Message: fmt.Sprintf("%s: JetStream refused it: %s (error %d)", what, api.Description, api.ErrorCode)}
	}
	msg := fmt.Sprintf("%s: JetStream did not answer", what)
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		msg += " in time (is the server up, and does a cluster have a quorum of its nodes?)"
	case errors.Is(err, nats.ErrNoResponders), errors.Is(err, jetstream.ErrNoStreamResponse):
		msg += " (no responders: the stream has no leader; is a quorum of the cluster up?)"
	}
	return &events.Error{Kind: events.Internal, Message: msg, Err: err}
}

// read runs fn on the index, once it has loaded. The index has a lock of
// its own; the read model's is not held, for some questions wait for a
// batch being written, which the read model resolves (see projections.Kept).
func read[T any](l *Ledger, fn func(ix *projections.Index) (T, error)) (T, error) {
	if err := l.loaded(); err != nil {
		var zero T
		return zero, err
	}
	return fn(l.rm.ix)
}

// QueryOption modifies a question about one agreement.
type QueryOption func(*queryOptions)

type queryOptions struct{ allowDamaged bool }

// AllowDamaged answers a question about a damaged agreement from its
// intact prefix, the answer marked Damaged, where it would fail with an
// error of kind Damaged.
func AllowDamaged() QueryOption { return func(o *queryOptions) { o.allowDamaged = true } }

// AllowsDamaged reports whether opts include AllowDamaged: for a client of
// a remote ledger, which passes the options on as a request's parameters.
func AllowsDamaged(opts []QueryOption) bool { return readOptions(opts).allowDamaged }

func readOptions(opts []QueryOption) queryOptions {
	var o queryOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// readAgreement runs fn, a query about one agreement, on the index; or,
// while the index loads, on an index of that agreement's messages alone.
// A damaged agreement is an error unless the options allow it; then the
// damage is returned with the answer.
func readAgreement[T any](l *Ledger, agreement string, opts []QueryOption, fn func(ix *projections.Index) (T, error)) (T, *projections.Damage, error) {
	o := readOptions(opts)
	var zero T
	var ix *projections.Index
	var dmg *projections.Damage
	if l.isReady() {
		ix, dmg = l.rm.ix, l.rm.damage(agreement)
	} else {
		var err error
		if ix, dmg, err = l.agreementIndex(agreement); err != nil {
			return zero, nil, err
		}
	}
	if dmg != nil && !o.allowDamaged {
		return zero, nil, damagedError(dmg)
	}
	v, err := fn(ix)
	return v, dmg, err
}

// State returns what an agreement said at valid time at, as known at knownAt
// (zero: everything recorded).
func (l *Ledger) State(agreement string, at, knownAt time.Time, opts ...QueryOption) (*projections.State, error) {
	s, dmg, err := readAgreement(l, agreement, opts, func(ix *projections.Index) (*projections.State, error) { return ix.State(agreement, at, knownAt) })
	if err == nil {
		s.Damaged = dmg
	}
	return s, err
}

// Conflicts returns the conflicts between exclusive grants at (at, knownAt).
// Damaged agreements take part with their intact prefixes, and are listed.
func (l *Ledger) Conflicts(at, knownAt time.Time) (*projections.ConflictReport, error) {
	return read(l, func(ix *projections.Index) (*projections.ConflictReport, error) {
		r := ix.Conflicts(at, knownAt)
		r.Damaged, _ = l.rm.damages()
		return r, nil
	})
}

// Check answers whether a party may offer something at a time. Damaged
// agreements take part with their intact prefixes, and are listed. The
// query names a product and a channel: without them it asks nothing (no
// exclusivity covers every product on every channel, so it would always be
// allowed), and it is refused naming the one missing.
func (l *Ledger) Check(q projections.RightsQuery) (projections.Rights, error) {
	for _, d := range []struct {
		name   string
		values []string
	}{{"product", q.Scope.Dim(0)}, {"channel", q.Scope.Dim(1)}} {
		if len(d.values) == 0 {
			return projections.Rights{}, &events.Error{Kind: events.BadParameter, Message: "a rights check needs a product and a channel: " + d.name + " is required",
				Fields: []events.FieldError{{Path: d.name, Message: "is required"}}}
		}
	}
	return read(l, func(ix *projections.Index) (projections.Rights, error) {
		r := ix.Check(q)
		r.Damaged, _ = l.rm.damages()
		return r, nil
	})
}

// History returns an agreement's amendments in recording order.
func (l *Ledger) History(agreement string, opts ...QueryOption) (*projections.History, error) {
	h, dmg, err := readAgreement(l, agreement, opts, func(ix *projections.Index) (*projections.History, error) { return ix.History(agreement) })
	if err == nil {
		h.Damaged = dmg
	}
	return h, err
}

// Timeline returns an agreement's clauses as bars over valid time.
func (l *Ledger) Timeline(agreement string, knownAt time.Time, opts ...QueryOption) (*projections.Timeline, error) {
	tl, dmg, err := readAgreement(l, agreement, opts, func(ix *projections.Index) (*projections.Timeline, error) {
		return ix.Timeline(agreement, knownAt)
	})
	if err == nil {
		tl.Damaged = dmg
	}
	return tl, err
}

// Diff returns what changed in an agreement between two valid times.
func (l *Ledger) Diff(agreement string, from, to, knownAt time.Time, opts ...QueryOption) (*projections.Diff, error) {
	d, dmg, err := readAgreement(l, agreement, opts, func(ix *projections.Index) (*projections.Diff, error) {
		return ix.Diff(agreement, from, to, knownAt)
	})
	if err == nil {
		d.Damaged = dmg
	}
	return d, err
}

// Agreements lists the agreements with their status at valid time at.
// A damaged agreement is marked; one of which nothing can be read is
// listed with the status "damaged".
func (l *Ledger) Agreements(at time.Time) ([]projections.Summary, error) {
	return read(l, func(ix *projections.Index) ([]projections.Summary, error) {
		ss := ix.Agreements(at)
		ds, _ := l.rm.damages()
		for _, d := range ds {
			i, found := slices.BinarySearchFunc(ss, d.Agreement, func(s projections.Summary, name string) int { return strings.Compare(s.Agreement, name) })
			if !found {
				ss = slices.Insert(ss, i, projections.Summary{Agreement: d.Agreement, Status: "damaged", Parties: []string{}})
			}
			ss[i].Damaged = &d
		}
		return ss, nil
	})
}

// WhatIf answers a counterfactual without writing anything.
func (l *Ledger) WhatIf(as []*events.Amendment, knownAt time.Time) (*projections.Preview, error) {
	return read(l, func(ix *projections.Index) (*projections.Preview, error) { return ix.WhatIf(as, knownAt) })
}

// Recorded returns the amendment id as recorded: a known-at given as an
// amendment stands for the time it was recorded. An amendment this ledger
// does not know yet may have just been recorded by another process: it
// catches up with the stream before it says there is none.
func (l *Ledger) Recorded(ctx context.Context, id ulid.ULID) (*events.Record, error) {
	r, err := l.Amendment(id)
	if events.KindOf(err) == events.NotFound {
		if err := l.Sync(ctx); err != nil {
			return nil, err
		}
		r, err = l.Amendment(id)
	}
	return r, err
}

// Amendment returns a recorded amendment by id.
func (l *Ledger) Amendment(id ulid.ULID) (*events.Record, error) {
	return read(l, func(ix *projections.Index) (*events.Record, error) {
		if r := ix.Lookup(id); r != nil {
			return r, nil
		}
		return nil, events.Errorf(events.NotFound, "no amendment %s", id)
	})
}

// Status is the read model's position.
type Status struct {
	Applied    uint64 `json:"applied"`    // last stream sequence applied
	Amendments int    `json:"amendments"` // amendments in the read model
	Foreign    int    `json:"foreign"`    // messages skipped
	Loading    bool   `json:"loading"`    // still loading what the stream held at open
}

// Status reports how far the read model has got, without waiting for it.
func (l *Ledger) Status() Status {
	loading := !l.isReady()
	l.rm.mu.RLock()
	defer l.rm.mu.RUnlock()
	return Status{Applied: l.rm.applied, Amendments: l.rm.ix.Len(), Foreign: len(l.rm.foreign), Loading: loading}
}

// Foreign lists the messages the read model skipped.
func (l *Ledger) Foreign() []Foreign {
	if l.loaded() != nil {
		return nil
	}
	l.rm.mu.RLock()
	defer l.rm.mu.RUnlock()
	return append([]Foreign(nil), l.rm.foreign...)
}

// Watch calls fn for every amendment recorded after stream sequence after,
// in order: first those already recorded, then each new one as the read
// model applies it, until ctx ends or fn returns an error.
func (l *Ledger) Watch(ctx context.Context, after uint64, fn func(*events.Record) error) error {
	if err := l.Ready(ctx); err != nil {
		return err
	}
	for {
		l.rm.mu.RLock()
		recs := l.rm.ix.Records()
		ch := l.rm.changed
		l.rm.mu.RUnlock()
		i := sort.Search(len(recs), func(i int) bool { return recs[i].Seq > after })
		for _, r := range recs[i:] {
			if err := fn(r); err != nil {
				return err
			}
			after = r.Seq
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.stop:
			return events.Errorf(events.Internal, "ledger is closed")
		case <-ch:
		}
	}
}

// Lag is how many stream messages the read model has yet to apply.
func (l *Ledger) Lag(ctx context.Context) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	defer cancel()
	st, err := l.js.Stream(ctx, l.cfg.Stream)
	if err != nil {
		return 0, unavailable("reading the stream", err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, unavailable("reading the stream", err)
	}
	applied := l.Status().Applied
	if info.State.LastSeq <= applied {
		return 0, nil
	}
	return info.State.LastSeq - applied, nil
}
