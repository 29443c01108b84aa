package httpapi

import (
	"bytes"
	"net/http"
	"strings"
	"time"

	"github.com/agreement-ledger/ledger/ledger/render"
	"github.com/agreement-ledger/ledger/projections"
)

func (h *Handler) avails(w http.ResponseWriter, r *http.Request) {
	p := newParams(r, "product", "channel", "platform", "territory", "party", "holder", "from", "to", "known_at", "ignore_basis")
	aq, hq := p.AvailsQuery(func() time.Time { return h.knownAt(r, p) })
	if p.Err != nil {
		h.fail(w, r, p.Err)
		return
	}
	var v any
	var err error
	if hq != nil {
		v, err = h.l.Holdings(*hq)
	} else {
		v, err = h.l.Avails(*aq)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	projections.EchoKnownAt(v, p.KnownAtAmendment)
	h.writeJSON(w, r, http.StatusOK, v)
}

// calendar is GET /v1/calendar (JSON, or the iCalendar file when asked for
// with Accept: text/calendar) and GET /v1/calendar.ics (the file).
func (h *Handler) calendar(w http.ResponseWriter, r *http.Request) {
	p := newParams(r, "agreement", "from", "to", "known_at", "allow_damaged")
	q := projections.CalendarQuery{Agreement: p.Slug("agreement", false)}
	q.From, q.To = p.Window()
	q.KnownAt = h.knownAt(r, p)
	if p.Err != nil {
		h.fail(w, r, p.Err)
		return
	}
	c, err := h.l.Calendar(q, p.Damaged()...)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	projections.EchoKnownAt(c, p.KnownAtAmendment)
	if !strings.HasSuffix(r.URL.Path, ".ics") && !strings.Contains(r.Header.Get("Accept"), "text/calendar") {
		h.writeJSON(w, r, http.StatusOK, c)
		return
	}
	var b bytes.Buffer
	name := "Deal calendar"
	if q.Agreement != "" {
		name += ": " + q.Agreement
	}
	if err := render.CalendarICS(&b, c, render.ICSOptions{Stamp: h.now(), Name: name}); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="deal-calendar.ics"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b.Bytes())
}
