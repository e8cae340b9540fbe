package gateway

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	connections prometheus.Gauge
	delivered   prometheus.Counter
	dropped     prometheus.Counter
	rejected    *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "beckon_gateway_connections",
			Help: "Open invitation streams.",
		}),
		delivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "beckon_gateway_delivered_total",
			Help: "Invitations written to browsers, replays included.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "beckon_gateway_slow_streams_dropped_total",
			Help: "Streams closed because their browser did not keep up.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "beckon_gateway_rejected_total",
			Help: "Stream requests refused, by reason.",
		}, []string{"reason"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.connections, m.delivered, m.dropped, m.rejected} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("gateway: metrics: %w", err)
		}
	}
	return m, nil
}
