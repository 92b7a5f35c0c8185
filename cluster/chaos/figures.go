package chaos

import (
	"encoding/json"
	"sort"
	"time"
)

// Figures summarise a run.
type Figures struct {
	Sends        int            `json:"sends"` // logical workload sends (clientMsgIds), final sends included
	Acked        int            `json:"acked"`
	Duplicates   int            `json:"duplicateAcks"` // acks with duplicate:true
	Unknown      int            `json:"unknown"`       // sends never decided
	Refused      int            `json:"refused"`       // sends with a definitive error
	Attempts     int            `json:"attempts"`
	Retries      int            `json:"retries"` // attempts beyond the first
	Timeouts     int            `json:"timeouts"`
	Lost         int            `json:"lost"`          // attempts whose connection closed first
	ErrorsByCode map[string]int `json:"errorsByCode"`  // error answers to attempts
	RefusedBy    map[string]int `json:"refusedByCode"` // sends decided as error, by code
	LateAnswers  int            `json:"lateAnswers"`   // answers after the client timed out

	Deliveries      int `json:"deliveries"`
	Syncs           int `json:"syncs"`
	SyncErrors      int `json:"syncErrors"`
	Reconnects      int `json:"reconnects"` // run-phase connections after each client's first
	ConnectFailures int `json:"connectFailures"`
	ProbeSends      int `json:"probeSends"`
	StoredMessages  int `json:"storedMessages"`

	Faults         map[FaultKind]int `json:"faults"`
	SelfExits      int               `json:"selfExits"`      // paused nodes that exited by themselves after SIGCONT
	HealerRestarts int               `json:"healerRestarts"` // nodes restarted because they stayed isolated
	UnplannedExits map[string]int    `json:"unplannedExits"` // per process: exits nobody asked for
	SeqConflicts   int               `json:"seqConflicts"`   // "concurrent activation" warnings in node logs

	Failover Failover `json:"failover"`

	// AcksPer10s and ConnectFailuresPer10s cover the run phase in 10s
	// windows: a collapse and its recovery show here.
	AcksPer10s            []int              `json:"acksPer10s"`
	ConnectFailuresPer10s []int              `json:"connectFailuresPer10s"`
	CPU                   map[string]CPUStat `json:"cpu"`
	LoadAvgMax            float64            `json:"loadAvgMax"`
}

// timeline counts workload acks and connect failures per 10s window of
// [from, to).
func timeline(in Input, from, to time.Time) (acks, fails []int) {
	n := int(to.Sub(from)/(10*time.Second)) + 1
	acks, fails = make([]int, n), make([]int, n)
	slot := func(t time.Time) int {
		if t.Before(from) || !t.Before(to) {
			return -1
		}
		return int(t.Sub(from) / (10 * time.Second))
	}
	for _, h := range in.Clients {
		if h.Probe {
			continue
		}
		for _, s := range h.Sends {
			for _, a := range s.Attempts {
				if i := slot(a.End); a.Result == ResultAck && i >= 0 {
					acks[i]++
				}
			}
		}
		for _, f := range h.Failures {
			if i := slot(f.At); i >= 0 {
				fails[i]++
			}
		}
	}
	return acks, fails
}

// Dist is a small distribution summary.
type Dist struct {
	N   int           `json:"n"`
	P50 time.Duration `json:"p50"`
	P99 time.Duration `json:"p99"`
	Max time.Duration `json:"max"`
}

// Failover: for each node kill, the time from the kill to the first ack of
// a send started after it, per conversation.
type Failover struct {
	Kills    int            `json:"kills"`
	PerKill  Dist           `json:"perKillMax"`       // of each kill's slowest conversation
	All      Dist           `json:"allConversations"` // of every (kill, conversation)
	Censored int            `json:"censored"`         // (kill, conversation) pairs without an ack before the next fault
	Maxima   []KillFailover `json:"perKill"`
}

// KillFailover is one kill's failover.
type KillFailover struct {
	Target   string        `json:"target"`
	At       time.Time     `json:"at"`
	Max      time.Duration `json:"-"`
	MaxMs    float64       `json:"maxMs"`
	Slowest  string        `json:"slowest"`
	Censored int           `json:"censored"`
}

