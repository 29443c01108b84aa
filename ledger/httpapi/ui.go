package httpapi

import (
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger/render"
	"github.com/agreement-ledger/ledger/projections"
)

// The web page is static HTML and a little plain JavaScript; the server
// renders what it shows as HTML fragments with the timeline as inline SVG.

//go:embed assets
var assets embed.FS

var assetTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	body, err := assets.ReadFile("assets/index.html")
	if err != nil {
		h.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", assetTypes[".html"])
	w.Header().Set("Content-Security-Policy", pageCSP)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(body)
}

func (h *Handler) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	typ, ok := assetTypes[path.Ext(name)]
	body, err := fs.ReadFile(assets, "assets/"+name)
	if !ok || err != nil || name == "index.html" {
		h.fail(w, r, http.StatusNotFound, &events.Error{Kind: events.NotFound, Message: "no asset " + name})
		return
	}
	w.Header().Set("Content-Type", typ)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(body)
}

func writeHTML(w http.ResponseWriter, s string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(s))
}

// uiAgreements is the list of agreements: title, parties, status at the
// date (as known at known_at) and how many conflicts involve each.
func (h *Handler) uiAgreements(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	defer func() { h.m.queryDuration.WithLabelValues("ui_agreements").Observe(time.Since(start).Seconds()) }()
	p := newParams(r, "at", "known_at")
	at := p.time("at", h.defaultAt())
	known := p.time("known_at", time.Time{})
	if p.err != nil {
		h.fail(w, r, http.StatusBadRequest, p.err)
		return
	}
	list, err := h.l.Agreements(at)
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	cr, err := h.l.Conflicts(at, known)
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	count := map[string]int{}
	for _, c := range cr.Conflicts {
		count[c.Clauses[0].Agreement]++
		if c.Clauses[1].Agreement != c.Clauses[0].Agreement {
			count[c.Clauses[1].Agreement]++
		}
	}
	var b strings.Builder
	if len(list) == 0 {
		b.WriteString(`<p class="empty">No agreements recorded yet. Append amendments with <code>ledger append</code> or POST /v1/amendments.</p>`)
	}
	b.WriteString(`<ul class="agreement-list">`)
	for _, s := range list {
		status, version, unknown := s.Status, s.Version, false
		if !known.IsZero() {
			st, err := h.l.State(s.Agreement, at, known)
			if err != nil {
				unknown = true
			} else {
				status, version = st.Status, st.Version
			}
		}
		cls := "agreement"
		if unknown {
			cls += " unknown"
		}
		fmt.Fprintf(&b, `<li><button type="button" class="%s" data-agreement="%s">`, cls, esc(s.Agreement))
		title := s.Title
		if title == "" {
			title = s.Agreement
		}
		fmt.Fprintf(&b, `<span class="a-title">%s</span>`, esc(title))
		if unknown {
			fmt.Fprintf(&b, `<span class="a-slug">%s</span>`, esc(s.Agreement))
		} else {
			fmt.Fprintf(&b, `<span class="a-slug">%s · v%d</span>`, esc(s.Agreement), version)
		}
		fmt.Fprintf(&b, `<span class="a-parties">%s</span>`, esc(strings.Join(s.Parties, " · ")))
		b.WriteString(`<span class="a-status">`)
		if unknown {
			b.WriteString(`<span class="status unknown">not yet recorded</span>`)
		} else {
			fmt.Fprintf(&b, `<span class="status %s">%s</span>`, esc(status), esc(statusText(status)))
		}
		if n := count[s.Agreement]; n > 0 {
			fmt.Fprintf(&b, ` <span class="badge conflict">%s</span>`, render.Plural(n, "conflict", "conflicts"))
		}
		b.WriteString(`</span></button></li>`)
	}
	b.WriteString(`</ul>`)
	writeHTML(w, b.String())
}

// viewParams are the parameters of the view and the SVG.
type viewParams struct {
	at, known, from, to time.Time
	width               int
}

