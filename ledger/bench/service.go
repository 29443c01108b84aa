package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/events/seed"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/client"
	"github.com/agreement-ledger/ledger/ledger/httpapi"
	"github.com/agreement-ledger/ledger/ledger/service"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
)

// agreement is what p12 asks about.
const agreement = "microsoft-openai"

// askers is how many goroutines ask at once in p12's rate measurements:
// enough to keep three instances busy.
const askers = 16

// ServiceQueries measures p12: state queries per second through the NATS
// service with one instance and with three, on a three-node cluster started
// in the process (the stream replicated three times, each instance a ledger
// on a node of its own, the client on the first node), beside the same
// query through the HTTP API and through the in-process API, sz.Queries
// each, askers at a time. Each path is measured in three blocks, the paths
// alternating, so that a change in the machine's load falls on all of them.
// One asker at a time gives each path's latency: the service's over the
// in-process API is its per-request overhead, which includes catching up
// with the stream (one lookup of the agreement's last message), timed on
// its own too.
func ServiceQueries(ctx context.Context, sz Sizes) (*Result, error) {
	c, err := StartCluster(sz.Dir)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	ls := make([]*ledger.Ledger, 3)
	defer func() {
		for _, l := range ls {
			if l != nil {
				l.Close()
			}
		}
	}()
	for i := range ls {
		// Each instance starts on its own node.
		if ls[i], err = ledger.Open(ctx, ledger.Config{URL: c.urls[i], Replicas: 3, Stream: "P12", Subject: "p12.agreement", SnapshotEvery: -1}); err != nil {
			return nil, err
		}
	}
	// The question is the seed's: what the Microsoft–OpenAI agreement said
	// at a time (a state of four or five clauses, 2 KB): the paths' cost,
	// not the cost of writing a large document, is what is compared.
	if _, err := ls[0].Append(ctx, seed.Amendments(), ledger.AppendOptions{}); err != nil {
		return nil, err
	}
	for _, l := range ls {
		if err := l.Sync(ctx); err != nil {
			return nil, err
		}
	}
	tl, err := ls[0].Timeline(agreement, time.Time{})
	if err != nil {
		return nil, err
	}
	lo, hi := tl.Span[0], tl.Span[1]
	rng := rand.New(rand.NewPCG(uint64(sz.Seed), 12))
	ats := make([]time.Time, 1024)
	for i := range ats {
		// To the second: a time the HTTP API and the service take as given.
		ats[i] = lo.Add(time.Duration(rng.Int64N(int64(hi.Sub(lo)) + 1))).Truncate(time.Second)
	}

	svcs := make([]*service.Service, 3)
	startService := func(i int) error {
		var err error
		svcs[i], err = service.Start(ls[i].Conn(), ls[i], service.Options{Registry: prometheus.NewRegistry()})
		return err
	}
	stopService := func(i int) {
		if svcs[i] != nil {
			svcs[i].Stop()
			svcs[i] = nil
		}
	}
	defer func() {
		for i := range svcs {
			stopService(i)
		}
	}()
	if err := startService(0); err != nil {
		return nil, err
	}
	nc, err := nats.Connect(c.urls[0], nats.Name("p12 client"))
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	cl := client.New(nc, client.Options{})

	web, err := serveHTTP(ls[0])
	if err != nil {
		return nil, err
	}
	defer web.Close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: askers}}

	paths := map[string]func(at time.Time) error{
		"in_process": func(at time.Time) error { _, err := ls[0].State(agreement, at, time.Time{}); return err },
		"http": func(at time.Time) error {
			res, err := hc.Get(web.url + "/v1/agreements/" + agreement + "/state?at=" + url.QueryEscape(events.FormatTime(at)))
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if err == nil && res.StatusCode != http.StatusOK {
				err = fmt.Errorf("bench: p12: HTTP %s", res.Status)
			}
			return err
		},
		// The document, as HTTP's is read: decoding it into a State is the
		// client's work, timed on its own below.
		"service": func(at time.Time) error {
			var doc json.RawMessage
			return cl.Request(ctx, "state", client.Params{"agreement": agreement, "at": events.FormatTime(at)}, &doc)
		},
		"typed": func(at time.Time) error { _, err := cl.State(ctx, agreement, at, time.Time{}); return err },
	}
	// Each path warmed up, then timed in blocks.
	for _, p := range paths {
		if p == nil {
			continue
		}
		if _, err := rate(ats[:min(200, len(ats))], 4, p); err != nil {
			return nil, err
		}
	}
	const blocks = 3
	n := max(sz.Queries/blocks, 30)
	took := map[string]time.Duration{}
	for b := range blocks {
		part := make([]time.Time, n)
		for i := range part {
			part[i] = ats[(b*n+i)%len(ats)]
		}
		for _, name := range []string{"in_process", "http", "service_1", "service_3"} {
			p := paths[name]
			switch name {
			case "service_1":
				stopService(1)
				stopService(2)
				p = paths["service"]
			case "service_3":
				if err := startService(1); err != nil {
					return nil, err
				}
				if err := startService(2); err != nil {
					return nil, err
				}
				for _, l := range ls {
					l.Conn().Flush() // the servers have the subscriptions
				}
				p = paths["service"]
			}
			d, err := rate(part, askers, p)
			if err != nil {
				return nil, fmt.Errorf("bench: p12 %s: %w", name, err)
			}
			took[name] += d
		}
	}
	rates := map[string]float64{}
	for name, d := range took {
		rates[name] = float64(blocks*n) / d.Seconds()
	}
	if shared := answeredBy(svcs); shared < 3 {
		return nil, fmt.Errorf("bench: p12: %d of the three instances answered", shared)
	}

	// One asker at a time: latency per query, and the catch-up alone.
	stopService(1)
	stopService(2)
	one := ats[:min(max(sz.Queries/10, 50), len(ats))]
	lat := map[string]float64{}
	for _, name := range []string{"in_process", "http", "service", "typed"} {
		d, err := rate(one, 1, paths[name])
		if err != nil {
			return nil, err
		}
		lat[name] = float64(d.Microseconds()) / float64(len(one))
	}
	start := time.Now()
	for range one {
		if err := ls[0].SyncAgreement(ctx, agreement); err != nil {
			return nil, err
		}
	}
	lat["catch_up"] = float64(time.Since(start).Microseconds()) / float64(len(one))

	gain := rates["service_3"] / rates["service_1"]
	r := &Result{ID: "p12", Name: "state queries through the NATS service, 3 instances (R3 cluster)", Ledger: rates["service_3"], Unit: "queries/s",
		Target: "3 instances ≥ 1 (2 cores bound the gain)", Met: gain >= 1,
		Figures: map[string]float64{"service_1": rates["service_1"], "service_3": rates["service_3"], "gain": gain, "http": rates["http"], "in_process": rates["in_process"],
			"latency_in_process_us": lat["in_process"], "latency_http_us": lat["http"], "latency_service_us": lat["service"], "latency_typed_us": lat["typed"], "catch_up_us": lat["catch_up"],
			"overhead_us": lat["service"] - lat["in_process"]},
		Note: fmt.Sprintf("%d at a time: 1 instance %s/s, 3 instances %s/s (%.2f×); HTTP API %s/s; in-process API %s/s\n"+
			"one at a time: in-process %.1f µs, HTTP %.1f µs, service %.1f µs a query: %.1f µs over in-process, of which catching up with the stream %.1f µs;\n"+
			"the Go client decoding the document into a State: %.1f µs a query",
			askers, num(rates["service_1"]), num(rates["service_3"]), gain, num(rates["http"]), num(rates["in_process"]),
			lat["in_process"], lat["http"], lat["service"], lat["service"]-lat["in_process"], lat["catch_up"], lat["typed"])}
	return r, nil
}

// rate asks ask of every time in ats, k at a time, and returns how long
// it took.
func rate(ats []time.Time, k int, ask func(time.Time) error) (time.Duration, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	next := make(chan time.Time)
	start := time.Now()
	for range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for at := range next {
				if err := ask(at); err != nil {
					mu.Lock()
					first = errors.Join(first, err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, at := range ats {
		next <- at
	}
	close(next)
	wg.Wait()
	return time.Since(start), first
}

// answeredBy counts the services that answered state queries.
func answeredBy(svcs []*service.Service) int {
	n := 0
	for _, s := range svcs {
		if s == nil {
			continue
		}
		for _, e := range s.Stats().Endpoints {
			if e.Name == "state" && e.NumRequests > 0 {
				n++
			}
		}
	}
	return n
}

// webServer is the HTTP API of a ledger on a loopback port.
type webServer struct {
	url string
	srv *http.Server
}

func serveHTTP(l *ledger.Ledger) (*webServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := httpapi.New(l, httpapi.Options{Logger: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry()})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return &webServer{url: "http://" + strings.TrimPrefix(ln.Addr().String(), "http://"), srv: srv}, nil
}

func (w *webServer) Close() { w.srv.Close() }
