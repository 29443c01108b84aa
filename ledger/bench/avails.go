package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/synth"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/projections"
)

// p10 and p11 ask, of a store of sz.Agreements agreements (BigStore's, or
// one AvailsStore builds), the questions of a rights and deal desk over a
// year: avails of a product on a channel for every party an exclusive grant
// names (p10), and the deal calendar of every agreement (p11). Years are
// taken where the synthetic agreements live (they open from 2015 to 2020).
var availsYears = []int{2016, 2017, 2018, 2019, 2020, 2021, 2022}

// availsQueries is how many queries each measurement times.
const availsQueries = 21

// Avails measures p10: avails over one year for a product, every party.
func Avails(ctx context.Context, sz Sizes, l *ledger.Ledger) (*Result, error) {
	var ms []float64
	parties, intervals := 0, 0
	for i := range availsQueries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		y := availsYears[i%len(availsYears)]
		q := projections.AvailsQuery{Scope: &events.Scope{Products: []string{fmt.Sprintf("product-%03d", 1+(i*37)%200)}, Channels: []string{"api"}},
			From: time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC)}
		start := time.Now()
		av, err := l.Avails(q)
		if err != nil {
			return nil, err
		}
		ms = append(ms, float64(time.Since(start).Microseconds())/1000)
		parties += len(av.Parties)
		for _, p := range av.Parties {
			intervals += len(p.Intervals)
		}
	}
	p50, p99 := quantiles(ms)
	r := &Result{ID: "p10", Name: fmt.Sprintf("avails over a year for a product, every party, %d agreements", sz.Agreements), Ledger: p50, Unit: "ms",
		Target: "≤ 50 ms", Met: p50 <= 50,
		Note: fmt.Sprintf("median of %d; slowest %.1f ms; %d parties and %d intervals a query on average", len(ms), p99, parties/len(ms), intervals/len(ms))}
	return r, nil
}

// Calendar measures p11: the calendar of a year of every agreement. The
// first one gathers the facts the index keeps for calendars (then kept up to
// date as records are added); the figure is the median of those after it.
func Calendar(ctx context.Context, sz Sizes, l *ledger.Ledger) (*Result, error) {
	var ms []float64
	var first float64
	entries, standing := 0, 0
	for i := range availsQueries + 1 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		y := availsYears[i%len(availsYears)]
		start := time.Now()
		c, err := l.Calendar(projections.CalendarQuery{From: time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			return nil, err
		}
		took := float64(time.Since(start).Microseconds()) / 1000
		if i == 0 {
			first = took
			continue
		}
		ms = append(ms, took)
		entries += len(c.Entries)
		standing += len(c.Standing)
	}
	p50, p99 := quantiles(ms)
	r := &Result{ID: "p11", Name: fmt.Sprintf("calendar of a year, every agreement of %d", sz.Agreements), Ledger: p50, Unit: "ms",
		Target: "≤ 100 ms", Met: p50 <= 100,
		Note: fmt.Sprintf("median of %d; slowest %.1f ms; the first (gathering the facts kept for calendars) %.0f ms; %d dated entries and %d standing risks a year on average",
			len(ms), p99, first, entries/len(ms), standing/len(ms))}
	return r, nil
}

// quantiles returns the median and the largest of ms.
func quantiles(ms []float64) (p50, top float64) {
	s := slices.Clone(ms)
	slices.Sort(s)
	return s[len(s)/2], s[len(s)-1]
}

// AvailsStore builds a store of sz.Agreements agreements of five
// amendments each, generated as BigStore generates its agreements, for p10
// and p11 on their own; done removes it.
func AvailsStore(ctx context.Context, sz Sizes, log io.Writer) (l *ledger.Ledger, done func(), err error) {
	dir, err := os.MkdirTemp(sz.Dir, "ledger-bench-avails-")
	if err != nil {
		return nil, nil, err
	}
	l, err = ledger.Open(ctx, ledger.Config{DataDir: dir, SnapshotEvery: -1})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	done = func() {
		l.Close()
		os.RemoveAll(dir)
	}
	g := synth.New(int64(sz.Seed))
	g.Parties = max(sz.Agreements/5, synth.DefaultConfig().Parties)
	for made := 0; made < sz.Agreements; made += 10_000 {
		as := g.Many(min(10_000, sz.Agreements-made), 5)
		for len(as) > 0 {
			n := min(len(as), 50_000)
			if _, err := l.Append(ctx, as[:n], ledger.AppendOptions{}); err != nil {
				done()
				return nil, nil, err
			}
			as = as[n:]
		}
		fmt.Fprintf(log, "bench: %d of %d agreements written\n", min(made+10_000, sz.Agreements), sz.Agreements)
	}
	return l, done, nil
}
