package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/nats-io/nats.go/jetstream"
)

// Snapshots of the read model live in a JetStream object store beside the
// stream. A snapshot holds the index's records up to a sequence in the
// compact binary form amendments were decoded into (events.BinaryWriter),
// each with its sequence, recorded time and hash, so a restart reads one
// object and neither parses JSON nor checks anything again. A snapshot is a
// cache, never trusted: one whose checksum does not match, whose format is
// another, whose last record is not the stream's message at that sequence,
// or whose range the stream no longer holds whole (a message in it cannot
// be read) is ignored and the stream replayed, which finds the damage. A
// read model that knows of damage writes no snapshot: a damaged store is
// always read from its stream, so its answers after a restart are those of
// a replay.

const (
	snapshotObject  = "read-model"
	snapshotVersion = 4 // 4: foreign messages carry their hash
)

type snapshots struct {
	cfg     Config
	js      jetstream.JetStream
	store   jetstream.ObjectStore
	mu      sync.Mutex // one write at a time
	covered uint64     // records in the last snapshot written or loaded
	kick    chan struct{}
}

type snapshotFile struct {
	Stream   string
	Applied  uint64 // last stream sequence the snapshot covers
	Records  []*events.Record
	Subjects map[string]uint64
	Foreign  []Foreign
}

// snapshotMagic starts every snapshot; the version follows it.
const snapshotMagic = "agreement-ledger read model\n"

// crc32c is the snapshot's checksum: the object store checks a digest of
// what it stores, not that what was stored is what was written.
var crc32c = crc32.MakeTable(crc32.Castagnoli)

// marshal writes f: a header, the string table, the records (each behind
// its length, so that they can be found and then read on every core), and
// a checksum of all of it.
func (f *snapshotFile) marshal() []byte {
	w := events.NewBinaryWriter()
	var recs []byte
	var prevSeq uint64
	var prevTime int64
	for _, r := range f.Records {
		recs = binary.AppendUvarint(recs, r.Seq-prevSeq)
		recs = binary.AppendVarint(recs, r.Recorded.UnixNano()-prevTime)
		recs = append(recs, r.Hash[:]...)
		start := len(recs)
		recs = w.Append(recs, r.Amendment)
		recs = slices.Insert(recs, start, binary.AppendUvarint(nil, uint64(len(recs)-start))...)
		prevSeq, prevTime = r.Seq, r.Recorded.UnixNano()
	}
	b := make([]byte, 0, len(recs)+1<<16)
	b = append(b, snapshotMagic...)
	b = binary.AppendUvarint(b, snapshotVersion)
	b = appendBytes(b, []byte(f.Stream))
	b = binary.AppendUvarint(b, f.Applied)
	b = binary.AppendUvarint(b, uint64(len(f.Subjects)))
	for k, v := range f.Subjects {
		b = appendBytes(b, []byte(k))
		b = binary.AppendUvarint(b, v)
	}
	b = binary.AppendUvarint(b, uint64(len(f.Foreign)))
	for _, x := range f.Foreign {
		b = binary.AppendUvarint(b, x.Seq)
		b = appendBytes(b, []byte(x.Agreement))
		b = appendBytes(b, []byte(x.Problem))
		b = append(b, x.Hash[:]...)
	}
	b = binary.AppendUvarint(b, uint64(len(w.Strings)))
	for _, s := range w.Strings {
		b = appendBytes(b, []byte(s))
	}
	b = binary.AppendUvarint(b, uint64(len(f.Records)))
	b = append(b, recs...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crc32c))
}

func appendBytes(b, data []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(data))), data...)
}

// unmarshal reads what marshal wrote, the records on every core.
func (f *snapshotFile) unmarshal(b []byte) error {
	if !bytes.HasPrefix(b, []byte(snapshotMagic)) {
		return errors.New("not a read-model snapshot")
	}
	r := snapReader{b: b[len(snapshotMagic):]}
	if v := r.uvarint(); v != snapshotVersion {
		return fmt.Errorf("snapshot format %d, not %d", v, snapshotVersion)
	}
	if len(b) < 4 || crc32.Checksum(b[:len(b)-4], crc32c) != binary.BigEndian.Uint32(b[len(b)-4:]) {
		return errors.New("snapshot checksum does not match")
	}
	r.b = r.b[:len(r.b)-4]
	f.Stream = string(r.bytes())
	f.Applied = r.uvarint()
	n := r.count()
	f.Subjects = make(map[string]uint64, n)
	for range n {
		k := string(r.bytes())
		f.Subjects[k] = r.uvarint()
	}
	f.Foreign = make([]Foreign, r.count())
	for i := range f.Foreign {
		f.Foreign[i] = Foreign{Seq: r.uvarint(), Agreement: string(r.bytes()), Problem: string(r.bytes())}
		copy(f.Foreign[i].Hash[:], r.take(len(f.Foreign[i].Hash)))
	}
	strs := make([]string, r.count())
	for i := range strs {
		strs[i] = string(r.bytes())
	}
	f.Records = make([]*events.Record, r.count())
	// Find each record, then read them on every core.
	bodies := make([][]byte, len(f.Records))
	var seq uint64
	var at int64
	for i := range f.Records {
		seq += r.uvarint()
		at += r.varint()
		rec := &events.Record{Seq: seq, Recorded: time.Unix(0, at).UTC()}
		copy(rec.Hash[:], r.take(len(rec.Hash)))
		f.Records[i] = rec
		bodies[i] = r.bytes()
	}
	if r.bad || len(r.b) > 0 {
		return errors.New("snapshot is truncated or has trailing bytes")
	}
	var bad atomic.Bool
	parallel(len(bodies), func(i int) {
		a, rest, err := events.ReadBinary(bodies[i], strs)
		if err != nil || len(rest) > 0 {
			bad.Store(true)
			return
		}
		f.Records[i].Amendment = a
	})
	if bad.Load() {
		return errors.New("snapshot holds a malformed amendment")
	}
	return nil
}

