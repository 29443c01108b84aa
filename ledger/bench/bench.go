// Package bench measures the ledger beside the raw JetStream operations it
// is built on: in one process and one run, on fresh temporary stores of the
// same embedded server (file storage, every write fsynced) or of a
// three-node cluster started in the process (p1c, p3c), so the ratios hold
// on a shared, noisy machine where absolute rates do not. p13 runs the
// ledger binary's one-off commands as processes of their own. It backs the
// `ledger bench` command and the package's go test benchmarks.
package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/synth"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Sizes says how much each measurement does.
type Sizes struct {
	Name             string        `json:"name"` // quick, full, 10m (see ForSize)
	Quick            bool          `json:"quick"`
	Appends          int           `json:"appends"`                   // p1: appends one at a time (and raw publishes)
	Import           int           `json:"import"`                    // p2: amendments imported at once
	Writers          int           `json:"writers"`                   // p3, p3c: concurrent writers
	PerWriter        int           `json:"per_writer"`                // p3: appends each writer makes
	ClusterAppends   int           `json:"cluster_appends"`           // p1c: appends one at a time on R3 (and raw publishes)
	ClusterPerWriter int           `json:"cluster_per_writer"`        // p3c: appends each writer makes on R3
	Store            int           `json:"store"`                     // p4, p7, p8: amendments in the big store
	Agreements       int           `json:"agreements"`                // p6: agreements in the big store
	Small            int           `json:"small"`                     // p5: amendments of the queried agreement
	Large            int           `json:"large"`                     // p5: amendments of the long agreement (100× Small)
	Queries          int           `json:"queries"`                   // p5: state queries timed
	Huge             int           `json:"huge,omitempty"`            // p9: amendments in the very big store (0: no p9)
	HugeAgreements   int           `json:"huge_agreements,omitempty"` // p9: agreements in it
	OneOff           int           `json:"one_off"`                   // p13: amendments of the agreement the commands query
	OneOffRuns       int           `json:"one_off_runs"`              // p13: runs of each command
	OneOffLimit      time.Duration `json:"one_off_limit_ns"`          // p13: a run taking longer is killed
	Seed             int           `json:"seed"`                      // synthetic histories are generated from it
	Dir              string        `json:"-"`                         // where temporary stores go ("" = the system's)
	Binary           string        `json:"-"`                         // p13: the ledger binary to run ("" = p13 is skipped)
	Only             []string      `json:"only,omitempty"`            // ids to measure (p9: every p9_…; a store's or a cluster's come together); none: all
}

// Full is the size of the targets in the ledger's issue: 100k imported,
// 1M in the big store over 100k agreements, state over 1k and 100k.
func Full() Sizes {
	return Sizes{Name: "full", Appends: 2000, Import: 100_000, Writers: 32, PerWriter: 200, ClusterAppends: 2000, ClusterPerWriter: 200, Store: 1_000_000,
		Agreements: 100_000, Small: 1000, Large: 100_000, Queries: 20_000, OneOff: 20_000, OneOffRuns: 5, OneOffLimit: time.Minute, Seed: 1}
}

// Quick is small enough to finish in under a minute on two cores.
func Quick() Sizes {
	return Sizes{Name: "quick", Quick: true, Appends: 300, Import: 10_000, Writers: 32, PerWriter: 30, ClusterAppends: 300, ClusterPerWriter: 30, Store: 60_000,
		Agreements: 5_000, Small: 1000, Large: 20_000, Queries: 5_000, OneOff: 20_000, OneOffRuns: 3, OneOffLimit: 5 * time.Second, Seed: 1}
}

// SizeNames are the sizes ForSize knows, for people.
var SizeNames = []string{"quick", "full", "10m"}

// ForSize returns the sizes of a name: "quick", "full", or "10m" — the full
// sizes and p9, the big store's measurements at 10,000,000 amendments over
// 1,000,000 agreements. For trying p9's path at less, "100k" and "1m" are
// the quick sizes and p9 at that many amendments (over a tenth as many
// agreements, as at 10m).
func ForSize(name string) (Sizes, error) {
	huge := func(sz Sizes, n int) Sizes {
		sz.Name, sz.Huge, sz.HugeAgreements = name, n, n/10
		return sz
	}
	switch name {
	case "quick":
		return Quick(), nil
	case "full", "":
		return Full(), nil
	case "10m":
		return huge(Full(), 10_000_000), nil
	case "1m":
		return huge(Quick(), 1_000_000), nil
	case "100k":
		return huge(Quick(), 100_000), nil
	}
	return Sizes{}, fmt.Errorf("bench: no size %q (%s)", name, strings.Join(SizeNames, ", "))
}

// IDs are the measurements Sizes.Only may name.
var IDs = []string{"p1", "p1c", "p2", "p3", "p3c", "p4", "p5", "p6", "p7", "p8", "p8l", "p9", "p10", "p11", "p12", "p13"}

// wants reports whether any of ids is to be measured.
func (sz Sizes) wants(ids ...string) bool {
	if len(sz.Only) == 0 {
		return true
	}
	for _, id := range ids {
		if slices.Contains(sz.Only, id) {
			return true
		}
	}
	return false
}

