package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// progress prints one status line per second to stderr while a scenario
// runs. Scenarios set the current phase and a function that formats the
// live counters (it must only read atomics).
type progress struct {
	w     io.Writer
	quiet bool

	mu       sync.Mutex
	scenario string
	phase    string
	start    time.Time
	line     func() string
}

func (p *progress) begin(scenario string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.scenario, p.phase, p.line, p.start = scenario, "", nil, time.Now()
}

// set switches to a new phase; line may be nil for a silent phase.
func (p *progress) set(phase string, line func() string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.phase, p.line = phase, line
}

// run prints until ctx ends.
func (p *progress) run(ctx context.Context) {
	if p.quiet {
		return
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			p.mu.Lock()
			line, scen, phase, start := p.line, p.scenario, p.phase, p.start
			p.mu.Unlock()
			if line != nil {
				fmt.Fprintf(p.w, "[%6.1fs] %s/%s: %s\n", time.Since(start).Seconds(), scen, phase, line())
			}
		}
	}
}

// rateMeter turns a monotonically growing counter into a per-second rate
// between successive calls. Used only by the progress goroutine.
type rateMeter struct {
	last  int64
	lastT time.Time
}

func (r *rateMeter) rate(now int64) float64 {
	t := time.Now()
	var v float64
	if !r.lastT.IsZero() {
		v = float64(now-r.last) / t.Sub(r.lastT).Seconds()
	}
	r.last, r.lastT = now, t
	return v
}

// cpuSample is the CPU time of this process and, with --pid, of chatd.
type cpuSample struct {
	self, server float64 // seconds
	at           time.Time
}

func sampleCPU(pid int) cpuSample {
	s := cpuSample{at: time.Now(), server: -1}
	s.self = selfCPU()
	if pid > 0 {
		s.server = procCPU(pid)
	}
	return s
}

// cpuUse is CPU consumption over a measured phase, in cores (1.0 = one core busy).
type cpuUse struct {
	BenchCores  float64 `json:"bench_cores"`
	ServerCores float64 `json:"server_cores,omitempty"` // needs --pid
	LoadAvg1    float64 `json:"loadavg_1m"`             // of the whole machine, at the end
}

func (s cpuSample) until(e cpuSample) cpuUse {
	wall := e.at.Sub(s.at).Seconds()
	if wall <= 0 {
		return cpuUse{}
	}
	u := cpuUse{BenchCores: roundTo((e.self-s.self)/wall, 2), LoadAvg1: loadAvg1()}
	if s.server >= 0 && e.server >= 0 {
		u.ServerCores = roundTo((e.server-s.server)/wall, 2)
	}
	return u
}

// procCPU reads utime+stime of pid from /proc/PID/stat, in seconds; -1 on error.
func procCPU(pid int) float64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return -1
	}
	ut, err1 := strconv.ParseFloat(f[11], 64) // field 14 utime
	st, err2 := strconv.ParseFloat(f[12], 64) // field 15 stime
	if err1 != nil || err2 != nil {
		return -1
	}
	const clkTck = 100 // USER_HZ on Linux
	return (ut + st) / clkTck
}

// procRSSKB reads VmRSS of pid in KiB; -1 on error.
func procRSSKB(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return n
				}
			}
		}
	}
	return -1
}

// loadAvg1 is the machine's one-minute load average (shared machines make
// figures noisy: reports carry it), -1 if unknown.
func loadAvg1() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}
