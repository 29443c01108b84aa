package httpapi

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/agreement-ledger/ledger/events"
	"github.com/agreement-ledger/ledger/ledger/render"
	"github.com/agreement-ledger/ledger/ledger/wire"
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
		h.fail(w, r, err)
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
		h.fail(w, r, &events.Error{Kind: events.NotFound, Message: "no asset " + name})
		return
	}
	if name == "style.css" {
		body = append(body, swatchCSS...)
	}
	w.Header().Set("Content-Type", typ)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(body)
}

// swatchCSS colours the swatch of each kind of clause (in the state table
// and the details) as render colours the kind's bars.
var swatchCSS = func() string {
	var b strings.Builder
	for _, k := range events.Kinds {
		fill, stroke := render.KindColours(k)
		fmt.Fprintf(&b, ".swatch[data-kind=%q] { background: %s; border-color: %s; }\n", k, fill, stroke)
	}
	return b.String()
}()

// fragments are the HTML the page asks for, written by html/template
// (which escapes every value). The file's line breaks and indentation are
// taken out first: they lay the file out, not the page.
//
//go:embed fragments.html
var fragmentsHTML string

var fragments = template.Must(template.New("fragments").Funcs(template.FuncMap{
	"join":        strings.Join,
	"plural":      render.Plural,
	"time":        render.Time,
	"kindWord":    render.KindWord,
	"kindHeading": render.KindHeading,
	"scopeWords":  render.ScopeWords,
	"statusText":  statusText,
}).Parse(regexp.MustCompile(`\n\t*`).ReplaceAllString(fragmentsHTML, "")))

// writeHTML answers with the fragment name written from data.
func (h *Handler) writeHTML(w http.ResponseWriter, r *http.Request, name string, data any) {
	var b bytes.Buffer
	if err := fragments.ExecuteTemplate(&b, name, data); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b.Bytes())
}

// uiAgreements is the list of agreements: title, parties, status at the
// date (as known at known_at) and how many conflicts involve each.
func (h *Handler) uiAgreements(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	defer func() { h.m.queryDuration.WithLabelValues("ui_agreements").Observe(time.Since(start).Seconds()) }()
	p := newParams(r, "at", "known_at")
	at := p.Time("at", h.defaultAt())
	known := h.knownAt(r, p)
	if p.Err != nil {
		h.fail(w, r, p.Err)
		return
	}
	list, err := h.l.Agreements(at)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cr, err := h.l.Conflicts(at, known)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	count := map[string]int{}
	for _, c := range cr.Conflicts {
		count[c.Clauses[0].Agreement]++
		if c.Clauses[1].Agreement != c.Clauses[0].Agreement {
			count[c.Clauses[1].Agreement]++
		}
	}
	items := make([]agreementItem, len(list))
	for i, s := range list {
		it := agreementItem{Agreement: s.Agreement, Title: s.Title, Parties: s.Parties, Status: s.Status, Version: s.Version, Conflicts: count[s.Agreement]}
		if it.Title == "" {
			it.Title = s.Agreement
		}
		if !known.IsZero() {
			st, err := h.l.State(s.Agreement, at, known)
			if err != nil {
				it.Unknown = true
			} else {
				it.Status, it.Version = st.Status, st.Version
			}
		}
		items[i] = it
	}
	h.writeHTML(w, r, "agreements", items)
}

// agreementItem is an agreement in the page's list.
type agreementItem struct {
	Agreement, Title string
	Parties          []string
	Status           string
	Version          uint64
	Unknown          bool // not recorded yet as of known_at
	Conflicts        int  // how many conflicts involve it
}

// viewParams are the parameters of the view and the SVG.
type viewParams struct {
	at, known, from, to time.Time
	width               int
}

func (h *Handler) viewParams(r *http.Request) (viewParams, error) {
	p := newParams(r, "at", "known_at", "width", "from", "to")
	v := viewParams{at: p.Time("at", h.defaultAt()), known: h.knownAt(r, p), from: p.Time("from", time.Time{}), to: p.Time("to", time.Time{}), width: 900}
	if n, ok := p.Uint("width"); ok {
		if n < render.MinChartWidth || n > render.MaxChartWidth {
			p.Err = wire.ParamError("width", "must be between %d and %d pixels", render.MinChartWidth, render.MaxChartWidth)
		}
		v.width = int(n)
	}
	if p.Err == nil && !v.from.IsZero() && !v.to.IsZero() && !v.to.After(v.from) {
		p.Err = wire.ParamError("to", "must be after from")
	}
	return v, p.Err
}