// Result is one measurement: the ledger's figure, the raw JetStream figure
// it compares with (if any) and their ratio (ledger/raw: higher is better).
type Result struct {
	ID        string   `json:"-"`
	Name      string   `json:"name"`
	Ledger    float64  `json:"ledger"`
	Raw       *float64 `json:"raw,omitempty"`
	Ratio     *float64 `json:"ratio,omitempty"`
	Unit      string   `json:"unit"`
	Target    string   `json:"target"`
	Met       bool     `json:"met"`
	P50us     *float64 `json:"p50_us,omitempty"`
	P99us     *float64 `json:"p99_us,omitempty"`
	P99us100x *float64 `json:"p99_us_100x,omitempty"`
	// Figures are further figures of the measurement, keyed by what they
	// are (p3: "ceiling", "raw_one_at_a_time").
	Figures map[string]float64 `json:"figures,omitempty"`
	Note    string             `json:"note,omitempty"`    // lines of text for people
	Skipped string             `json:"skipped,omitempty"` // why it was not measured
}

// Report is a whole run: results keyed by id ("p1", "p1c", … "p13"; see Order).
type Report struct {
	Sizes   Sizes
	Results map[string]*Result
	Machine string
}

// MarshalJSON writes one object keyed by result id, plus "sizes" and "machine".
func (r *Report) MarshalJSON() ([]byte, error) {
	m := map[string]any{"sizes": r.Sizes, "machine": r.Machine}
	for id, res := range r.Results {
		m[id] = res
	}
	return json.Marshal(m)
}

func ptr(f float64) *float64 { return &f }

// Run performs every measurement. log receives progress lines.
func Run(ctx context.Context, sz Sizes, log io.Writer) (*Report, error) {
	rep := &Report{Sizes: sz, Results: map[string]*Result{},
		Machine: fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())}
	step := func(name string, fn func() error) error {
		fmt.Fprintf(log, "bench: %s…\n", name)
		start := time.Now()
		err := fn()
		fmt.Fprintf(log, "bench: %s done in %s\n", name, time.Since(start).Round(time.Millisecond))
		return err
	}
	for _, id := range sz.Only {
		if !slices.Contains(IDs, id) {
			return nil, fmt.Errorf("bench: no measurement %q (%s)", id, strings.Join(IDs, ", "))
		}
		if id == "p9" && sz.Huge == 0 {
			return nil, fmt.Errorf("bench: p9 is measured at the size 10m only")
		}
	}
	var p1raw float64
	steps := []struct {
		ids  []string
		name string
		fn   func() error
	}{
		{[]string{"p1"}, "p1 durable appends one at a time", func() (err error) {
			rep.Results["p1"], p1raw, err = Appends(ctx, sz)
			return err
		}},
		{[]string{"p2"}, "p2 bulk import", func() (err error) {
			rep.Results["p2"], err = Import(ctx, sz)
			return err
		}},
		{[]string{"p3"}, "p3 concurrent writers", func() (err error) {
			rep.Results["p3"], err = Writers(ctx, sz, p1raw)
			return err
		}},
		{[]string{"p1c", "p3c"}, "p1c, p3c on a three-node cluster", func() error {
			c, err := StartCluster(sz.Dir)
			if err != nil {
				return err
			}
			defer c.Close()
			var raw float64
			if rep.Results["p1c"], raw, err = ClusterAppends(ctx, sz, c); err != nil {
				return err
			}
			rep.Results["p3c"], err = ClusterWriters(ctx, sz, c, raw)
			return err
		}},
		{[]string{"p4", "p5", "p6", "p7", "p8", "p8l"}, "p4–p8 the big store", func() error {
			return BigStore(ctx, sz, rep.Results, log)
		}},
		{[]string{"p9"}, fmt.Sprintf("p9 the big store at %d amendments", sz.Huge), func() error {
			return HugeStore(ctx, sz, rep.Results, log)
		}},
		{[]string{"p10", "p11"}, "p10, p11 avails and the deal calendar", func() error {
			l, done, err := AvailsStore(ctx, sz, log)
			if err != nil {
				return err
			}
			defer done()
			if rep.Results["p10"], err = Avails(ctx, sz, l); err != nil {
				return err
			}
			rep.Results["p11"], err = Calendar(ctx, sz, l)
			return err
		}},
		{[]string{"p12"}, "p12 state queries through the NATS service, 1 and 3 instances", func() (err error) {
			rep.Results["p12"], err = ServiceQueries(ctx, sz)
			return err
		}},
		{[]string{"p13"}, "p13 one-off commands in a process of their own", func() (err error) {
			rep.Results["p13"], err = OneOff(ctx, sz)
			return err
		}},
	}
	for _, st := range steps {
		if !sz.wants(st.ids...) || slices.Contains(st.ids, "p9") && sz.Huge == 0 {
			continue
		}
		if err := step(st.name, st.fn); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// store is a ledger on a fresh temporary directory, with a raw stream
// beside it on the same embedded server.
type store struct {
	dir string
	l   *ledger.Ledger
	js  jetstream.JetStream
}

func openStore(ctx context.Context, sz Sizes, cfg ledger.Config) (*store, error) {
	dir, err := os.MkdirTemp(sz.Dir, "ledger-bench-")
	if err != nil {
		return nil, err
	}
	cfg.DataDir = dir
	l, err := ledger.Open(ctx, cfg)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	js, err := jetstream.New(l.Conn())
	if err != nil {
		return nil, err
	}
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "RAW", Subjects: []string{"raw.>"}, Storage: jetstream.FileStorage,
		Discard: jetstream.DiscardNew, MaxMsgs: -1, MaxBytes: -1, MaxMsgsPerSubject: -1, DenyDelete: true, DenyPurge: true, AllowAtomicPublish: true})
	if err != nil {
		return nil, err
	}
	return &store{dir: dir, l: l, js: js}, nil
}

