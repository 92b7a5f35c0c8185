package chaos

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CPUStat is one process's CPU use, sampled every couple of seconds (100% =
// one core).
type CPUStat struct {
	MeanPct float64 `json:"meanPct"`
	MaxPct  float64 `json:"maxPct"`
}

// sampler records the CPU use of the cluster's processes and the machine's
// load average while a run goes on: evidence for "the store was saturated".
type sampler struct {
	cl       *Cluster
	interval time.Duration

	mu      sync.Mutex
	sums    map[string]float64
	counts  map[string]int
	maxes   map[string]float64
	loadMax float64
}

func newSampler(cl *Cluster) *sampler {
	return &sampler{cl: cl, interval: 2 * time.Second,
		sums: map[string]float64{}, counts: map[string]int{}, maxes: map[string]float64{}}
}

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

func (s *sampler) run(ctx context.Context) {
	type last struct {
		pid   int
		ticks int64
		at    time.Time
	}
	prev := map[string]last{}
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, p := range s.cl.Processes() {
			pid := p.PID()
			ticks, err := cpuTicks(pid)
			now := time.Now()
			if err != nil {
				continue
			}
			if l, ok := prev[p.Name]; ok && l.pid == pid && ticks >= l.ticks {
				pct := float64(ticks-l.ticks) / clockTicks / now.Sub(l.at).Seconds() * 100
				s.add(p.Name, pct)
			}
			prev[p.Name] = last{pid, ticks, now}
		}
		if la, err := loadAvg(); err == nil {
			s.mu.Lock()
			s.loadMax = max(s.loadMax, la)
			s.mu.Unlock()
		}
	}
}

func (s *sampler) add(name string, pct float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sums[name] += pct
	s.counts[name]++
	s.maxes[name] = max(s.maxes[name], pct)
}

// stats returns the per-process CPU use and the highest 1-minute load average.
func (s *sampler) stats() (map[string]CPUStat, float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]CPUStat{}
	for name, n := range s.counts {
		out[name] = CPUStat{MeanPct: s.sums[name] / float64(n), MaxPct: s.maxes[name]}
	}
	return out, s.loadMax
}

// cpuTicks reads utime+stime of a process from /proc/PID/stat.
func cpuTicks(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	rest := string(data)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	// After the name: state is field 3, utime 14, stime 15 (1-based).
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return utime + stime, nil
}

func loadAvg() (float64, error) {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0, fmt.Errorf("empty /proc/loadavg")
	}
	return strconv.ParseFloat(f[0], 64)
}
