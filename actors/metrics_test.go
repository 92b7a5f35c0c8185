package actors

import (
	dto "github.com/prometheus/client_model/go"
)

// testutilCount reads the seq-conflict counter.
func testutilCount(d *Deps) float64 {
	var m dto.Metric
	if err := d.Metrics.SeqConflicts.Write(&m); err != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}
