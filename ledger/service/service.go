// Package service serves the agreement ledger as a NATS service, in the
// services framework of nats.go (micro): any NATS client finds it
// ($SRV.PING, $SRV.INFO, $SRV.STATS) and calls it by request, and the
// instances of several processes on one NATS system share its requests in
// a queue group.
//
// Each endpoint answers on ledger.v1.<name> what the HTTP API answers (see
// package wire): the request is a JSON object of the HTTP API's parameters
// ({"agreement": "…", "at": "…", "known_at": "…"}), the reply is the same
// JSON document, and an error is a micro error whose code is the HTTP
// status, whose description is the error document's message, and whose
// body is the error document. An append's body is the amendments, as the
// HTTP API takes them; its expected version and dry run are headers.
//
// Before it answers, an instance catches up with the stream (the
// agreement's last message, or the stream's for questions across
// agreements): an append acknowledged by any instance, or any process, is
// in the answer of any other right after.
package service

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/wire"
	"github.com/agreement-ledger/ledger/projections"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configure the service.
type Options struct {
	// Version is the service's version, SemVer; a Go module version
	// ("v1.2.3") has its "v" dropped, and "" or "devel" is "0.0.0-devel".
	Version string
	// Name and Prefix of the service and its subjects. Default
	// wire.ServiceName and wire.SubjectPrefix. Instances of one name and
	// prefix share requests: they must serve the same stream.
	Name, Prefix string
	// Logger receives the details of internal errors. Default: discard.
	Logger *slog.Logger
	// Registry is where the per-endpoint metrics are registered. Default:
	// a registry of the service's own.
	Registry prometheus.Registerer
	// Now is the clock "at" defaults to. Default time.Now.
	Now func() time.Time
}

// Service is the ledger's NATS service, started by Start.
type Service struct {
	l        *ledger.Ledger
	nc       *nats.Conn
	svc      micro.Service
	log      *slog.Logger
	now      func() time.Time
	m        *metrics
	inflight atomic.Int64 // requests being answered
}

// endpoint is one request the service answers: its name (the last token of
// its subject), the parameters its JSON object may have, and what answers
// it. An append's body is not parameters but amendments (body).
type endpoint struct {
	name        string
	params      []string
	body        bool
	description string
	answer      func(s *Service, ctx context.Context, req micro.Request, p *params) (any, error)
}

// endpoints are the service's requests, in the order of the HTTP API's
// paths.
var endpoints = []endpoint{
	{name: "append", body: true, answer: (*Service).append,
		description: "record amendments (the body: one JSON object, an array or JSON Lines); headers " + wire.ExpectVersionHeader + ", " + wire.DryRunHeader},
	{name: "agreements", params: []string{"at"}, answer: (*Service).agreements,
		description: "the agreements, with their status at a time"},
	{name: "state", params: []string{"agreement", "at", "known_at", "allow_damaged"}, answer: (*Service).state,
		description: "what an agreement said at a time, as known at a time (a time or an amendment id); allow_damaged: answer about a damaged agreement from its intact prefix"},
	{name: "history", params: []string{"agreement", "allow_damaged"}, answer: (*Service).history,
		description: "an agreement's amendments in recording order"},
	{name: "timeline", params: []string{"agreement", "known_at", "allow_damaged"}, answer: (*Service).timeline,
		description: "an agreement's clauses as bars over time"},
	{name: "diff", params: []string{"agreement", "from", "to", "known_at", "allow_damaged"}, answer: (*Service).diff,
		description: "what changed in an agreement between two times"},
	{name: "conflicts", params: []string{"at", "known_at"}, answer: (*Service).conflicts,
		description: "exclusive grants that collide at a time, across agreements"},
	{name: "check", params: []string{"party", "product", "channel", "platform", "territory", "at", "known_at", "ignore_basis"}, answer: (*Service).check,
		description: "may a party offer a product on a channel at a time: what gives it the right (basis), what keeps it out (blocking); ignore_basis asks only the latter"},
	{name: "avails", params: []string{"product", "channel", "platform", "territory", "party", "holder", "from", "to", "known_at", "ignore_basis"}, answer: (*Service).avails,
		description: "from when to when each party may offer a product on a channel, over [from, to); with holder, what that party holds exclusively"},
	{name: "calendar", params: []string{"agreement", "from", "to", "known_at", "allow_damaged"}, answer: (*Service).calendar,
		description: "what falls due over [from, to), of one agreement or of every one: clauses starting and ending, caps reached, standing risks"},
	{name: "verify", params: []string{"heads"}, answer: (*Service).verify,
		description: "every hash chain and the stream's settings; heads: exported heads to check"},
}

// Endpoints lists the names of the service's endpoints.
func Endpoints() []string {
	out := make([]string, len(endpoints))
	for i, e := range endpoints {
		out[i] = e.name
	}
	return out
}