// MarshalJSON writes the durations in milliseconds.
func (d Dist) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		N     int     `json:"n"`
		P50Ms float64 `json:"p50Ms"`
		P99Ms float64 `json:"p99Ms"`
		MaxMs float64 `json:"maxMs"`
	}{d.N, ms(d.P50), ms(d.P99), ms(d.Max)})
}

func ms(d time.Duration) float64 {
	return float64(d.Round(time.Millisecond)) / float64(time.Millisecond)
}

func dist(ds []time.Duration) Dist {
	if len(ds) == 0 {
		return Dist{}
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(s)) + 0.999999)
		return s[min(max(i-1, 0), len(s)-1)]
	}
	return Dist{N: len(s), P50: rank(0.50), P99: rank(0.99), Max: s[len(s)-1]}
}

// computeFigures counts what the histories and the fault log show. end is
// when the run phase ended (the heal began).
func computeFigures(in Input, faults []*Fault, convs []string, end time.Time) Figures {
	f := Figures{ErrorsByCode: map[string]int{}, RefusedBy: map[string]int{}, Faults: map[FaultKind]int{},
		UnplannedExits: map[string]int{}}
	for _, h := range in.Clients {
		if h.Probe {
			f.ProbeSends += len(h.Sends)
		} else {
			countSends(&f, h)
			f.Reconnects += h.Reconnects()
		}
		f.Deliveries += len(h.Deliveries)
		f.Syncs += len(h.Syncs)
		for _, s := range h.Syncs {
			if s.Result == SyncError {
				f.SyncErrors++
			}
		}
		f.ConnectFailures += len(h.Failures)
	}
	for _, msgs := range in.Store {
		f.StoredMessages += len(msgs)
	}
	for _, ft := range faults {
		f.Faults[ft.Kind]++
		if ft.SelfExit {
			f.SelfExits++
		}
		if ft.HealerRestart {
			f.HealerRestarts++
		}
	}
	f.Failover = failover(in, faults, convs, end)
	return f
}

func countSends(f *Figures, h *ClientHistory) {
	for _, s := range h.Sends {
		f.Sends++
		switch s.Outcome {
		case OutcomeAck:
			f.Acked++
		case OutcomeUnknown, OutcomePending:
			f.Unknown++
		case OutcomeError:
			f.Refused++
			f.RefusedBy[s.Code]++
		}
		f.Attempts += len(s.Attempts)
		f.Retries += max(len(s.Attempts)-1, 0)
		for _, a := range s.Attempts {
			if a.TimedOut {
				f.Timeouts++
				if a.Result == ResultAck || a.Result == ResultError {
					f.LateAnswers++
				}
			}
			switch a.Result {
			case ResultLost:
				f.Lost++
			case ResultError:
				f.ErrorsByCode[a.Code]++
			case ResultAck:
				if a.Duplicate {
					f.Duplicates++
				}
			}
		}
	}
}

// failover measures, for every node kill, each conversation's time from the
// kill to the first acknowledged workload attempt that started after it.
func failover(in Input, faults []*Fault, convs []string, end time.Time) Failover {
	var out Failover
	var perKill, all []time.Duration
	for i, ft := range faults {
		if ft.Kind != FaultKill {
			continue
		}
		out.Kills++
		until := end
		if i+1 < len(faults) {
			until = faults[i+1].At
		}
		first := map[string]time.Duration{}
		for _, h := range in.Clients {
			if h.Probe {
				continue
			}
			for _, s := range h.Sends {
				for _, a := range s.Attempts {
					if a.Result != ResultAck || !a.Start.After(ft.At) || a.End.After(until) {
						continue
					}
					if d, ok := first[s.Conversation]; !ok || a.End.Sub(ft.At) < d {
						first[s.Conversation] = a.End.Sub(ft.At)
					}
				}
			}
		}
		k := KillFailover{Target: ft.Target, At: ft.At}
		for _, conv := range convs {
			d, ok := first[conv]
			if !ok {
				k.Censored++
				continue
			}
			all = append(all, d)
			if d > k.Max {
				k.Max, k.Slowest = d, conv
			}
		}
		k.MaxMs = ms(k.Max)
		out.Censored += k.Censored
		if k.Max > 0 {
			perKill = append(perKill, k.Max)
		}
		out.Maxima = append(out.Maxima, k)
	}
	out.PerKill, out.All = dist(perKill), dist(all)
	return out
}