func (h *Handler) viewParams(r *http.Request) (viewParams, error) {
	p := newParams(r, "at", "known_at", "width", "from", "to")
	v := viewParams{at: p.time("at", h.defaultAt()), known: p.time("known_at", time.Time{}), from: p.time("from", time.Time{}), to: p.time("to", time.Time{}), width: 900}
	if n, ok := p.uint("width"); ok {
		if n < render.MinChartWidth || n > render.MaxChartWidth {
			p.err = paramError("width", "must be between %d and %d pixels", render.MinChartWidth, render.MaxChartWidth)
		}
		v.width = int(n)
	}
	if p.err == nil && !v.from.IsZero() && !v.to.IsZero() && !v.to.After(v.from) {
		p.err = paramError("to", "must be after from")
	}
	return v, p.err
}

// uiTimelineSVG is GET /ui/timeline/{agreement}.svg: the drawing alone.
func (h *Handler) uiTimelineSVG(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	defer func() { h.m.queryDuration.WithLabelValues("ui_timeline").Observe(time.Since(start).Seconds()) }()
	name, ok := strings.CutSuffix(r.PathValue("file"), ".svg")
	if !ok {
		h.fail(w, r, http.StatusNotFound, &events.Error{Kind: events.NotFound, Message: "the timeline is at /ui/timeline/AGREEMENT.svg"})
		return
	}
	v, err := h.viewParams(r)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err)
		return
	}
	tl, err := h.l.Timeline(name, v.known)
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	cr, err := h.l.Conflicts(v.at, v.known)
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + render.NewChart(tl, render.ChartOptions{At: v.at, Width: v.width, From: v.from, To: v.to, Conflicts: cr.Conflicts}).SVG()))
}

// uiView is the page's view of one agreement: its head, the conflicts as of
// the date, the timeline, the state as a table, and the details shown when
// a bar or marker is hovered.
func (h *Handler) uiView(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	defer func() { h.m.queryDuration.WithLabelValues("ui_view").Observe(time.Since(start).Seconds()) }()
	v, err := h.viewParams(r)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err)
		return
	}
	name := r.PathValue("agreement")
	tl, err := h.l.Timeline(name, v.known)
	if err != nil && !v.known.IsZero() && events.KindOf(err) == events.NotFound {
		if _, herr := h.l.History(name); herr == nil {
			// Recorded, but not yet as of known_at: a view of nothing known.
			writeHTML(w, fmt.Sprintf(`<div class="view" data-agreement="%s" data-at="%s"><p class="empty">%s</p></div>`, esc(name), render.Time(v.at), esc(err.Error())))
			return
		}
	}
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	st, err := h.l.State(name, v.at, v.known)
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	cr, err := h.l.Conflicts(v.at, v.known)
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	writeHTML(w, renderView(tl, st, cr, v))
}

func renderView(tl *projections.Timeline, st *projections.State, cr *projections.ConflictReport, v viewParams) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<div class="view" data-agreement="%s" data-version="%d" data-at="%s">`, esc(st.Agreement), st.Version, render.Time(v.at))
	title := st.Title
	if title == "" {
		title = st.Agreement
	}
	fmt.Fprintf(&b, `<div class="view-head"><h2>%s</h2><p class="meta"><code>%s</code> · parties `, esc(title), esc(st.Agreement))
	for i, p := range st.Parties {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `<b>%s</b>`, esc(p))
	}
	fmt.Fprintf(&b, ` · <span class="status %s">%s</span> as of %s · version %d`, esc(st.Status), esc(statusText(st.Status)), render.Time(v.at), st.Version)
	if !v.known.IsZero() {
		fmt.Fprintf(&b, ` · <span class="known">as known at %s</span>`, esc(v.known.UTC().Format("2006-01-02 15:04 MST")))
	}
	b.WriteString(`</p></div>`)
	conflictsHTML(&b, cr, st.Agreement, v.at)
	b.WriteString(`<div class="cols"><div class="chart-col"><div class="chart">`)
	chart := render.NewChart(tl, render.ChartOptions{At: v.at, Width: v.width, From: v.from, To: v.to, Conflicts: cr.Conflicts, Inline: true})
	b.WriteString(chart.SVG())
	b.WriteString(`</div><div id="detail" class="detail" aria-live="polite"><p class="hint">Hover over or click a bar or an amendment marker for the clause's fields and the amendments behind it. Click the time axis to move the date.</p></div></div>`)
	b.WriteString(`<div class="state-col">`)
	stateHTML(&b, st)
	b.WriteString(`</div></div>`)
	detailsHTML(&b, tl, chart)
	b.WriteString(`</div>`)
	return b.String()
}

