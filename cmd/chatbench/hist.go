package main

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// histogram is a log-bucketed latency histogram in the spirit of HdrHistogram:
// every power of two is split into 2^subBits linear sub-buckets, so a
// reported quantile is within 1/128 (0.8 %) of the true value, over the
// whole int64 range, in a fixed 58 KiB. Recording is lock-free (atomic adds),
// so the reader goroutines of thousands of connections can share one.
//
// A small hand-written file rather than github.com/HdrHistogram/hdrhistogram-go:
// that module is not in go.mod, this tool may not change go.mod, and the
// 0.8 % precision needed here takes 60 lines.
type histogram struct {
	counts [histBuckets]atomic.Uint64
	total  atomic.Uint64
	sum    atomic.Int64
	max    atomic.Int64
}

const (
	histSubBits   = 7
	histSub       = 1 << histSubBits
	histBuckets   = (64 - histSubBits + 1) * histSub
	nanosPerMilli = float64(time.Millisecond)
)

// histIndex maps v >= 0 to its bucket.
func histIndex(v int64) int {
	if v < histSub {
		return int(v)
	}
	k := bits.Len64(uint64(v)) - 1 // v in [2^k, 2^(k+1))
	shift := k - histSubBits
	return (shift+1)*histSub + int(uint64(v)>>shift) - histSub
}

// histUpper is the largest value that maps to bucket i.
func histUpper(i int) int64 {
	if i < histSub {
		return int64(i)
	}
	shift := i/histSub - 1
	lower := uint64(histSub+i%histSub) << shift
	return int64(lower + (1 << shift) - 1)
}

// Record adds one value; negative values count as 0.
func (h *histogram) Record(v int64) {
	v = max(v, 0)
	h.counts[histIndex(v)].Add(1)
	h.total.Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// RecordSince records the nanoseconds elapsed since start.
func (h *histogram) RecordSince(start time.Time) { h.Record(int64(time.Since(start))) }

// Count is the number of recorded values.
func (h *histogram) Count() uint64 { return h.total.Load() }

// Max is the exact largest recorded value.
func (h *histogram) Max() int64 { return h.max.Load() }

// Quantile returns the value at quantile q in [0, 1]: the highest value
// equivalent to the bucket holding it, never above the exact maximum.
// An empty histogram answers 0. Call it once recording has stopped.
func (h *histogram) Quantile(q float64) int64 {
	n := h.total.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = min(max(rank, 1), n)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return min(histUpper(i), h.max.Load())
		}
	}
	return h.max.Load()
}

// latencySummary is a histogram's JSON form, in milliseconds.
type latencySummary struct {
	Count  uint64  `json:"count"`
	MeanMs float64 `json:"mean_ms"`
	P50Ms  float64 `json:"p50_ms"`
	P99Ms  float64 `json:"p99_ms"`
	P999Ms float64 `json:"p999_ms"`
	MaxMs  float64 `json:"max_ms"`
}

// Summary condenses h for reports.
func (h *histogram) Summary() latencySummary {
	n := h.Count()
	s := latencySummary{Count: n}
	if n == 0 {
		return s
	}
	ms := func(v int64) float64 { return math.Round(float64(v)/nanosPerMilli*1000) / 1000 }
	s.MeanMs = ms(h.sum.Load() / int64(n))
	s.P50Ms, s.P99Ms, s.P999Ms = ms(h.Quantile(0.50)), ms(h.Quantile(0.99)), ms(h.Quantile(0.999))
	s.MaxMs = ms(h.Max())
	return s
}
