package httpapi

import (
	"html/template"
	"net/http"
	"time"

	"github.com/agreement-ledger/ledger/ledger/render"
	"github.com/agreement-ledger/ledger/ledger/wire"
	"github.com/agreement-ledger/ledger/projections"
)

// calendarListMax is how many calendar entries the page lists; the rest
// are counted (the API and the command have them all).
const calendarListMax = 200

// uiAvails is the page's avails view: a row per party, time across, the
// bands of each party's intervals (the deciding clauses shown when one is
// hovered), and beside them the deal calendar of the same window.
func (h *Handler) uiAvails(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	defer func() { h.m.queryDuration.WithLabelValues("ui_avails").Observe(time.Since(start).Seconds()) }()
	p := newParams(r, "product", "channel", "platform", "territory", "from", "to", "at", "known_at", "width")
	scope := p.Scope()
	p.Slug("product", true)
	p.Slug("channel", true)
	from, to := p.Window()
	at := p.Time("at", h.defaultAt())
	known := h.knownAt(r, p)
	width := 900
	if n, ok := p.Uint("width"); ok {
		if n < render.MinChartWidth || n > render.MaxChartWidth {
			p.Err = wire.ParamError("width", "must be between %d and %d pixels", render.MinChartWidth, render.MaxChartWidth)
		}
		width = int(n)
	}
	if p.Err != nil {
		h.fail(w, r, p.Err)
		return
	}
	av, err := h.l.Avails(projections.AvailsQuery{Scope: scope, From: from, To: to, KnownAt: known})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cal, err := h.l.Calendar(projections.CalendarQuery{From: from, To: to, KnownAt: known})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	what := scope.Products[0] + " on " + scope.Channels[0]
	if scope.Platforms != nil {
		what += ", platform " + scope.Platforms[0]
	}
	if scope.Territories != nil {
		what += ", territory " + scope.Territories[0]
	}
	v := availsView{What: what, Product: scope.Products[0], Channel: scope.Channels[0], At: render.Time(at),
		Window: render.Window(from, to), Parties: len(av.Parties),
		Chart: template.HTML(render.AvailsSVG(av, render.AvailsChartOptions{Width: width, At: at}))}
	if !known.IsZero() {
		v.Known = known.UTC().Format("2006-01-02 15:04 MST")
	}
	for i, pa := range av.Parties {
		for j, a := range pa.Intervals {
			v.Bands = append(v.Bands, band{Row: i, N: j, Party: pa.Party, Verdict: string(a.Verdict), From: render.Time(a.From), Until: render.Time(a.Until),
				Rights: av.Rights(pa.Party, a)})
		}
	}
	for _, list := range []struct {
		from []projections.CalendarEntry
		to   *[]calendarItem
	}{{cal.Entries, &v.Entries}, {cal.Standing, &v.Standing}} {
		for k, e := range list.from {
			if k == calendarListMax {
				v.More += len(list.from) - k
				break
			}
			*list.to = append(*list.to, calendarItem{At: render.Time(e.At()), Kind: string(e.Kind()), Agreement: e.Agreement(), Clause: e.Clause(), What: render.CalendarWhat(e)})
		}
	}
	h.writeHTML(w, r, "avails", v)
}

// availsView is what the avails view shows.
type availsView struct {
	What, Product, Channel, At, Window, Known string
	Parties                                   int
	Chart                                     template.HTML // drawn by render, which escapes what it writes
	Bands                                     []band
	Entries, Standing                         []calendarItem
	More                                      int // entries not listed
}

// band is what the page shows of a band: interval N of party Row.
type band struct {
	Row, N                      int
	Party, Verdict, From, Until string
	projections.Rights
}

// calendarItem is an entry of the calendar beside the chart.
type calendarItem struct {
	At, Kind, Agreement, Clause, What string
}
