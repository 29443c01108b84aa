package httpapi

import (
	"bytes"
	"net/http"
	"strings"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger/render"
	"github.com/agreement-ledger/ledger/projections"
)

// window reads from and to, both required, to after from.
func (p *params) window() (from, to time.Time) {
	from, to = p.required("from"), p.required("to")
	if p.err == nil && !to.After(from) {
		p.err = paramError("to", "must be after from (%s): a window is [from, to)", events.FormatTime(from))
	}
	return from, to
}

// scope reads product, channel, platform and territory: one value each, a
// dimension not given meaning any (nil: everything).
func (p *params) scope() *events.Scope {
	one := func(name string) []string {
		if s := p.slug(name, false); s != "" {
			return []string{s}
		}
		return nil
	}
	s := &events.Scope{Products: one("product"), Channels: one("channel"), Platforms: one("platform"), Territories: one("territory")}
	if s.IsAll() {
		return nil
	}
	return s
}

func (h *Handler) avails(w http.ResponseWriter, r *http.Request) {
	p := newParams(r, "product", "channel", "platform", "territory", "party", "holder", "from", "to", "known_at")
	holder := p.slug("holder", false)
	party := p.slug("party", false)
	scope := p.scope()
	from, to := p.window()
	known := p.time("known_at", time.Time{})
	switch {
	case p.err != nil:
	case holder != "" && party != "":
		p.err = paramError("holder", "asks another question than party: give one")
	case holder == "":
		p.slug("product", true)
		p.slug("channel", true)
	}
	if p.err != nil {
		h.fail(w, r, p.err)
		return
	}
	if holder != "" {
		hs, err := h.l.Holdings(projections.HoldingsQuery{Holder: holder, Scope: scope, From: from, To: to, KnownAt: known})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		h.writeJSON(w, r, http.StatusOK, hs)
		return
	}
	av, err := h.l.Avails(projections.AvailsQuery{Scope: scope, Party: party, From: from, To: to, KnownAt: known})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeJSON(w, r, http.StatusOK, av)
}

// calendar is GET /v1/calendar (JSON, or the iCalendar file when asked for
// with Accept: text/calendar) and GET /v1/calendar.ics (the file).
func (h *Handler) calendar(w http.ResponseWriter, r *http.Request) {
	p := newParams(r, "agreement", "from", "to", "known_at", "allow_damaged")
	q := projections.CalendarQuery{Agreement: p.slug("agreement", false)}
	q.From, q.To = p.window()
	q.KnownAt = p.time("known_at", time.Time{})
	if p.err != nil {
		h.fail(w, r, p.err)
		return
	}
	c, err := h.l.Calendar(q, p.damaged()...)
	if err != nil {
		h.fail(w, r, err)
		return
	}
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