// Start registers the service on nc, answering from l, until Stop (or the
// connection closes).
func Start(nc *nats.Conn, l *ledger.Ledger, opts Options) (*Service, error) {
	if opts.Name == "" {
		opts.Name = wire.ServiceName
	}
	if opts.Prefix == "" {
		opts.Prefix = wire.SubjectPrefix
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Service{l: l, nc: nc, log: opts.Logger, now: opts.Now, m: newMetrics(opts.Registry, opts.Logger)}
	svc, err := micro.AddService(nc, micro.Config{
		Name:        opts.Name,
		Version:     semver(opts.Version),
		Description: "Agreement ledger: point-in-time state, conflicts, rights checks, avails, the deal calendar, timelines and appends",
		Metadata:    map[string]string{"stream": l.Config().Stream, "subjects": opts.Prefix + ".>"},
	})
	if err != nil {
		return nil, fmt.Errorf("service: %w", err)
	}
	s.svc = svc
	g := svc.AddGroup(opts.Prefix)
	for _, e := range endpoints {
		meta := map[string]string{"description": e.description}
		if len(e.params) > 0 {
			meta["params"] = strings.Join(e.params, ", ")
		}
		if err := g.AddEndpoint(e.name, s.handler(e), micro.WithEndpointMetadata(meta)); err != nil {
			s.Stop()
			return nil, fmt.Errorf("service: endpoint %s: %w", e.name, err)
		}
	}
	return s, nil
}

// semver is a version micro accepts: SemVer without a "v".
func semver(v string) string {
	v = strings.TrimPrefix(v, "v")
	if v == "" || v == "devel" || v == "(devel)" {
		return "0.0.0-devel"
	}
	return v
}

// Stop stops answering: the instance leaves the queue group, and the
// others answer what it would have. The requests it has already taken are
// answered first: Stop returns when it has been idle for a moment (micro
// drains its subscriptions without saying when they are empty), or after
// StopWait.
func (s *Service) Stop() error {
	err := s.svc.Stop()
	_ = s.nc.FlushTimeout(time.Second) // the server has the unsubscriptions: nothing new arrives
	idle := 0
	for deadline := time.Now().Add(StopWait); idle < 3 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if s.inflight.Load() == 0 {
			idle++
		} else {
			idle = 0
		}
	}
	return err
}

// StopWait bounds how long Stop waits for the requests taken.
var StopWait = 10 * time.Second

// Info is the service's description, as $SRV.INFO answers it.
func (s *Service) Info() micro.Info { return s.svc.Info() }

// Stats are the service's counts, as $SRV.STATS answers them.
func (s *Service) Stats() micro.Stats { return s.svc.Stats() }

// handler answers an endpoint's requests: one at a time for each endpoint
// of an instance (micro calls it from the subscription's one goroutine);
// more instances answer more at once.
func (s *Service) handler(e endpoint) micro.Handler {
	count, took := s.m.endpoint(e.name)
	return micro.HandlerFunc(func(req micro.Request) {
		start := time.Now()
		s.inflight.Add(1)
		code := 200
		defer func() {
			s.inflight.Add(-1)
			// A panic would end the process (micro calls handlers from the
			// connection's goroutines): it is an internal error of one
			// request, as in the HTTP API.
			if p := recover(); p != nil {
				s.log.Error("service: panic answering a request", "endpoint", e.name, "panic", p)
				code = s.fail(req, e.name, fmt.Errorf("panic: %v", p))
			}
			count(code)
			took(time.Since(start))
		}()
		var p *params
		if !e.body {
			p = readParams(req.Data(), e.params)
		}
		v, err := e.answer(s, context.Background(), req, p)
		if err == nil && p != nil {
			projections.EchoKnownAt(v, p.KnownAtAmendment)
		}
		var body []byte
		if err == nil {
			body, err = json.Marshal(v)
		}
		if err != nil {
			code = s.fail(req, e.name, err)
		} else if rerr := req.Respond(body); rerr != nil {
			s.log.Warn("service: reply not sent", "endpoint", e.name, "err", rerr)
		}
	})
}

// maxDescription bounds the error description, which travels in a header:
// the error document in the body has all of it.
const maxDescription = 1024

// fail answers err as a micro error: its code the HTTP status, its
// description the error document's message, its body the document.
// Internal errors are logged and their details withheld, as the HTTP API
// does. It returns the status.
func (s *Service) fail(req micro.Request, endpoint string, err error) int {
	code := wire.Status(err)
	if code >= 500 {
		s.log.Error("service: internal error", "endpoint", endpoint, "err", err)
	}
	doc := ledger.Document(err, false) // a damaged or full store is said, as the HTTP API says it
	body, _ := json.Marshal(doc)
	// A header is one line.
	desc := strings.Join(strings.Fields(doc.Error.Message), " ")
	if len(desc) > maxDescription {
		desc = strings.ToValidUTF8(desc[:maxDescription], "") + "… (see the error document)"
	}
	if desc == "" {
		desc = "error"
	}
	if rerr := req.Error(strconv.Itoa(code), desc, body); rerr != nil {
		s.log.Warn("service: error reply not sent", "endpoint", endpoint, "err", rerr)
	}
	return code
}

// defaultAt is "now" for a request that gives no at, to the second.
func (s *Service) defaultAt() time.Time { return s.now().UTC().Truncate(time.Second) }
