// Package httpapi is the agreement ledger's HTTP API and web page.
//
// New returns one http.Handler serving:
//
//   - the JSON API under /v1 (the same documents as the command's -o json):
//     appends with optimistic concurrency (If-Match) and dry runs, state,
//     conflicts, rights checks, avails and holdings over a window, the deal
//     calendar (also as an iCalendar file), history, timelines, diffs,
//     verify, and Server-Sent Events of amendments as they are recorded;
//   - /openapi.json, an OpenAPI 3.1 description of all of it;
//   - /metrics for Prometheus and /healthz;
//   - the web page at /, which draws an agreement's timeline as of a date
//     and as known at a date, with its state and the conflicts of that date.
//
// Authentication is by bearer tokens with a role, read or write. Without
// tokens there is none, and CheckBind keeps the server on loopback.
package httpapi

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/wire"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultMaxBody is the default limit on a request body: 8 MiB.
const DefaultMaxBody = 8 << 20

// Options configure the handler.
type Options struct {
	// Tokens are the bearer tokens and their roles. Empty: no
	// authentication (serve on loopback only; see CheckBind).
	Tokens Tokens
	// Logger receives one line per request and the details of internal
	// errors. Default: slog.Default().
	Logger *slog.Logger
	// Registry is where the metrics are registered. Default: a registry of
	// the handler's own (with Go and process collectors). /metrics serves
	// Registry when it is also a prometheus.Gatherer (a *prometheus.Registry
	// is), else prometheus.DefaultGatherer.
	Registry prometheus.Registerer
	// MaxBody limits request bodies, in bytes. Default DefaultMaxBody.
	MaxBody int64
	// Now is the clock "at" defaults to. Default time.Now.
	Now func() time.Time
}

// Handler serves the API and the web page. It is an http.Handler.
type Handler struct {
	l       *ledger.Ledger
	log     *slog.Logger
	tokens  map[[32]byte]Role
	auth    bool
	maxBody int64
	now     func() time.Time
	m       *metrics
	mux     *http.ServeMux

	streams     chan struct{} // closed by CloseStreams
	closeStream sync.Once
}

// New returns the handler for l.
func New(l *ledger.Ledger, opts Options) *Handler {
	h := &Handler{l: l, log: opts.Logger, tokens: opts.Tokens.hashed(), auth: len(opts.Tokens) > 0, maxBody: opts.MaxBody, now: opts.Now, streams: make(chan struct{})}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBody
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.m = newMetrics(l, opts.Registry, h.log)
	if !h.auth {
		h.log.Warn("http: no API tokens configured: authentication is off and every client may append; serve on a loopback address only")
	}
	h.routes()
	return h
}

// CloseStreams ends the event streams being served, and any opened later, so
// that a server shutting down does not wait for them: Serve does it, and a
// caller running its own http.Server registers it with
// srv.RegisterOnShutdown(h.CloseStreams).
func (h *Handler) CloseStreams() { h.closeStream.Do(func() { close(h.streams) }) }

// AuthEnabled reports whether requests need a bearer token.
func (h *Handler) AuthEnabled() bool { return h.auth }

// endpoint is one path: its methods, the role they need, and its name in
// metrics and logs.
type endpoint struct {
	name    string
	methods map[string]http.HandlerFunc
	role    map[string]Role // per method; missing: public
}