// uiTimelineSVG is GET /ui/timeline/{agreement}.svg: the drawing alone.
func (h *Handler) uiTimelineSVG(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	defer func() { h.m.queryDuration.WithLabelValues("ui_timeline").Observe(time.Since(start).Seconds()) }()
	name, ok := strings.CutSuffix(r.PathValue("file"), ".svg")
	if !ok {
		h.fail(w, r, &events.Error{Kind: events.NotFound, Message: "the timeline is at /ui/timeline/AGREEMENT.svg"})
		return
	}
	v, err := h.viewParams(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	tl, err := h.l.Timeline(name, v.known)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cr, err := h.l.Conflicts(v.at, v.known)
	if err != nil {
		h.fail(w, r, err)
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
		h.fail(w, r, err)
		return
	}
	name := r.PathValue("agreement")
	tl, err := h.l.Timeline(name, v.known)
	if err != nil && !v.known.IsZero() && events.KindOf(err) == events.NotFound {
		if _, herr := h.l.History(name); herr == nil {
			// Recorded, but not yet as of known_at: a view of nothing known.
			h.writeHTML(w, r, "unrecorded", struct{ Agreement, At, Message string }{name, render.Time(v.at), err.Error()})
			return
		}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	st, err := h.l.State(name, v.at, v.known)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cr, err := h.l.Conflicts(v.at, v.known)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeHTML(w, r, "view", newView(tl, st, cr, v))
}

// view is what the view of an agreement shows.
type view struct {
	Title, At, Known string
	State            stateView
	Conflicts        []conflictItem
	Chart            template.HTML // drawn by render, which escapes what it writes
	Segments         []segmentDetail
	Amendments       []projections.Marker
}

// stateView is the state as a table: the clauses in force by kind, each
// with its fields.
type stateView struct {
	*projections.State
	Groups []clauseGroup
}

type clauseGroup struct {
	Kind    events.Kind
	Clauses []clauseTable
}

type clauseTable struct {
	ID   string
	Rows []row
}

// conflictItem is a conflict as of the date; Involves: the agreement shown
// is one of its two.
type conflictItem struct {
	projections.Conflict
	Involves bool
}

// segmentDetail is what the page shows of a bar: clause Row's segment N of
// Of (Nth counting from 1), its fields and the amendments at its edges.
type segmentDetail struct {
	projections.Segment
	ID          string
	Kind        events.Kind
	Row, N, Nth int
	Of          int
	Then        string // what ended it, in words
	Rows        []row
	Behind      []behind
}

// behind is an amendment behind a segment: its marker when the timeline has
// it, else its id, op and time.
type behind struct {
	ID, Op string
	At     time.Time
	Marker *projections.Marker
}

func newView(tl *projections.Timeline, st *projections.State, cr *projections.ConflictReport, v viewParams) view {
	out := view{Title: st.Title, At: render.Time(v.at), State: stateView{State: st}}
	if out.Title == "" {
		out.Title = st.Agreement
	}
	if !v.known.IsZero() {
		out.Known = v.known.UTC().Format("2006-01-02 15:04 MST")
	}
	var others []conflictItem
	for _, c := range cr.Conflicts {
		if c.Clauses[0].Agreement == st.Agreement || c.Clauses[1].Agreement == st.Agreement {
			out.Conflicts = append(out.Conflicts, conflictItem{c, true})
		} else {
			others = append(others, conflictItem{c, false})
		}
	}
	out.Conflicts = append(out.Conflicts, others...)
	for _, k := range events.Kinds {
		g := clauseGroup{Kind: k}
		for _, cs := range st.Group(k) {
			g.Clauses = append(g.Clauses, clauseTable{cs.ID, stateRows(cs)})
		}
		if len(g.Clauses) > 0 {
			out.State.Groups = append(out.State.Groups, g)
		}
	}
	chart := render.NewChart(tl, render.ChartOptions{At: v.at, Width: v.width, From: v.from, To: v.to, Conflicts: cr.Conflicts, Inline: true})
	out.Chart = template.HTML(chart.SVG())
	out.Segments, out.Amendments = details(tl, chart)
	return out
}

// details are the bars and the amendments the chart draws one by one.
func details(tl *projections.Timeline, chart *render.Chart) ([]segmentDetail, []projections.Marker) {
	markers := map[string]*projections.Marker{}
	for i, m := range tl.Amendments {
		markers[m.ID] = &tl.Amendments[i]
	}
	var segs []segmentDetail
	if !chart.CountsClauses() {
		for i, life := range tl.Clauses {
			for j, seg := range life.Segments {
				d := segmentDetail{Segment: seg, ID: life.ID, Kind: life.Kind, Row: i, N: j, Nth: j + 1, Of: len(life.Segments),
					Rows: clauseRows(render.SegmentClause(life, seg))}
				if seg.Closed != nil {
					d.Then = " (" + closedWords(seg.Closed.Op) + ")"
				}
				d.Behind = append(d.Behind, behind{seg.Opened.Amendment, seg.Opened.Op, seg.Opened.At, markers[seg.Opened.Amendment]})
				if seg.Closed != nil && seg.Closed.Amendment != "" {
					d.Behind = append(d.Behind, behind{seg.Closed.Amendment, seg.Closed.Op, seg.Closed.At, markers[seg.Closed.Amendment]})
				}
				segs = append(segs, d)
			}
		}
	}
	ams := tl.Amendments
	if chart.GroupsAmendments() {
		// Only declared conditions mark an amendment of their own.
		ams = nil
		for _, d := range tl.Conditions {
			if m := markers[d.Amendment]; m != nil {
				ams = append(ams, *m)
			}
		}
	}
	return segs, ams
}

// closedWords say what ended a segment.
func closedWords(op string) string {
	switch op {
	case "term":
		return "its term ends"
	case "amend":
		return "then amended"
	case "end":
		return "then ended"
	case "close":
		return "then the agreement closed"
	case "declare":
		return "then ended by a declared condition"
	}
	return "then " + op
}
