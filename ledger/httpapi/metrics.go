package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/agreement-ledger/ledger/ledger"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the handler's Prometheus metrics.
type metrics struct {
	gatherer            prometheus.Gatherer
	appended            prometheus.Counter
	duplicates          prometheus.Counter
	versionConflicts    prometheus.Counter
	conflictsIntroduced prometheus.Counter
	invalid             prometheus.Counter
	appendDuration      *prometheus.HistogramVec
	queryDuration       *prometheus.HistogramVec
	requests            *prometheus.CounterVec
}

// NewRegistry is the registry a handler makes for itself when given none:
// the Go and process collectors. A server that has more to serve at
// /metrics (the NATS service's counts) registers them in it and gives it
// to both.
func NewRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

func newMetrics(l *ledger.Ledger, reg prometheus.Registerer, log *slog.Logger) *metrics {
	if reg == nil {
		reg = NewRegistry()
	}
	m := &metrics{
		appended: prometheus.NewCounter(prometheus.CounterOpts{Name: "ledger_appended_amendments_total",
			Help: "Amendments recorded through the HTTP API (duplicates not counted)."}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{Name: "ledger_duplicate_amendments_total",
			Help: "Amendments re-sent with an id already recorded with the same content (stored once)."}),
		versionConflicts: prometheus.NewCounter(prometheus.CounterOpts{Name: "ledger_version_conflicts_total",
			Help: "Appends refused with 409: the agreement was not at the expected version (If-Match)."}),
		conflictsIntroduced: prometheus.NewCounter(prometheus.CounterOpts{Name: "ledger_conflicts_introduced_total",
			Help: "Conflicts between exclusive grants that recorded amendments introduced."}),
		invalid: prometheus.NewCounter(prometheus.CounterOpts{Name: "ledger_invalid_inputs_total",
			Help: "Appends refused as invalid input (400, 413, 415, 422); nothing was written."}),
		appendDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ledger_append_duration_seconds",
			Help:    "Time to answer an append request, by outcome: appended (at least one amendment recorded, including the durable write), duplicate (all already recorded), dry_run, invalid (refused, 4xx), conflict (409), error (5xx).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}, []string{"outcome"}),
		queryDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ledger_query_duration_seconds",
			Help: "Time to answer a query, by kind of query.", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}, []string{"kind"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ledger_http_requests_total",
			Help: "HTTP requests by route and status code."}, []string{"route", "code"}),
	}
	for _, c := range []prometheus.Collector{m.appended, m.duplicates, m.versionConflicts, m.conflictsIntroduced, m.invalid,
		m.appendDuration, m.queryDuration, m.requests, &lagCollector{l: l, log: log}} {
		if err := reg.Register(c); err != nil {
			log.Warn("http: metric not registered", "err", err)
		}
	}
	if g, ok := reg.(prometheus.Gatherer); ok {
		m.gatherer = g
	} else {
		m.gatherer = prometheus.DefaultGatherer
	}
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{})
}

// lagCollector reports, at each scrape, how far the read model is behind the
// stream, and where it is.
type lagCollector struct {
	l   *ledger.Ledger
	log *slog.Logger
}

var (
	lagDesc = prometheus.NewDesc("ledger_read_model_lag_messages",
		"Stream messages the read model has yet to apply (the stream's last sequence minus the last applied).", nil, nil)
	appliedDesc = prometheus.NewDesc("ledger_read_model_applied_sequence",
		"Last stream sequence the read model applied.", nil, nil)
	amendmentsDesc = prometheus.NewDesc("ledger_read_model_amendments",
		"Amendments in the read model.", nil, nil)
	loadingDesc = prometheus.NewDesc("ledger_read_model_loading",
		"1 while the read model loads what the stream held when the ledger opened.", nil, nil)
)

func (c *lagCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- lagDesc
	ch <- appliedDesc
	ch <- amendmentsDesc
	ch <- loadingDesc
}

func (c *lagCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.l.Status()
	ch <- prometheus.MustNewConstMetric(appliedDesc, prometheus.GaugeValue, float64(st.Applied))
	ch <- prometheus.MustNewConstMetric(amendmentsDesc, prometheus.GaugeValue, float64(st.Amendments))
	loading := 0.0
	if st.Loading {
		loading = 1
	}
	ch <- prometheus.MustNewConstMetric(loadingDesc, prometheus.GaugeValue, loading)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	lag, err := c.l.Lag(ctx)
	if err != nil {
		c.log.Warn("http: metrics: read-model lag unavailable", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, float64(lag))
}
