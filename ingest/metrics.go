package ingest

import (
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the beckon_ingest_* series. They are always counted and
// registered only when Config.Registerer is set; no label is per visitor.
type metrics struct {
	accepted prometheus.Counter
	rejects  *prometheus.CounterVec
	requests *prometheus.CounterVec
	publish  prometheus.Histogram
	ticks    prometheus.Counter
	byCode   map[int]prometheus.Counter // resolved once: the hot path skips the label hashing
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "beckon_ingest_events_accepted_total",
			Help: "Events stored in the events stream.",
		}),
		rejects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "beckon_ingest_events_rejected_total",
			Help: "Requests whose events were refused, by reason.",
		}, []string{"reason"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "beckon_ingest_requests_total",
			Help: "HTTP requests answered, by status code.",
		}, []string{"code"}),
		publish: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "beckon_ingest_publish_seconds",
			Help:    "Time from publishing a request's events to JetStream's last ack.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
		ticks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "beckon_ingest_ticks_total",
			Help: "Rounds of ticks published to every partition.",
		}),
		byCode: make(map[int]prometheus.Counter),
	}
	for _, code := range []int{200, 204, 400, 403, 405, 413, 429, 503} {
		m.byCode[code] = m.requests.WithLabelValues(strconv.Itoa(code))
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.accepted, m.rejects, m.requests, m.publish, m.ticks} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("ingest: register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) request(code int) {
	if c, ok := m.byCode[code]; ok {
		c.Inc()
		return
	}
	m.requests.WithLabelValues(strconv.Itoa(code)).Inc()
}

func (m *metrics) rejected(reason string) { m.rejects.WithLabelValues(reason).Inc() }