func (s *store) close() {
	s.l.Close()
	os.RemoveAll(s.dir)
}

// encoded is what the ledger would store for each amendment: the raw
// baselines publish the same bytes.
func encoded(as []*events.Amendment) [][]byte {
	out := make([][]byte, len(as))
	for i, a := range as {
		out[i], _ = events.Encode(a, events.Hash{})
	}
	return out
}

// Appends measures p1: one durable append at a time, against a synchronous
// fsynced publish of the same bytes. It returns the raw rate too (p3's baseline).
func Appends(ctx context.Context, sz Sizes) (*Result, float64, error) {
	s, err := openStore(ctx, sz, ledger.Config{SnapshotEvery: -1})
	if err != nil {
		return nil, 0, err
	}
	defer s.close()
	g := synth.New(int64(sz.Seed))
	as := g.Agreement("p1", sz.Appends)
	data := encoded(as)

	// An append returns once the read model has it, with the recorded time
	// the stream gave it, which only a read of the stream tells: the raw
	// operation under it is a publish, then its delivery to an ordered
	// consumer. Measured beside the plain publish, as p1's ceiling.
	delivered := make(chan uint64, 1)
	cons, err := s.js.OrderedConsumer(ctx, "RAW", jetstream.OrderedConsumerConfig{FilterSubjects: []string{"raw.p1b"}})
	if err != nil {
		return nil, 0, err
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		if meta, err := m.Metadata(); err == nil {
			delivered <- meta.Sequence.Stream
		}
	})
	if err != nil {
		return nil, 0, err
	}
	defer cc.Stop()
	readBack := func(i int) error {
		ack, err := s.js.Publish(ctx, "raw.p1b", data[i], jetstream.WithMsgID("b"+strconv.Itoa(i)))
		if err != nil {
			return err
		}
		for seq := range delivered {
			if seq >= ack.Sequence {
				return nil
			}
		}
		return nil
	}

	// The three are measured in alternating blocks, so that a change in the
	// machine's load falls on all of them (machines are shared and noisy).
	var raw, back, led time.Duration
	const block = 50
	for lo := 0; lo < len(as); lo += block {
		hi := min(lo+block, len(as))
		start := time.Now()
		for i := lo; i < hi; i++ {
			if _, err := s.js.Publish(ctx, "raw.p1", data[i], jetstream.WithMsgID(strconv.Itoa(i))); err != nil {
				return nil, 0, err
			}
		}
		raw += time.Since(start)
		start = time.Now()
		for i := lo; i < hi; i++ {
			if err := readBack(i); err != nil {
				return nil, 0, err
			}
		}
		back += time.Since(start)
		start = time.Now()
		for _, a := range as[lo:hi] {
			if _, err := s.l.Append(ctx, []*events.Amendment{a}, ledger.AppendOptions{}); err != nil {
				return nil, 0, err
			}
		}
		led += time.Since(start)
	}
	n := float64(len(as))
	rawRate, backRate, lr := n/raw.Seconds(), n/back.Seconds(), n/led.Seconds()
	r := &Result{ID: "p1", Name: "one durable append at a time", Ledger: lr, Raw: ptr(rawRate), Ratio: ptr(lr / rawRate), Unit: "appends/s", Target: "≥ 0.9×",
		Figures: map[string]float64{"read_back": backRate, "read_back_ratio": backRate / rawRate, "of_read_back": lr / backRate},
		Note:    fmt.Sprintf("raw publish then its delivery to an ordered consumer (what returning with the stream's recorded time costs): %s appends/s, %.2f× of a publish; the ledger is %.2f× of it", num(backRate), backRate/rawRate, lr/backRate)}
	r.Met = *r.Ratio >= 0.9
	return r, rawRate, nil
}

// publishBatches publishes data as atomic batches of size on subject, one
// after another.
func publishBatches(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, subject string, data [][]byte, size int) error {
	for start := 0; start < len(data); start += size {
		batch := make([]*nats.Msg, 0, size)
		for _, d := range data[start:min(start+size, len(data))] {
			m := nats.NewMsg(subject)
			m.Data = d
			batch = append(batch, m)
		}
		if _, err := sendBatch(ctx, nc, js, batch); err != nil {
			return err
		}
	}
	return nil
}