// conflictsHTML lists the conflicts as of the date, naming both clauses and
// their agreements; those involving the agreement shown come first.
func conflictsHTML(b *strings.Builder, cr *projections.ConflictReport, agreement string, at time.Time) {
	var mine, others []projections.Conflict
	for _, c := range cr.Conflicts {
		if c.Clauses[0].Agreement == agreement || c.Clauses[1].Agreement == agreement {
			mine = append(mine, c)
		} else {
			others = append(others, c)
		}
	}
	all := append(mine, others...)
	if len(all) == 0 {
		fmt.Fprintf(b, `<section id="conflicts" class="conflicts none"><h3>No conflicts as of %s</h3></section>`, render.Time(at))
		return
	}
	fmt.Fprintf(b, `<section id="conflicts" class="conflicts"><h3>%s as of %s</h3><ul>`, render.Plural(len(all), "conflict", "conflicts"), render.Time(at))
	for i, c := range all {
		cls := "conflict"
		if i < len(mine) {
			cls += " involves"
		}
		until := "open-ended"
		if !c.Until.IsZero() {
			until = "until " + render.Time(c.Until)
		}
		fmt.Fprintf(b, `<li class="%s" data-clauses="%s %s">`, cls, esc(c.Clauses[0].Agreement+"/"+c.Clauses[0].Clause), esc(c.Clauses[1].Agreement+"/"+c.Clauses[1].Clause))
		fmt.Fprintf(b, `<span class="c-what"><b>%s</b> granted overlapping exclusive rights over %s, from %s %s:</span> `, esc(c.Grantor), esc(render.ScopeWords(c.Scope)), render.Time(c.From), esc(until))
		for j, p := range c.Clauses {
			if j > 0 {
				b.WriteString(` <span class="vs">and</span> `)
			}
			fmt.Fprintf(b, `<span class="side"><b>%s</b> in <b>%s</b> (%s to %s)</span>`, esc(p.Clause), esc(p.Agreement), esc(render.KindWord(p.Kind)), esc(p.Holder))
		}
		b.WriteString(`</li>`)
	}
	b.WriteString(`</ul></section>`)
}

// stateHTML is the state as a table, grouped by kind.
func stateHTML(b *strings.Builder, st *projections.State) {
	fmt.Fprintf(b, `<h3>State as of %s</h3>`, render.Time(st.At))
	switch st.Status {
	case "not_open":
		b.WriteString(`<p class="note">The agreement is not open yet at this date.</p>`)
	case "closed":
		fmt.Fprintf(b, `<p class="note">The agreement was closed on %s; no clause is in force.</p>`, render.Time(st.Closed))
	}
	for _, d := range st.Conditions {
		fmt.Fprintf(b, `<p class="note condition">Condition <b>%s</b> declared %s.</p>`, esc(d.Condition), render.Time(d.At))
	}
	if len(st.Clauses) == 0 {
		if st.Status == "open" {
			b.WriteString(`<p class="note">No clause is in force at this date.</p>`)
		}
		return
	}
	b.WriteString(`<table class="state">`)
	for _, k := range events.Kinds {
		group := st.Group(k)
		if len(group) == 0 {
			continue
		}
		fmt.Fprintf(b, `<tbody class="group"><tr class="group-head"><th colspan="2"><span class="swatch" data-kind="%s"></span>%s <span class="count">%d</span></th></tr>`, esc(string(k)), esc(render.KindHeading(k)), len(group))
		for _, cs := range group {
			fmt.Fprintf(b, `<tr class="clause-head" data-clause="%s"><th colspan="2">%s</th></tr>`, esc(cs.ID), esc(cs.ID))
			for _, r := range stateRows(cs) {
				cls := ""
				if strings.HasPrefix(r.value, "undisclosed") {
					cls = ` class="undisclosed"`
				}
				fmt.Fprintf(b, `<tr><td class="k">%s</td><td%s>%s</td></tr>`, esc(r.label), cls, esc(r.value))
			}
		}
		b.WriteString(`</tbody>`)
	}
	b.WriteString(`</table>`)
}

