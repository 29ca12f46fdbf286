package apiserver

import (
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"drover.dev/drover/internal/inventory"
)

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer, log *slog.Logger) *httpMetrics {
	labels := []string{"route", "method", "code"}
	return &httpMetrics{
		requests: register(reg, log, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drover_http_requests_total",
			Help: "API requests by route pattern, method and status code.",
		}, labels)),
		duration: register(reg, log, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "drover_http_request_duration_seconds",
			Help:    "API request duration by route pattern, method and status code.",
			Buckets: prometheus.DefBuckets,
		}, labels)),
	}
}

func (m *httpMetrics) observe(route, method string, status int, d time.Duration) {
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(route, method, code).Inc()
	m.duration.WithLabelValues(route, method, code).Observe(d.Seconds())
}

// register registers c, or returns the equal collector already registered
// (two servers may share a registry).
func register[C prometheus.Collector](reg prometheus.Registerer, log *slog.Logger, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		log.Error("registering metrics", "err", err)
	}
	return c
}

// objectCounts is a collector of the number of objects per type, counted
// from the store's view at each scrape.
type objectCounts struct {
	store Inventory
	desc  *prometheus.Desc
}

func registerObjectCounts(reg prometheus.Registerer, st Inventory, log *slog.Logger) {
	register(reg, log, &objectCounts{
		store: st,
		desc: prometheus.NewDesc("drover_inventory_objects",
			"Inventory objects by type.", []string{"type"}, nil),
	})
}

func (c *objectCounts) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *objectCounts) Collect(ch chan<- prometheus.Metric) {
	v := c.store.View()
	for _, t := range inventory.Types() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(len(v.List(t))), string(t))
	}
}