// batches numbers the atomic batches sendBatch sends, for their ids.
var batches atomic.Uint64

// sendBatch publishes msgs as one atomic batch and returns the sequence of
// its last message.
func sendBatch(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, msgs []*nats.Msg) (uint64, error) {
	id := fmt.Sprintf("b%d-%d", time.Now().UnixNano(), batches.Add(1))
	for i, m := range msgs {
		m.Header.Set("Nats-Batch-Id", id)
		m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i+1))
		if i < len(msgs)-1 {
			if err := nc.PublishMsg(m); err != nil {
				return 0, err
			}
			continue
		}
		m.Header.Set("Nats-Batch-Commit", "1")
		ack, err := js.PublishMsg(ctx, m)
		if err != nil {
			return 0, err
		}
		return ack.Sequence, nil
	}
	return 0, nil
}

// Import measures p2: a bulk import, against fsynced atomic batches of 1000,
// and against the same batches as the ledger writes them, read along.
func Import(ctx context.Context, sz Sizes) (*Result, error) {
	s, err := openStore(ctx, sz, ledger.Config{SnapshotEvery: -1})
	if err != nil {
		return nil, err
	}
	defer s.close()
	as := synth.New(int64(sz.Seed)).Many(max(sz.Import/100, 1), 100)
	data := encoded(as)

	start := time.Now()
	if err := publishBatches(ctx, s.l.Conn(), s.js, "raw.p2", data, 1000); err != nil {
		return nil, err
	}
	raw := float64(len(data)) / time.Since(start).Seconds()

	start = time.Now()
	if _, err := s.l.Append(ctx, as, ledger.AppendOptions{}); err != nil {
		return nil, err
	}
	lr := float64(len(as)) / time.Since(start).Seconds()

	start = time.Now()
	if err := publishAsLedger(ctx, s.l.Conn(), s.js, "raw.p2l", as, 1000); err != nil {
		return nil, err
	}
	asLedger := float64(len(as)) / time.Since(start).Seconds()
	r := &Result{ID: "p2", Name: fmt.Sprintf("bulk import of %d amendments", len(as)), Ledger: lr, Raw: ptr(raw), Ratio: ptr(lr / raw), Unit: "amendments/s", Target: "≥ 0.7×",
		Figures: map[string]float64{"as_ledger_writes": asLedger, "as_ledger_writes_ratio": asLedger / raw, "of_as_ledger_writes": lr / asLedger},
		Note: fmt.Sprintf("raw batches of the ledger's messages (chained bodies, headers for ids, self-description and per-agreement expected sequences, a subject each agreement) with an ordered consumer reading them along: %s amendments/s, %.2f× of plain batches; the ledger is %.2f× of it",
			num(asLedger), asLedger/raw, lr/asLedger)}
	r.Met = *r.Ratio >= 0.7
	return r, nil
}