func (h *Handler) routes() {
	mux := http.NewServeMux()
	get := func(name string, role Role, fn http.HandlerFunc) endpoint {
		return endpoint{name: name, methods: map[string]http.HandlerFunc{http.MethodGet: fn}, role: map[string]Role{http.MethodGet: role}}
	}
	handle := func(pattern string, ep endpoint) { mux.Handle(pattern, h.endpoint(ep)) }

	handle("/v1/agreements/{agreement}/amendments", endpoint{name: "append",
		methods: map[string]http.HandlerFunc{http.MethodPost: h.appendAgreement},
		role:    map[string]Role{http.MethodPost: Write}})
	handle("/v1/amendments", endpoint{name: "append",
		methods: map[string]http.HandlerFunc{http.MethodPost: h.appendMixed},
		role:    map[string]Role{http.MethodPost: Write}})
	handle("/v1/agreements", get("agreements", Read, h.query("agreements", h.agreements)))
	handle("/v1/agreements/{agreement}/state", get("state", Read, h.query("state", h.state)))
	handle("/v1/agreements/{agreement}/history", get("history", Read, h.query("history", h.history)))
	handle("/v1/agreements/{agreement}/timeline", get("timeline", Read, h.query("timeline", h.timeline)))
	handle("/v1/agreements/{agreement}/diff", get("diff", Read, h.query("diff", h.diff)))
	handle("/v1/conflicts", get("conflicts", Read, h.query("conflicts", h.conflicts)))
	handle("/v1/check", get("check", Read, h.query("check", h.check)))
	handle("/v1/avails", get("avails", Read, h.query("avails", h.avails)))
	handle("/v1/calendar", get("calendar", Read, h.query("calendar", h.calendar)))
	handle("/v1/calendar.ics", get("calendar", Read, h.query("calendar", h.calendar)))
	handle("/v1/verify", get("verify", Read, h.query("verify", h.verify)))
	handle("/v1/events", get("events", Read, h.events))
	handle("/v1/schema/amendment.json", get("schema", "", h.amendmentSchema))
	handle("/openapi.json", get("openapi", "", h.openapi))
	handle("/healthz", get("healthz", "", h.healthz))
	handle("/metrics", get("metrics", Read, h.m.handler().ServeHTTP))

	handle("/{$}", get("page", "", h.page))
	handle("/assets/{file}", get("assets", "", h.asset))
	handle("/ui/agreements", get("ui", Read, h.uiAgreements))
	handle("/ui/view/{agreement}", get("ui", Read, h.uiView))
	handle("/ui/avails", get("ui", Read, h.uiAvails))
	handle("/ui/timeline/{file}", get("ui", Read, h.uiTimelineSVG))

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, &events.Error{Kind: events.NotFound, Message: fmt.Sprintf("no such endpoint: %s (see /openapi.json)", r.URL.Path)})
	})
	h.mux = mux
}

// ServeHTTP logs the request, counts it, recovers from panics and routes it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	route := "other"
	r = r.WithContext(withRoute(r.Context(), &route))
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.log.Error("http: panic serving request", "method", r.Method, "path", r.URL.Path, "panic", p)
			if !rec.wrote {
				h.fail(rec, r, fmt.Errorf("panic: %v", p))
			}
		}
		d := time.Since(start)
		h.m.requests.WithLabelValues(route, fmt.Sprint(rec.status)).Inc()
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		h.log.LogAttrs(r.Context(), level, "http request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", rec.status),
			slog.Duration("duration", d), slog.Int64("bytes", rec.bytes), slog.String("route", route),
			slog.String("remote", r.RemoteAddr))
	}()
	h.mux.ServeHTTP(rec, r)
}

// endpoint wraps an endpoint's methods with the method check and auth.
func (h *Handler) endpoint(ep endpoint) http.Handler {
	allow := make([]string, 0, len(ep.methods)+1)
	for m := range ep.methods {
		allow = append(allow, m)
		if m == http.MethodGet {
			allow = append(allow, http.MethodHead)
		}
	}
	slices.Sort(allow)
	allowed := strings.Join(allow, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setRoute(r.Context(), ep.name)
		method := r.Method
		if method == http.MethodHead {
			method = http.MethodGet
		}
		fn, ok := ep.methods[method]
		if !ok {
			w.Header().Set("Allow", allowed)
			h.fail(w, r, &events.Error{Kind: events.MethodNotAllowed, Message: fmt.Sprintf("method %s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, allowed)})
			return
		}
		if !h.authorize(w, r, ep.role[method]) {
			return
		}
		fn(w, r)
	})
}

// authorize checks the request's bearer token against need, answering 401
// or 403 when it does not do.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request, need Role) bool {
	if need == "" || !h.auth {
		return true
	}
	tok, ok := bearer(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ledger"`)
		h.fail(w, r, &events.Error{Kind: events.Unauthorized, Message: "a bearer token is required (Authorization: Bearer TOKEN)"})
		return false
	}
	role, known := h.tokens[sha256Sum(tok)]
	if !known {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ledger", error="invalid_token"`)
		h.fail(w, r, &events.Error{Kind: events.Unauthorized, Message: "the bearer token is not valid"})
		return false
	}
	if !role.allows(need) {
		h.fail(w, r, &events.Error{Kind: events.Forbidden, Message: fmt.Sprintf("a %s token may not do this; it needs a %s token", role, need)})
		return false
	}
	return true
}

// writeJSON writes v as the JSON body of a response with status.
func (h *Handler) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		h.fail(w, r, fmt.Errorf("encoding the response: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// fail writes the JSON error document of err with its status. Internal
// errors are logged and their details withheld; a damaged or full store
// is said, for the client can do nothing about it but tell an operator.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := wire.Status(err)
	if code >= 500 {
		h.log.Error("http: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	h.writeJSON(w, r, code, ledger.Document(err, false))
}