// detailsHTML writes a <template> per bar and per amendment marker of the
// chart, shown by the page when one is hovered or clicked.
func detailsHTML(b *strings.Builder, tl *projections.Timeline, chart *render.Chart) {
	markers := map[string]projections.Marker{}
	for _, m := range tl.Amendments {
		markers[m.ID] = m
	}
	amendment := func(id, op string, at time.Time) string {
		m, ok := markers[id]
		if !ok {
			return fmt.Sprintf(`<li><code>%s</code> %s %s</li>`, esc(id), esc(op), render.Time(at))
		}
		return fmt.Sprintf(`<li><b>v%d</b> effective %s <span class="op">%s</span> — %s <code class="id">%s</code></li>`, m.Version, render.Time(m.Effective), esc(op), esc(m.Summary), esc(id))
	}
	b.WriteString(`<div class="templates" hidden="hidden">`)
	clauses := tl.Clauses
	if chart.CountsClauses() {
		clauses = nil // no bar of the chart is a segment of its own
	}
	for i, life := range clauses {
		for j, seg := range life.Segments {
			fmt.Fprintf(b, `<template id="seg-%d-%d">`, i, j)
			fmt.Fprintf(b, `<h4><span class="swatch" data-kind="%s"></span>%s <span class="kind">%s</span></h4>`, esc(string(life.Kind)), esc(life.ID), esc(render.KindWord(life.Kind)))
			until := "open-ended"
			if !seg.Until.IsZero() {
				until = render.Time(seg.Until)
			}
			fmt.Fprintf(b, `<p class="when">In force with these values %s → %s`, render.Time(seg.From), esc(until))
			if seg.Closed != nil {
				switch seg.Closed.Op {
				case "term":
					b.WriteString(` (its term ends)`)
				case "amend":
					b.WriteString(` (then amended)`)
				default:
					fmt.Fprintf(b, ` (then %s)`, esc(edgeWord(seg.Closed.Op)))
				}
			}
			if len(life.Segments) > 1 {
				fmt.Fprintf(b, ` · interval %d of %d`, j+1, len(life.Segments))
			}
			b.WriteString(`</p><table class="kv">`)
			for _, r := range clauseRows(render.SegmentClause(life, seg)) {
				fmt.Fprintf(b, `<tr><td class="k">%s</td><td>%s</td></tr>`, esc(r.label), esc(r.value))
			}
			b.WriteString(`</table><h5>Amendments behind it</h5><ul class="amendments">`)
			b.WriteString(amendment(seg.Opened.Amendment, seg.Opened.Op, seg.Opened.At))
			if seg.Closed != nil && seg.Closed.Amendment != "" {
				b.WriteString(amendment(seg.Closed.Amendment, seg.Closed.Op, seg.Closed.At))
			}
			b.WriteString(`</ul></template>`)
		}
	}
	marked := func(string) bool { return true }
	if chart.GroupsAmendments() {
		// Only declared conditions mark an amendment of their own.
		declared := map[string]bool{}
		for _, d := range tl.Conditions {
			declared[d.Amendment] = true
		}
		marked = func(id string) bool { return declared[id] }
	}
	for _, m := range tl.Amendments {
		if !marked(m.ID) {
			continue
		}
		fmt.Fprintf(b, `<template id="am-%s"><h4>Amendment v%d</h4>`, esc(m.ID), m.Version)
		if m.Retracted {
			b.WriteString(`<p class="note">Retracted: recorded in error, it no longer counts.</p>`)
		}
		fmt.Fprintf(b, `<table class="kv"><tr><td class="k">effective</td><td>%s</td></tr><tr><td class="k">recorded</td><td>%s</td></tr><tr><td class="k">changes</td><td>%s</td></tr><tr><td class="k">id</td><td><code>%s</code></td></tr></table>`,
			render.Time(m.Effective), esc(m.Recorded.UTC().Format("2006-01-02 15:04:05 MST")), esc(strings.Join(m.Ops, ", ")), esc(m.ID))
		if m.Summary != "" {
			fmt.Fprintf(b, `<p class="summary">%s</p>`, esc(m.Summary))
		}
		b.WriteString(`</template>`)
	}
	b.WriteString(`</div>`)
}

func edgeWord(op string) string {
	switch op {
	case "end":
		return "ended"
	case "close":
		return "the agreement closed"
	case "declare":
		return "ended by a declared condition"
	}
	return op
}