// snapReader reads marshal's fields; a short or malformed buffer sets bad
// and yields zeros.
type snapReader struct {
	b   []byte
	bad bool
}

func (r *snapReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *snapReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a number of items, each of which takes at least a byte.
func (r *snapReader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.bad, r.b = true, nil
		return 0
	}
	return int(n)
}

func (r *snapReader) take(n int) []byte {
	if n > len(r.b) {
		r.bad, r.b = true, nil
		return make([]byte, n)
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *snapReader) bytes() []byte { return r.take(r.count()) }

func openSnapshots(ctx context.Context, js jetstream.JetStream, cfg Config) (*snapshots, error) {
	s := &snapshots{cfg: cfg, js: js, kick: make(chan struct{}, 1)}
	if cfg.SnapshotEvery < 0 {
		return s, nil
	}
	// An existing bucket is used as it is: a process opened with other
	// settings (fewer replicas) must not reconfigure it.
	store, err := js.ObjectStore(ctx, cfg.Stream+"_SNAPSHOTS")
	if err == nil {
		s.store = store
		return s, nil
	}
	store, err = js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      cfg.Stream + "_SNAPSHOTS",
		Description: "snapshots of the agreement ledger's read model (a cache: safe to delete)",
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		Compression: true,
	})
	if err != nil {
		// Another process may have created it meanwhile.
		if store, err = js.ObjectStore(ctx, cfg.Stream+"_SNAPSHOTS"); err != nil {
			return nil, fmt.Errorf("ledger: snapshot store: %w", err)
		}
	}
	s.store = store
	return s, nil
}

// load applies the latest snapshot to rm, if there is a good one, and
// returns the stream sequence it covers (0 if none). Reading it is bounded
// in time; applying it, which takes as long as the history is long, stops
// only when ctx ends.
//
// holes, when set, returns the first sequence in a range the stream cannot
// deliver (0 when it delivers them all).
func (s *snapshots) load(ctx context.Context, rm *readModel, js jetstream.JetStream, holes func(ctx context.Context, from, to uint64) (uint64, error)) uint64 {
	if s.store == nil {
		return 0
	}
	log := s.cfg.Logger
	start := time.Now()
	rctx, cancel := context.WithTimeout(ctx, 4*s.cfg.Timeout)
	defer cancel()
	data, err := s.read(rctx)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return 0
	}
	if err != nil {
		if ctx.Err() == nil { // not closing
			log.Warn("ignoring the read-model snapshot: it cannot be read", "err", err)
		}
		return 0
	}
	var f snapshotFile
	if err := f.unmarshal(data); err != nil {
		log.Warn("ignoring the read-model snapshot: it is corrupt or of another version", "err", err)
		return 0
	}
	if f.Stream != s.cfg.Stream {
		log.Warn("ignoring the read-model snapshot: written for another stream", "stream", f.Stream)
		return 0
	}
	if n := len(f.Records); n > 0 {
		last := f.Records[n-1]
		st, err := js.Stream(rctx, s.cfg.Stream)
		if err != nil {
			log.Warn("ignoring the read-model snapshot: stream unavailable", "err", err)
			return 0
		}
		msg, err := st.GetMsg(rctx, last.Seq)
		if err != nil || events.Sum(msg.Data) != last.Hash {
			log.Warn("ignoring the read-model snapshot: it does not match the stream (stale, or the stream was recreated)", "seq", last.Seq)
			return 0
		}
	}
	if holes != nil && f.Applied > 0 {
		// The stream must still hold every message the snapshot covers: a
		// message that became unreadable since is damage the snapshot would
		// hide. A replay finds which agreement it was. Checking reads every
		// message's headers, as long as the stream is long: it is given
		// 15 µs a message (half the rate raw JetStream reads at on two
		// cores) beyond the snapshot read's bound, so that a large store's
		// snapshot is not ignored for want of time.
		hctx, stop := context.WithTimeout(ctx, 4*s.cfg.Timeout+time.Duration(f.Applied)*15*time.Microsecond)
		seq, err := holes(hctx, 1, f.Applied)
		stop()
		if err != nil {
			log.Warn("ignoring the read-model snapshot: the stream could not be checked against it", "err", err)
			return 0
		}
		if seq != 0 {
			log.Error("ignoring the read-model snapshot: the stream cannot read a message the snapshot covers; replaying it to find what is damaged", "seq", seq)
			return 0
		}
	}
	readIn := time.Since(start)
	if err := rm.load(ctx, f.Records); err != nil {
		if ctx.Err() == nil {
			log.Warn("ignoring the read-model snapshot: its records do not apply", "err", err)
		}
		return 0
	}
	rm.mu.Lock()
	for k, v := range f.Subjects {
		rm.subjects[k] = max(rm.subjects[k], v)
	}
	rm.foreign = append(rm.foreign, f.Foreign...)
	for _, x := range f.Foreign {
		if !x.Hash.IsZero() {
			rm.dmg.outside[x.Hash] = offChain{x.Agreement, x.Seq}
		}
	}
	rm.applied = max(rm.applied, f.Applied)
	rm.mu.Unlock()
	s.covered = uint64(len(f.Records))
	log.Info("loaded the read-model snapshot", "amendments", len(f.Records), "seq", f.Applied, "bytes", len(data), "read", readIn.Round(time.Millisecond), "loaded", time.Since(start).Round(time.Millisecond))
	return f.Applied
}

