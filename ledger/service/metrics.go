package service

import (
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics count the service's requests by endpoint, beside micro's own
// $SRV.STATS, for the Prometheus scrape the HTTP API serves (/metrics).
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer, log *slog.Logger) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ledger_nats_requests_total",
			Help: "Requests to the NATS service by endpoint and status code (the HTTP status an error has)."}, []string{"endpoint", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ledger_nats_request_duration_seconds",
			Help: "Time to answer a NATS service request, by endpoint, catching up with the stream included.", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}, []string{"endpoint"}),
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			log.Warn("service: metric not registered", "err", err)
		}
	}
	return m
}

// endpoint returns the functions that count a request to an endpoint and
// observe how long it took.
func (m *metrics) endpoint(name string) (count func(code int), took func(time.Duration)) {
	obs := m.duration.WithLabelValues(name)
	return func(code int) { m.requests.WithLabelValues(name, strconv.Itoa(code)).Inc() },
		func(d time.Duration) { obs.Observe(d.Seconds()) }
}
