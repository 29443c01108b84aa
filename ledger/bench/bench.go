// Package bench measures the ledger beside the raw JetStream operations it
// is built on: in one process and one run, on fresh temporary stores of the
// same embedded server (file storage, every write fsynced), so the ratios
// hold on a shared, noisy machine where absolute rates do not. It backs the
// `ledger bench` command and the package's go test benchmarks.
package bench

import (
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
	"text/tabwriter"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/synth"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Sizes says how much each measurement does.
type Sizes struct {
	Quick      bool   `json:"quick"`
	Appends    int    `json:"appends"`    // p1: appends one at a time (and raw publishes)
	Import     int    `json:"import"`     // p2: amendments imported at once
	Writers    int    `json:"writers"`    // p3: concurrent writers
	PerWriter  int    `json:"per_writer"` // p3: appends each writer makes
	Store      int    `json:"store"`      // p4, p7, p8: amendments in the big store
	Agreements int    `json:"agreements"` // p6: agreements in the big store
	Small      int    `json:"small"`      // p5: amendments of the queried agreement
	Large      int    `json:"large"`      // p5: amendments of the long agreement (100× Small)
	Queries    int    `json:"queries"`    // p5: state queries timed
	Seed       int    `json:"seed"`       // synthetic histories are generated from it
	Dir        string `json:"-"`          // where temporary stores go ("" = the system's)
}

// Full is the size of the targets in the ledger's issue: 100k imported,
// 1M in the big store over 100k agreements, state over 1k and 100k.
func Full() Sizes {
	return Sizes{Appends: 2000, Import: 100_000, Writers: 32, PerWriter: 200, Store: 1_000_000,
		Agreements: 100_000, Small: 1000, Large: 100_000, Queries: 20_000, Seed: 1}
}

// Quick is small enough to finish in under a minute on two cores.
func Quick() Sizes {
	return Sizes{Quick: true, Appends: 300, Import: 10_000, Writers: 32, PerWriter: 30, Store: 60_000,
		Agreements: 5_000, Small: 1000, Large: 20_000, Queries: 5_000, Seed: 1}
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
	Note    string             `json:"note,omitempty"` // lines of text for people
}

// Report is a whole run: results keyed "p1" … "p8".
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
	var p1raw float64
	if err := step("p1 durable appends one at a time", func() error {
		r, raw, err := Appends(ctx, sz)
		rep.Results["p1"], p1raw = r, raw
		return err
	}); err != nil {
		return nil, err
	}
	if err := step("p2 bulk import", func() error {
		r, err := Import(ctx, sz)
		rep.Results["p2"] = r
		return err
	}); err != nil {
		return nil, err
	}
	if err := step("p3 concurrent writers", func() error {
		r, err := Writers(ctx, sz, p1raw)
		rep.Results["p3"] = r
		return err
	}); err != nil {
		return nil, err
	}
	if err := step("p4–p8 the big store", func() error {
		return BigStore(ctx, sz, rep.Results, log)
	}); err != nil {
		return nil, err
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

	start := time.Now()
	for i, d := range data {
		if _, err := s.js.Publish(ctx, "raw.p1", d, jetstream.WithMsgID(strconv.Itoa(i))); err != nil {
			return nil, 0, err
		}
	}
	raw := float64(len(data)) / time.Since(start).Seconds()

	start = time.Now()
	for _, a := range as {
		if _, err := s.l.Append(ctx, []*events.Amendment{a}, ledger.AppendOptions{}); err != nil {
			return nil, 0, err
		}
	}
	lr := float64(len(as)) / time.Since(start).Seconds()
	r := &Result{ID: "p1", Name: "one durable append at a time", Ledger: lr, Raw: ptr(raw), Ratio: ptr(lr / raw), Unit: "appends/s", Target: "≥ 0.9×"}
	r.Met = *r.Ratio >= 0.9
	return r, raw, nil
}

// publishBatches publishes data as atomic batches of size on subject, one
// after another.
func publishBatches(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, subject string, data [][]byte, size int) error {
	for start := 0; start < len(data); start += size {
		batch := data[start:min(start+size, len(data))]
		id := fmt.Sprintf("b%d-%d", time.Now().UnixNano(), start)
		for i, d := range batch {
			m := nats.NewMsg(subject)
			m.Data = d
			m.Header.Set("Nats-Batch-Id", id)
			m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i+1))
			if i < len(batch)-1 {
				if err := nc.PublishMsg(m); err != nil {
					return err
				}
				continue
			}
			m.Header.Set("Nats-Batch-Commit", "1")
			if _, err := js.PublishMsg(ctx, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// Import measures p2: a bulk import, against fsynced atomic batches of 1000.
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
	r := &Result{ID: "p2", Name: fmt.Sprintf("bulk import of %d amendments", len(as)), Ledger: lr, Raw: ptr(raw), Ratio: ptr(lr / raw), Unit: "amendments/s", Target: "≥ 0.7×"}
	r.Met = *r.Ratio >= 0.7
	return r, nil
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
// p7 (memory) and p8 (restart from a snapshot).
func BigStore(ctx context.Context, sz Sizes, out map[string]*Result, log io.Writer) error {
	dir, err := os.MkdirTemp(sz.Dir, "ledger-bench-big-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := ledger.Config{DataDir: dir, SnapshotEvery: -1}
	l, err := ledger.Open(ctx, cfg)
	if err != nil {
		return err
	}
	g := synth.New(int64(sz.Seed))
	rest := sz.Store - sz.Small - sz.Large
	per := max(rest/max(sz.Agreements, 1), 1)
	written := 0
	put := func(as []*events.Amendment) error {
		for len(as) > 0 {
			n := min(len(as), 50_000)
			if _, err := l.Append(ctx, as[:n], ledger.AppendOptions{}); err != nil {
				return err
			}
			written += n
			as = as[n:]
		}
		fmt.Fprintf(log, "bench: %d of %d amendments written\n", written, sz.Store)
		return nil
	}
	if err := put(g.Agreement("bench-small", sz.Small)); err != nil {
		return err
	}
	if err := put(g.Agreement("bench-large", sz.Large)); err != nil {
		return err
	}
	// Generated in slices of 10k agreements drawing on one pool of parties
	// sized for them all: each party in about ten agreements, as in one Many.
	g.Parties = max(sz.Agreements/5, synth.DefaultConfig().Parties)
	for made := 0; made < sz.Agreements; made += 10_000 {
		n := min(10_000, sz.Agreements-made)
		if err := put(g.Many(n, per)); err != nil {
			return err
		}
	}
	// The rest of the division: one more amendment for as many agreements.
	var more []*events.Amendment
	for _, name := range g.Agreements() {
		if len(more) == rest-per*sz.Agreements {
			break
		}
		if !strings.HasPrefix(name, "bench-") {
			more = append(more, g.Next(name))
		}
	}
	if err := put(more); err != nil {
		return err
	}
	total := l.Status().Amendments
	l.Close()
	g = nil

	// p4: rebuild from the stream, against an ordered read of the same stream.
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	l, err = ledger.Open(ctx, cfg)
	if err != nil {
		return err
	}
	if err := l.Ready(ctx); err != nil {
		return err
	}
	rebuild := float64(total) / time.Since(start).Seconds()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	raw, err := orderedRead(ctx, l.Conn(), total)
	if err != nil {
		return err
	}
	out["p4"] = &Result{ID: "p4", Name: fmt.Sprintf("rebuild the read model from %d amendments", total), Ledger: rebuild, Raw: ptr(raw), Ratio: ptr(rebuild / raw), Unit: "amendments/s", Target: "≥ 0.7×"}
	out["p4"].Met = *out["p4"].Ratio >= 0.7

	// p7: resident memory per amendment.
	perAmendment := float64(after.HeapAlloc-min(before.HeapAlloc, after.HeapAlloc)) / float64(total)
	out["p7"] = &Result{ID: "p7", Name: fmt.Sprintf("heap per amendment after loading %d", total), Ledger: perAmendment, Unit: "bytes", Target: "≤ 1024", Met: perAmendment <= 1024}

	// p5: state at random valid times. The collection of what the raw read
	// left behind is not part of the ledger's query times.
	runtime.GC()
	small, err := stateLatency(l, "bench-small", sz.Queries)
	if err != nil {
		return err
	}
	large, err := stateLatency(l, "bench-large", sz.Queries)
	if err != nil {
		return err
	}
	out["p5"] = &Result{ID: "p5", Name: fmt.Sprintf("state(T) p99, agreement of %d amendments in a %d store", sz.Small, total), Ledger: small[1], Unit: "µs",
		Target: "p99 ≤ 100 µs; ≤ 2× at 100× history", P50us: ptr(small[0]), P99us: ptr(small[1]), P99us100x: ptr(large[1]),
		Note: fmt.Sprintf("at %d amendments: p50 %.1f µs, p99 %.1f µs", sz.Large, large[0], large[1])}
	out["p5"].Met = small[1] <= 100 && large[1] <= 2*small[1]

	// p6: conflicts at a time over every agreement.
	ms := conflictsLatency(l)
	out["p6"] = &Result{ID: "p6", Name: fmt.Sprintf("conflicts(T) over %d agreements", sz.Agreements+2), Ledger: ms, Unit: "ms", Target: "≤ 50 ms", Met: ms <= 50}

	// p8: restart with a snapshot until the first query is answered, and
	// until the read model has loaded.
	l.Close()
	cfg.SnapshotEvery = 0
	l, err = ledger.Open(ctx, cfg)
	if err != nil {
		return err
	}
	if err := l.Ready(ctx); err != nil {
		return err
	}
	l.Close() // the first open with snapshots on writes one
	start = time.Now()
	l, err = ledger.Open(ctx, cfg)
	if err != nil {
		return err
	}
	if _, err := l.State("bench-small", time.Now(), time.Time{}); err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	if err := l.Ready(ctx); err != nil {
		return err
	}
	loaded := time.Since(start).Seconds()
	l.Close()
	out["p8"] = &Result{ID: "p8", Name: fmt.Sprintf("restart with %d amendments until the first query (snapshot)", total), Ledger: secs, Unit: "s", Target: "≤ 2 s", Met: secs <= 2,
		Note: fmt.Sprintf("the read model loaded from the snapshot after %.1f s", loaded)}
	return nil
}

// orderedRead reads the ledger's stream with an ordered consumer and returns messages/s.
func orderedRead(ctx context.Context, nc *nats.Conn, n int) (float64, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	cons, err := js.OrderedConsumer(ctx, "LEDGER", jetstream.OrderedConsumerConfig{})
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

// WriteText writes the report as a table for people.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	size := "full"
	if r.Sizes.Quick {
		size = "quick (smaller sizes than the targets assume)"
	}
	fmt.Fprintf(tw, "ledger bench, %s sizes; %s\n\n", size, r.Machine)
	fmt.Fprintf(tw, "id\tmeasure\tledger\traw JetStream\tratio\ttarget\tmet\n")
	for _, id := range []string{"p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"} {
		res := r.Results[id]
		if res == nil {
			continue
		}
		raw, ratio := "—", "—"
		if res.Raw != nil {
			raw = fmt.Sprintf("%s %s", num(*res.Raw), res.Unit)
			ratio = fmt.Sprintf("%.2f×", *res.Ratio)
		}
		met := "yes"
		if !res.Met {
			met = "NO"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%s\t%s\t%s\n", id, res.Name, num(res.Ledger), res.Unit, raw, ratio, res.Target, met)
		if res.Note != "" {
			for _, line := range strings.Split(res.Note, "\n") {
				fmt.Fprintf(tw, "\t  %s\t\t\t\t\t\n", line)
			}
		}
	}
	return tw.Flush()
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