// read returns the snapshot's bytes, read into a buffer of the object's
// size: GetBytes grows its buffer as it reads, and for a large snapshot
// the copies and clearing take longer than the reading. Reading to the end
// checks the object's digest.
//
// It returns when ctx ends: an object's reader does not. Once ctx is
// cancelled no chunk comes, and its Read waits for ctx's deadline (Close
// while a short command's ledger was loading took four timeouts).
func (s *snapshots) read(ctx context.Context) ([]byte, error) {
	obj, err := s.store.Get(ctx, snapshotObject)
	if err != nil {
		return nil, err
	}
	info, err := obj.Info()
	if err != nil {
		obj.Close()
		return nil, err
	}
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		defer obj.Close()
		buf := bytes.NewBuffer(make([]byte, 0, info.Size+bytes.MinRead))
		_, err := buf.ReadFrom(obj)
		done <- result{buf.Bytes(), err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, r.err
		}
		return r.data, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// parallel runs fn(0..n-1) on every core.
func parallel(n int, fn func(i int)) {
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / max(workers, 1)
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, n)
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// due reports whether enough has been recorded since the last snapshot:
// SnapshotEvery amendments, or a quarter of the total, whichever is more,
// so that rewriting snapshots costs time linear in the history.
func (s *snapshots) due(total int) bool {
	if s.store == nil {
		return false
	}
	n := uint64(total)
	return n > s.covered && n-s.covered >= max(uint64(s.cfg.SnapshotEvery), s.covered/4)
}

// write stores a snapshot of rm; with force even when few amendments are
// new. It reports whether it wrote one.
func (s *snapshots) write(ctx context.Context, rm *readModel, force bool) bool {
	if s.store == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rm.mu.RLock()
	recs := rm.ix.Records()
	if !force && !s.due(len(recs)) || force && uint64(len(recs)) == s.covered || len(rm.dmg.holes) > 0 || len(rm.dmg.damaged) > 0 {
		rm.mu.RUnlock()
		return false
	}
	f := snapshotFile{Stream: s.cfg.Stream, Applied: rm.applied, Records: recs, Subjects: maps.Clone(rm.subjects), Foreign: slices.Clone(rm.foreign)}
	rm.mu.RUnlock()
	// The bucket is emptied first: replacing an object deletes the old
	// chunks one by one, and the file store keeps their bytes until the
	// block they share is compacted (2 MB of garbage, 2.6 times the data
	// of a small store); a whole purge removes the blocks. Until the new
	// snapshot is written there is none: a restart then replays, as with
	// any snapshot it cannot use.
	if st, err := s.js.Stream(ctx, "OBJ_"+s.cfg.Stream+"_SNAPSHOTS"); err == nil {
		if err := st.Purge(ctx); err != nil {
			s.cfg.Logger.Warn("emptying the snapshot bucket failed", "err", err)
		}
	}
	if _, err := s.store.PutBytes(ctx, snapshotObject, f.marshal()); err != nil {
		s.cfg.Logger.Warn("writing a read-model snapshot failed", "err", err)
		return false
	}
	s.covered = uint64(len(recs))
	return true
}
