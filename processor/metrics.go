package processor

import "github.com/prometheus/client_golang/prometheus"

type runnerMetrics struct {
	events       prometheus.Counter
	poison       prometheus.Counter
	rebuilds     prometheus.Counter
	restarts     prometheus.Counter
	lag          *prometheus.GaugeVec
	visitors     *prometheus.GaugeVec
	batchSeconds prometheus.Histogram
}

func newRunnerMetrics(reg prometheus.Registerer) *runnerMetrics {
	m := &runnerMetrics{
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "beckon_processor_events_total", Help: "Events and ticks applied to the engines.",
		}),
		poison: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "beckon_processor_poison_events_total", Help: "Messages skipped because they are not valid events.",
		}),
		rebuilds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "beckon_processor_rebuilds_total", Help: "Times a partition's state was rebuilt from the stream.",
		}),
		restarts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "beckon_processor_restarts_total", Help: "Times a failed partition was started again.",
		}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "beckon_processor_lag_messages", Help: "Messages of the partition not yet delivered to its processor.",
		}, []string{"partition"}),
		visitors: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "beckon_processor_visitors", Help: "Visitors whose state the partition keeps.",
		}, []string{"partition"}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "beckon_processor_batch_seconds", Help: "Time to evaluate a batch, publish its invitations and ack it.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.events, m.poison, m.rebuilds, m.restarts, m.lag, m.visitors, m.batchSeconds)
	}
	return m
}
