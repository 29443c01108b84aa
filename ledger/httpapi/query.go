package httpapi

import (
	"net/http"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/wire"
	"github.com/agreement-ledger/ledger/projections"
)

// query wraps a read endpoint to observe its latency under kind.
func (h *Handler) query(kind string, fn http.HandlerFunc) http.HandlerFunc {
	obs := h.m.queryDuration.WithLabelValues(kind)
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		fn(w, r)
		obs.Observe(time.Since(start).Seconds())
	}
}

// defaultAt is "now" for a request that gives no at, to the second.
func (h *Handler) defaultAt() time.Time { return h.now().UTC().Truncate(time.Second) }

// AgreementList is the document of GET /v1/agreements (see package wire,
// which the NATS service shares it with).
type AgreementList = wire.AgreementList

// AgreementSummary is one agreement in a list.
type AgreementSummary = wire.AgreementSummary

func (h *Handler) agreements(w http.ResponseWriter, r *http.Request) {
	p := newParams(r, "at")
	at := p.Time("at", h.defaultAt())
	if p.Err != nil {
		h.fail(w, r, p.Err)
		return
	}
	list, err := h.l.Agreements(at)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeJSON(w, r, http.StatusOK, wire.Agreements(at, list))
}

func (h *Handler) state(w http.ResponseWriter, r *http.Request) {
	p := newParams(r, "at", "known_at", "allow_damaged")
	at := p.Time("at", h.defaultAt())
	known := h.knownAt(r, p)
	opts := p.Damaged()
	if p.Err != nil {
		h.fail(w, r, p.Err)
		return
	}
	s, err := h.l.State(r.PathValue("agreement"), at, known, opts...)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	projections.EchoKnownAt(s, p.KnownAtAmendment)
	tag := etag(s.Version)
	w.Header().Set("ETag", tag)
	w.Header().Set("Cache-Control", "private, no-cache")
	if noneMatch(r.Header.Get("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.writeJSON(w, r, http.StatusOK, s)
}

func (h *Handler) history(w http.ResponseWriter, r *http.Request) {
	p := newParams(r, "allow_damaged", "full")
	opts := p.Damaged()
	full := p.Bool("full")
	if p.Err != nil {
		h.fail(w, r, p.Err)
		return
	}
	hist, err := h.l.History(r.PathValue("agreement"), opts...)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if n := len(hist.Amendments); n > 0 {
		w.Header().Set("ETag", etag(hist.Amendments[n-1].Version))
	}
	if full {
		// The amendments as stored, each its canonical bytes: an export
		// that POST /v1/amendments (or ledger append) takes elsewhere.
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(hist.Full(true))
		return
	}
	h.writeJSON(w, r, http.StatusOK, hist)
}

func (h *Handler) timeline(w http.ResponseWriter, r *http.Request) {
	p := newParams(r, "known_at", "allow_damaged")
	known := h.knownAt(r, p)
	opts := p.Damaged()
	if p.Err != nil {
		h.fail(w, r, p.Err)
		return
	}
	tl, err := h.l.Timeline(r.PathValue("agreement"), known, opts...)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	projections.EchoKnownAt(tl, p.KnownAtAmendment)
	h.writeJSON(w, r, http.StatusOK, tl)
}

func (h *Handler) diff(w http.ResponseWriter, r *http.Request) {
	p := newParams(r, "from", "to", "known_at", "allow_damaged")
	from := p.Required("from")
	to := p.Required("to")
	known := h.knownAt(r, p)
	opts := p.Damaged()
	if p.Err != nil {
		h.fail(w, r, p.Err)
		return
	}
	d, err := h.l.Diff(r.PathValue("agreement"), from, to, known, opts...)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	projections.EchoKnownAt(d, p.KnownAtAmendment)
	h.writeJSON(w, r, http.StatusOK, d)
}

func (h *Handler) conflicts(w http.ResponseWriter, r *http.Request) {
	p := newParams(r, "at", "known_at")
	at := p.Time("at", h.defaultAt())
	known := h.knownAt(r, p)
	if p.Err != nil {
		h.fail(w, r, p.Err)
		return
	}
	rep, err := h.l.Conflicts(at, known)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	projections.EchoKnownAt(rep, p.KnownAtAmendment)
	h.writeJSON(w, r, http.StatusOK, rep)
}

func (h *Handler) check(w http.ResponseWriter, r *http.Request) {
	p := newParams(r, "party", "product", "channel", "platform", "territory", "at", "known_at", "ignore_basis")
	q := p.RightsQuery(h.defaultAt(), func() time.Time { return h.knownAt(r, p) })
	if p.Err != nil {
		h.fail(w, r, p.Err)
		return
	}
	res, err := h.l.Check(q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	projections.EchoKnownAt(&res, p.KnownAtAmendment)
	h.writeJSON(w, r, http.StatusOK, res)
}

func (h *Handler) verify(w http.ResponseWriter, r *http.Request) {
	if p := newParams(r); p.Err != nil {
		h.fail(w, r, p.Err)
		return
	}
	rep, err := h.l.Verify(r.Context(), nil)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if rep.Settings == nil {
		rep.Settings = []string{}
	}
	h.writeJSON(w, r, http.StatusOK, rep)
}

// Health is the document of GET /healthz: "ok", or "degraded" with the
// problems (a damaged store, one out of space). A degraded server still
// answers what it can, so it answers 200 either way: a probe that
// restarted it would mend nothing.
type Health = ledger.Health

func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	h.writeJSON(w, r, http.StatusOK, h.l.Health(r.Context()))
}

func (h *Handler) amendmentSchema(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/schema+json")
	_, _ = w.Write(events.Schema)
}