// publishAsLedger publishes as in atomic batches of size as the ledger
// writes them (subject prefix.agreement; bodies chained to each
// agreement's last; an id, self-describing headers, and on each
// agreement's first message in a batch the sequence its subject is
// expected at), while an ordered consumer reads them back as the read
// model does. It returns once the consumer has the last.
func publishAsLedger(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, prefix string, as []*events.Amendment, size int) error {
	data, prevs := make([][]byte, len(as)), make([]events.Hash, len(as))
	heads := map[string]events.Hash{}
	for i, a := range as {
		prevs[i] = heads[a.Agreement]
		var err error
		if data[i], err = events.Encode(a, prevs[i]); err != nil {
			return err
		}
		heads[a.Agreement] = events.Sum(data[i])
	}
	var read atomic.Uint64 // the last sequence the consumer read
	moved := make(chan struct{}, 1)
	cons, err := js.OrderedConsumer(ctx, "RAW", jetstream.OrderedConsumerConfig{FilterSubjects: []string{prefix + ".*"}})
	if err != nil {
		return err
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		if meta, err := m.Metadata(); err == nil {
			read.Store(meta.Sequence.Stream)
			select {
			case moved <- struct{}{}:
			default:
			}
		}
	}, jetstream.PullMaxMessages(1000))
	if err != nil {
		return err
	}
	defer cc.Stop()
	last := map[string]uint64{} // the sequence of each subject's last message
	var seq uint64
	for start := 0; start < len(as); start += size {
		end := min(start+size, len(as))
		first := map[string]bool{}
		batch := make([]*nats.Msg, 0, end-start)
		for i := start; i < end; i++ {
			a := as[i]
			m := nats.NewMsg(prefix + "." + a.Agreement)
			m.Data = data[i]
			m.Header.Set(jetstream.MsgIDHeader, a.ID.String())
			m.Header.Set(ledger.HeaderContentType, "application/json")
			m.Header.Set(ledger.HeaderSchema, strconv.Itoa(events.SchemaVersion))
			if !prevs[i].IsZero() {
				m.Header.Set(ledger.HeaderPrev, prevs[i].String())
			}
			if !first[a.Agreement] {
				first[a.Agreement] = true
				m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(last[a.Agreement], 10))
			}
			batch = append(batch, m)
		}
		var err error
		if seq, err = sendBatch(ctx, nc, js, batch); err != nil {
			return err
		}
		for i := start; i < end; i++ {
			last[as[i].Agreement] = seq - uint64(end-1-i)
		}
	}
	for read.Load() < seq {
		select {
		case <-moved:
		case <-time.After(time.Minute):
			return fmt.Errorf("bench: the consumer read up to %d of %d", read.Load(), seq)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Writers measures p3: concurrent writers on distinct agreements, each
// appending one at a time (the ledger commits them in groups), against raw
// JetStream's own ceiling on this path: every writer's next message in one
// atomic batch (one fsync), batches back to back. Group commit cannot do
// better than that; the target is 0.8× of it. raw, p1's rate of raw
// publishes one at a time, is shown beside it when it is not 0.
func Writers(ctx context.Context, sz Sizes, raw float64) (*Result, error) {
	s, err := openStore(ctx, sz, ledger.Config{SnapshotEvery: -1})
	if err != nil {
		return nil, err
	}
	defer s.close()
	g := synth.New(int64(sz.Seed))
	work := make([][]*events.Amendment, sz.Writers)
	for w := range work {
		work[w] = g.Agreement(fmt.Sprintf("writer-%02d", w), sz.PerWriter)
	}
	lr, err := concurrently(ctx, s.l, work)
	if err != nil {
		return nil, err
	}

	var data [][]byte
	for round := range sz.PerWriter {
		for w := range work {
			data = append(data, encoded(work[w][round:round+1])...)
		}
	}
	start := time.Now()
	if err := publishBatches(ctx, s.l.Conn(), s.js, "raw.p3", data, sz.Writers); err != nil {
		return nil, err
	}
	ceiling := float64(len(data)) / time.Since(start).Seconds()

	r := &Result{ID: "p3", Name: fmt.Sprintf("%d concurrent writers, one append each at a time", sz.Writers), Ledger: lr, Raw: ptr(ceiling), Ratio: ptr(lr / ceiling),
		Unit: "appends/s", Target: "≥ 0.8× raw ceiling", Figures: map[string]float64{"ceiling": ceiling},
		Note: fmt.Sprintf("raw: JetStream's own ceiling, atomic batches of %d (each writer's next) back to back", sz.Writers)}
	if raw > 0 {
		r.Figures["raw_one_at_a_time"] = raw
		r.Note += fmt.Sprintf("\nagainst p1's raw publishes one at a time (%s appends/s): ledger %.2f×, ceiling %.2f×", num(raw), lr/raw, ceiling/raw)
	}
	r.Met = *r.Ratio >= 0.8
	return r, nil
}

// concurrently runs one writer per slice of work, each appending its
// amendments one at a time, and returns the appends per second of them all.
func concurrently(ctx context.Context, l *ledger.Ledger, work [][]*events.Amendment) (float64, error) {
	var wg sync.WaitGroup
	errs := make(chan error, len(work))
	n := 0
	start := time.Now()
	for _, as := range work {
		n += len(as)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, a := range as {
				if _, err := l.Append(ctx, []*events.Amendment{a}, ledger.AppendOptions{}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// BigStore builds a store of sz.Store amendments (sz.Agreements agreements,
// one of sz.Small and one of sz.Large amendments among them) and measures
// p4 (rebuild against an ordered read), p5 (state queries), p6 (conflicts),
// p7 (memory), p8 (restart from a snapshot until the first query) and p8l
// (until the read model has loaded).
func BigStore(ctx context.Context, sz Sizes, out map[string]*Result, log io.Writer) error {
	f, err := measureBig(ctx, sz, sz.Store, sz.Agreements, log)
	if err != nil {
		return err
	}
	for _, r := range f.results("") {
		out[r.ID] = r
	}
	return nil
}

// HugeStore measures p9: BigStore's measurements of a store of sz.Huge
// amendments over sz.HugeAgreements agreements (10M over 1M at the size
// "10m"), with the same mix, the same queried agreements and the same
// targets, as rows "p9_p4" … "p9_p8l".
func HugeStore(ctx context.Context, sz Sizes, out map[string]*Result, log io.Writer) error {
	f, err := measureBig(ctx, sz, sz.Huge, sz.HugeAgreements, log)
	if err != nil {
		return err
	}
	for _, r := range f.results("p9_") {
		out[r.ID] = r
	}
	return nil
}

// big is what the measurements of a big store found.
type big struct {
	total, agreements int
	small, large      int        // amendments of the two queried agreements
	rebuild, raw      float64    // amendments/s: the read model from the stream, an ordered read
	heap              float64    // bytes per amendment
	state, stateLarge [2]float64 // p50 and p99 of state(T) in µs
	conflicts         float64    // ms, median
	restart, loaded   float64    // s: until the first query, until the read model has loaded
	headers           float64    // s: a headers-only ordered read of the stream
}

// results are the rows of the measurements: "p4" … "p8l", or with a prefix
// ("p9_p4" …) for the same measurements of another store.
func (f *big) results(prefix string) []*Result {
	var out []*Result
	add := func(id string, r *Result, met bool) {
		r.ID, r.Met = prefix+id, met
		if prefix != "" {
			r.Target += " (" + id + "'s)"
		}
		out = append(out, r)
	}
	add("p4", &Result{Name: fmt.Sprintf("rebuild the read model from %d amendments", f.total), Ledger: f.rebuild, Raw: ptr(f.raw), Ratio: ptr(f.rebuild / f.raw),
		Unit: "amendments/s", Target: "≥ 0.7×"}, f.rebuild >= 0.7*f.raw)
	add("p5", &Result{Name: fmt.Sprintf("state(T) p99, agreement of %d amendments in a %d store", f.small, f.total), Ledger: f.state[1], Unit: "µs",
		Target: "p99 ≤ 100 µs; ≤ 2× at 100× history", P50us: ptr(f.state[0]), P99us: ptr(f.state[1]), P99us100x: ptr(f.stateLarge[1]),
		Note: fmt.Sprintf("at %d amendments: p50 %.1f µs, p99 %.1f µs", f.large, f.stateLarge[0], f.stateLarge[1])},
		f.state[1] <= 100 && f.stateLarge[1] <= 2*f.state[1])
	add("p6", &Result{Name: fmt.Sprintf("conflicts(T) over %d agreements", f.agreements), Ledger: f.conflicts, Unit: "ms", Target: "≤ 50 ms"}, f.conflicts >= 0 && f.conflicts <= 50)
	add("p7", &Result{Name: fmt.Sprintf("heap per amendment after loading %d", f.total), Ledger: f.heap, Unit: "bytes", Target: "≤ 512"}, f.heap <= 512)
	add("p8", &Result{Name: fmt.Sprintf("restart with %d amendments until the first query (snapshot)", f.total), Ledger: f.restart, Unit: "s", Target: "≤ 2 s"}, f.restart <= 2)
	add("p8l", &Result{Name: fmt.Sprintf("restart with %d amendments until the read model has loaded (snapshot)", f.total), Ledger: f.loaded, Unit: "s", Target: "≤ 3 s",
		Raw: ptr(f.headers), Ratio: ptr(f.headers / f.loaded),
		Note: "raw: a headers-only ordered read of every message, which checking that the stream still delivers what the snapshot covers takes"}, f.loaded <= 3)
	return out
}

// measureBig writes a store of amendments over agreements and measures it.
func measureBig(ctx context.Context, sz Sizes, amendments, agreements int, log io.Writer) (*big, error) {
	dir, err := os.MkdirTemp(sz.Dir, "ledger-bench-big-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	// A load of millions of amendments on a busy machine can go more than
	// the default Timeout (10 s) without applying a batch — its garbage
	// collection marks a heap of gigabytes on two shared cores — and the
	// ledger would call its read model stuck. Timeout bounds only how long
	// a failure takes to show: no figure depends on it.
	cfg := ledger.Config{DataDir: dir, SnapshotEvery: -1, Timeout: 2 * time.Minute}
	total, err := fill(ctx, cfg, sz, amendments, agreements, log)
	if err != nil {
		return nil, err
	}
	f := &big{total: total, agreements: agreements + 2, small: sz.Small, large: sz.Large}
	phase := func(name string, start time.Time) {
		fmt.Fprintf(log, "bench: %s in %s\n", name, time.Since(start).Round(time.Millisecond))
	}
	failed := func(what string, err error) (*big, error) {
		return nil, fmt.Errorf("bench: %s, store of %d amendments: %w", what, f.total, err)
	}

	// p4: rebuild from the stream, against an ordered read of the same stream.
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	l, err := ledger.Open(ctx, cfg)
	if err != nil {
		return failed("p4, opening", err)
	}
	defer func() { l.Close() }()
	if err := l.Ready(ctx); err != nil {
		return failed("p4, rebuilding the read model", err)
	}
	f.rebuild = float64(f.total) / time.Since(start).Seconds()
	phase("p4 read model rebuilt", start)
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	start = time.Now()
	if f.raw, err = orderedRead(ctx, l.Conn(), f.total, false); err != nil {
		return failed("p4, the ordered read", err)
	}
	phase("p4 ordered read", start)

	// p7: resident memory per amendment.
	f.heap = float64(after.HeapAlloc-min(before.HeapAlloc, after.HeapAlloc)) / float64(f.total)

	// p5: state at random valid times. The collection of what the raw read
	// left behind is not part of the ledger's query times.
	runtime.GC()
	if f.state, err = stateLatency(l, "bench-small", sz.Queries); err != nil {
		return failed("p5", err)
	}
	if f.stateLarge, err = stateLatency(l, "bench-large", sz.Queries); err != nil {
		return failed("p5", err)
	}

	// p6: conflicts at a time over every agreement.
	f.conflicts = conflictsLatency(l)

	// p8, p8l: restart with a snapshot until the first query is answered,
	// and until the read model has loaded.
	l.Close()
	cfg.SnapshotEvery = 0
	start = time.Now()
	if l, err = ledger.Open(ctx, cfg); err != nil {
		return failed("p8, opening to write a snapshot", err)
	}
	if err := l.Ready(ctx); err != nil {
		return failed("p8, loading to write a snapshot", err)
	}
	l.Close() // the first open with snapshots on writes one
	phase("p8 read model loaded again and a snapshot written", start)
	// The collection of the closed ledger's heap (gigabytes) is not part of
	// the restart: a restarted process has none.
	runtime.GC()
	start = time.Now()
	if l, err = ledger.Open(ctx, cfg); err != nil {
		return failed("p8, opening", err)
	}
	if _, err := l.State("bench-small", time.Now(), time.Time{}); err != nil {
		return failed("p8, the first query", err)
	}
	f.restart = time.Since(start).Seconds()
	if err := l.Ready(ctx); err != nil {
		return failed("p8l, loading from the snapshot", err)
	}
	f.loaded = time.Since(start).Seconds()
	phase("p8l restarted and loaded", start)
	// p8l's raw figure: before a snapshot is trusted, the ledger checks
	// that the stream can still deliver every message it covers (damage a
	// snapshot would hide); a headers-only read of every message is what
	// any client of this server pays for that.
	start = time.Now()
	if _, err := orderedRead(ctx, l.Conn(), f.total, true); err != nil {
		return failed("p8l, the headers-only read", err)
	}
	f.headers = time.Since(start).Seconds()
	phase("p8l headers-only read", start)
	return f, nil
}

// fill writes the big store's amendments (see generate) through a ledger
// on cfg, and returns how many the ledger has.
func fill(ctx context.Context, cfg ledger.Config, sz Sizes, amendments, agreements int, log io.Writer) (int, error) {
	l, err := ledger.Open(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer l.Close()
	written, start := 0, time.Now()
	err = generate(sz, amendments, agreements, func(as []*events.Amendment) error {
		for len(as) > 0 {
			n := min(len(as), 50_000)
			if _, err := l.Append(ctx, as[:n], ledger.AppendOptions{}); err != nil {
				return err
			}
			written += n
			as = as[n:]
		}
		fmt.Fprintf(log, "bench: %d of %d amendments written (%s)\n", written, amendments, time.Since(start).Round(time.Second))
		return nil
	})
	if err != nil {
		return 0, err
	}
	return l.Status().Amendments, nil
}

// sliceAgreements is how many agreements generate makes at a time.
const sliceAgreements = 10_000

// generate calls put with the amendments of a big store, a slice at a
// time: an agreement of sz.Small amendments ("bench-small") and one of
// sz.Large ("bench-large"), then agreements numbered from
// "agreement-000001" sharing the rest (one more each for the rest of the
// division), sliceAgreements agreements at a time, their amendments
// interleaved at random as appends from many users would be (as
// synth.Many does). Every slice has a generator of its own, since a
// generator keeps every amendment it made; they draw parties from one pool
// sized for all the agreements, each party in about ten agreements. So
// only one slice is held at once, whatever the size of the store.
func generate(sz Sizes, amendments, agreements int, put func([]*events.Amendment) error) error {
	g := synth.New(int64(sz.Seed))
	if err := put(g.Agreement("bench-small", sz.Small)); err != nil {
		return err
	}
	if err := put(g.Agreement("bench-large", sz.Large)); err != nil {
		return err
	}
	if agreements <= 0 {
		return nil
	}
	rest := max(amendments-sz.Small-sz.Large, 0)
	per := max(rest/agreements, 1)
	extra := max(rest-per*agreements, 0) // agreements with one more
	parties := max(agreements/5, synth.DefaultConfig().Parties)
	for made, k := 0, 0; made < agreements; made, k = made+sliceAgreements, k+1 {
		n := min(sliceAgreements, agreements-made)
		g := synth.New(int64(sz.Seed)<<20 + 1 + int64(k))
		g.Parties = parties
		rng := rand.New(rand.NewPCG(uint64(sz.Seed), uint64(k)))
		names, left, active := make([]string, n), make([]int, n), make([]int, n)
		size := 0
		for i := range n {
			names[i] = fmt.Sprintf("agreement-%06d", made+i+1)
			left[i] = per
			if made+i < extra {
				left[i]++
			}
			active[i] = i
			size += left[i]
		}
		out := make([]*events.Amendment, 0, size)
		for len(active) > 0 {
			j := rng.IntN(len(active))
			i := active[j]
			a := g.Next(names[i])
			if a != nil {
				out = append(out, a)
				left[i]--
			}
			if a == nil || left[i] == 0 {
				active[j] = active[len(active)-1]
				active = active[:len(active)-1]
			}
		}
		if err := put(out); err != nil {
			return err
		}
	}
	return nil
}

// orderedRead reads the ledger's stream with an ordered consumer and returns messages/s.
func orderedRead(ctx context.Context, nc *nats.Conn, n int, headersOnly bool) (float64, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	cons, err := js.OrderedConsumer(ctx, "LEDGER", jetstream.OrderedConsumerConfig{HeadersOnly: headersOnly})
	if err != nil {
		return 0, err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(1000))
	if err != nil {
		return 0, err
	}
	defer it.Stop()
	for i := 0; i < n; i++ {
		if _, err := it.Next(); err != nil {
			return 0, err
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// stateLatency times state queries at random valid times and returns p50
// and p99 in microseconds.
func stateLatency(l *ledger.Ledger, agreement string, n int) ([2]float64, error) {
	tl, err := l.Timeline(agreement, time.Time{})
	if err != nil {
		return [2]float64{}, err
	}
	lo, hi := tl.Span[0], tl.Span[1]
	rng := rand.New(rand.NewPCG(1, 2))
	lat := make([]float64, n)
	for i := range lat {
		at := lo.Add(time.Duration(rng.Int64N(int64(hi.Sub(lo)) + 1)))
		start := time.Now()
		if _, err := l.State(agreement, at, time.Time{}); err != nil {
			return [2]float64{}, err
		}
		lat[i] = float64(time.Since(start).Nanoseconds()) / 1000
	}
	slices.Sort(lat)
	return [2]float64{lat[n/2], lat[n*99/100]}, nil
}

// conflictsLatency is the median time of conflicts(T) at several times, in ms.
func conflictsLatency(l *ledger.Ledger) float64 {
	var ms []float64
	for y := 2016; y <= 2040; y += 3 {
		start := time.Now()
		if _, err := l.Conflicts(time.Date(y, 6, 1, 0, 0, 0, 0, time.UTC), time.Time{}); err != nil {
			return -1
		}
		ms = append(ms, float64(time.Since(start).Microseconds())/1000)
	}
	slices.Sort(ms)
	return ms[len(ms)/2]
}

// Order is the order of the rows in the text table; keys of Report.Results.
var Order = []string{"p1", "p1c", "p2", "p3", "p3c", "p4", "p5", "p6", "p7", "p8", "p8l",
	"p9_p4", "p9_p5", "p9_p6", "p9_p7", "p9_p8", "p9_p8l", "p10", "p11", "p12", "p13"}

// WriteText writes the report as a table for people: a row per result, in
// Order, with its notes on lines of their own below it.
func (r *Report) WriteText(w io.Writer) error {
	size := "full sizes"
	if r.Sizes.Quick {
		size = "quick sizes (smaller than the targets assume)"
	}
	if r.Sizes.Huge > 0 {
		size += fmt.Sprintf(", p9 at %d amendments over %d agreements", r.Sizes.Huge, r.Sizes.HugeAgreements)
	}
	fmt.Fprintf(w, "ledger bench, %s; %s\n\n", size, r.Machine)
	rows := [][]string{{"id", "measure", "ledger", "raw JetStream", "ratio", "target", "met"}}
	var notes [][]string // the note lines after each row
	for _, id := range r.order() {
		res := r.Results[id]
		raw, ratio := "—", "—"
		if res.Raw != nil {
			raw = fmt.Sprintf("%s %s", num(*res.Raw), res.Unit)
			ratio = fmt.Sprintf("%.2f×", *res.Ratio)
		}
		figure, met := fmt.Sprintf("%s %s", num(res.Ledger), res.Unit), "yes"
		switch {
		case res.Skipped != "":
			figure, met = "skipped", "—"
		case !res.Met:
			met = "NO"
		}
		rows = append(rows, []string{id, res.Name, figure, raw, ratio, res.Target, met})
		var lines []string
		if res.Skipped != "" {
			lines = append(lines, "skipped: "+res.Skipped)
		}
		if res.Note != "" {
			lines = append(lines, strings.Split(res.Note, "\n")...)
		}
		notes = append(notes, lines)
	}
	// Columns as wide as their widest cell; notes do not widen them.
	width := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	bw := bufio.NewWriter(w)
	for n, row := range rows {
		var line strings.Builder
		for i, c := range row {
			line.WriteString(c)
			if i < len(row)-1 {
				line.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)+2))
			}
		}
		fmt.Fprintf(bw, "%s\n", strings.TrimRight(line.String(), " "))
		if n > 0 {
			for _, note := range notes[n-1] {
				fmt.Fprintf(bw, "%s  %s\n", strings.Repeat(" ", width[0]+2), note)
			}
		}
	}
	return bw.Flush()
}

// order lists the results in Order, then any others by id.
func (r *Report) order() []string {
	var ids []string
	for _, id := range Order {
		if r.Results[id] != nil {
			ids = append(ids, id)
		}
	}
	var rest []string
	for id := range r.Results {
		if !slices.Contains(Order, id) {
			rest = append(rest, id)
		}
	}
	slices.Sort(rest)
	return append(ids, rest...)
}

// num writes a figure with a sensible number of digits.
func num(f float64) string {
	switch {
	case f >= 1000:
		return strconv.FormatFloat(math.Round(f), 'f', 0, 64)
	case f >= 10:
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'f', 2, 64)
}
