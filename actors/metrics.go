package actors

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the actors' Prometheus instruments.
type Metrics struct {
	MessagesPersisted prometheus.Counter
	BatchSize         prometheus.Histogram
	PersistLatency    prometheus.Histogram
	GrainActivations  prometheus.Counter
	SeqConflicts      prometheus.Counter
	Sessions          prometheus.Gauge
	GapRepairs        prometheus.Counter
	AckLatency        prometheus.Histogram
	StaleActivations  prometheus.Counter
}

// NewMetrics creates the instruments and registers them with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		MessagesPersisted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chat_messages_persisted_total", Help: "Messages persisted by conversation grains."}),
		BatchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "chat_commit_batch_size", Help: "Messages per group commit.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10)}),
		PersistLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "chat_persist_seconds", Help: "Time to persist one group commit.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}),
		GrainActivations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chat_grain_activations_total", Help: "Conversation grain activations on this node."}),
		SeqConflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chat_seq_conflicts_total", Help: "Writes that found their seq taken (a concurrent activation)."}),
		Sessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chat_sessions", Help: "Live session actors on this node."}),
		GapRepairs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chat_gap_repairs_total", Help: "Gaps in live delivery repaired from the store."}),
		StaleActivations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chat_stale_activations_total", Help: "Grain activations that found a newer claim after a seq conflict and stopped."}),
		AckLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "chat_ack_seconds", Help: "From a send reaching its session to its ack (message persisted).",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 16)}),
	}
	if reg != nil {
		reg.MustRegister(m.MessagesPersisted, m.BatchSize, m.PersistLatency, m.GrainActivations,
			m.SeqConflicts, m.Sessions, m.GapRepairs, m.AckLatency, m.StaleActivations)
	}
	return m
}
