package chaos

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// ByInvariant groups violations by invariant name.
func ByInvariant(vs []Violation) map[string][]Violation {
	out := map[string][]Violation{}
	for _, v := range vs {
		out[v.Invariant] = append(out[v.Invariant], v)
	}
	return out
}

// WriteSummary prints a readable report: phases, figures, faults, failover
// and violations with up to examples of each.
func (r *Result) WriteSummary(w io.Writer, examples int) {
	f := r.Figures
	p := r.Phases
	fmt.Fprintf(w, "chaos run: seed %d, %d nodes, %d clients, %d conversations, run %s, fault every %s\n",
		r.Config.Seed, r.Config.Nodes, r.Config.Clients, r.Config.Conversations, r.Config.Duration, r.Config.FaultInterval)
	fmt.Fprintf(w, "phases: start %s, run %s, heal %s, check %s\n", rd(p.Start), rd(p.Run), rd(p.Heal), rd(p.Check))
	fmt.Fprintf(w, "sends: %d (acked %d, refused %d, unknown %d); attempts %d, retries %d, timeouts %d (late answers %d), lost %d, duplicate acks %d\n",
		f.Sends, f.Acked, f.Refused, f.Unknown, f.Attempts, f.Retries, f.Timeouts, f.LateAnswers, f.Lost, f.Duplicates)
	fmt.Fprintf(w, "error answers by code: %s; refused sends by code: %s\n", counts(f.ErrorsByCode), counts(f.RefusedBy))
	fmt.Fprintf(w, "deliveries %d, syncs %d (errors %d), reconnects %d, connect failures %d, probe sends %d, stored messages %d\n",
		f.Deliveries, f.Syncs, f.SyncErrors, f.Reconnects, f.ConnectFailures, f.ProbeSends, f.StoredMessages)
	fk := map[string]int{}
	for k, v := range f.Faults {
		fk[string(k)] = v
	}
	fmt.Fprintf(w, "faults: %s; paused nodes that exited by themselves %d; healer restarts %d; unplanned exits %s; seq conflicts logged %d\n",
		counts(fk), f.SelfExits, f.HealerRestarts, counts(f.UnplannedExits), f.SeqConflicts)
	fo := f.Failover
	fmt.Fprintf(w, "failover after %d node kills: per-kill max p50 %s p99 %s max %s; all conversations (n=%d) p50 %s p99 %s max %s; censored %d\n",
		fo.Kills, rd(fo.PerKill.P50), rd(fo.PerKill.P99), rd(fo.PerKill.Max),
		fo.All.N, rd(fo.All.P50), rd(fo.All.P99), rd(fo.All.Max), fo.Censored)
	fmt.Fprintf(w, "acks per 10s: %v\nconnect failures per 10s: %v\n", f.AcksPer10s, f.ConnectFailuresPer10s)
	var cpu []string
	for _, name := range sortedKeys(f.CPU) {
		cpu = append(cpu, fmt.Sprintf("%s mean %.0f%% max %.0f%%", name, f.CPU[name].MeanPct, f.CPU[name].MaxPct))
	}
	fmt.Fprintf(w, "cpu (100%% = one core): %s; machine load average max %.1f\n", strings.Join(cpu, ", "), f.LoadAvgMax)
	for _, ft := range r.Faults {
		fmt.Fprintf(w, "  fault %-11s %-5s pid %-7d at %s hold %-6s back after %-8s %s\n", ft.Kind, ft.Target, ft.PID,
			ft.At.UTC().Format("15:04:05.000"), rd(ft.Hold), rd(ft.Ready.Sub(ft.At)), strings.Join(ft.Notes, "; "))
	}
	for _, e := range r.HealErrors {
		fmt.Fprintf(w, "heal error: %s\n", e)
	}
	by := ByInvariant(r.Violations)
	fmt.Fprintf(w, "violations: %d\n", len(r.Violations))
	for _, inv := range Invariants {
		vs := by[inv.Name]
		mark := "ok  "
		if len(vs) > 0 {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s %s %-5d %s\n", mark, inv.Name, len(vs), inv.Text)
		for i, v := range vs {
			if i == examples {
				fmt.Fprintf(w, "       … %d more\n", len(vs)-examples)
				break
			}
			fmt.Fprintf(w, "       %s\n", v)
		}
	}
}

// summaryLine is the one-line JSON form of a result.
type summaryLine struct {
	Seed       int64              `json:"seed"`
	Nodes      int                `json:"nodes"`
	Clients    int                `json:"clients"`
	Convs      int                `json:"conversations"`
	DurationS  float64            `json:"durationSeconds"`
	Figures    Figures            `json:"figures"`
	Violations map[string]int     `json:"violations"`
	Examples   []string           `json:"examples,omitempty"`
	HealErrors []string           `json:"healErrors,omitempty"`
	PhaseS     map[string]float64 `json:"phaseSeconds"`
}

// WriteJSON prints the result as one JSON line.
func (r *Result) WriteJSON(w io.Writer) error {
	s := summaryLine{Seed: r.Config.Seed, Nodes: r.Config.Nodes, Clients: r.Config.Clients, Convs: r.Config.Conversations,
		DurationS: r.Config.Duration.Seconds(), Figures: r.Figures, Violations: map[string]int{}, HealErrors: r.HealErrors,
		PhaseS: map[string]float64{"start": r.Phases.Start.Seconds(), "run": r.Phases.Run.Seconds(),
			"heal": r.Phases.Heal.Seconds(), "check": r.Phases.Check.Seconds()}}
	for _, inv := range Invariants {
		s.Violations[inv.Name] = 0
	}
	by := ByInvariant(r.Violations)
	names := sortedKeys(by)
	for _, name := range names {
		s.Violations[name] = len(by[name])
		for i, v := range by[name] {
			if i == 3 {
				break
			}
			s.Examples = append(s.Examples, v.String())
		}
	}
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}

func rd(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}

func counts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}
