package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// config is every setting of a run. Scenario-specific defaults (for
// --messages and --members) apply when the flag is not given.
type config struct {
	scenarios  []string
	urls       string
	timeout    time.Duration
	jsonOnly   bool
	frames     string // json or proto
	quiet      bool
	cpuProfile string

	duration    time.Duration // fanout: sending phase; connections: hold time after connecting
	messages    int           // fanout: max sends (0: duration only); bigroom: sends; history: conversation size
	messagesSet bool
	rooms       int
	members     int
	membersSet  bool
	senders     int // fanout: senders per room (0: every member)
	rate        float64
	window      int
	connRate    float64
	bodySize    int
	drain       time.Duration

	conns        int
	users        int
	pid          int
	sourceIPs    int
	concurrency  int
	regWorkers   int
	perIP        int
	interval     time.Duration
	queries      int
	fillConns    int
	readyTimeout time.Duration
	usersFile    string
	roomID       string
}

const usage = `chatbench: load generator for chatd (docs/protocol.md only).

usage: chatbench SCENARIO[,SCENARIO...] [flags]
       chatbench --scenario SCENARIO[,...] [flags]

scenarios:
  fanout       R rooms x M members, each member its own connection; senders send at
               --rate (aggregate) or as fast as --window allows; latency, throughput, invariants
  connections  --conns idle authenticated connections; connect rate, refusals (1013), server
               RSS per connection with --pid
  bigroom      one conversation of --members members; time until every member has a message
  history      sync/resume and history (WS and REST) latency on a --messages conversation

exit status: 0 ok, 1 an invariant failed (lost, duplicates, out of order), 2 usage or setup error

flags:
`

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	var scen string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		scen, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("chatbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	fs.StringVar(&scen, "scenario", scen, "scenarios to run, comma-separated: fanout, connections, bigroom, history; floor (no server: the machine's floor under bigroom)")
	fs.StringVar(&c.urls, "url", "http://127.0.0.1:8080", "node base URLs, comma-separated (loopback only); connections go round-robin")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Minute, "hard limit for the whole run")
	fs.BoolVar(&c.jsonOnly, "json", false, "print only the JSON lines on stdout")
	fs.StringVar(&c.frames, "frames", "json", `server frames: "json", or "proto" (the "chat.proto" subprotocol: messages and acks as binary protobuf frames)`)
	fs.BoolVar(&c.quiet, "quiet", false, "no progress lines on stderr")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write chatbench's own CPU profile to this file (to see what the load generator costs)")

	fs.DurationVar(&c.duration, "duration", 10*time.Second, "fanout: sending time; connections: how long to hold the connections")
	fs.IntVar(&c.messages, "messages", 0, "fanout: max sends, 0 = until --duration; bigroom and floor: sends (default 20); history: conversation size (default 2000)")
	fs.IntVar(&c.rooms, "rooms", 10, "fanout: conversations")
	fs.IntVar(&c.members, "members", 0, "fanout: members per room (default 10); bigroom: members (default 1000); floor: sockets (default 1000)")
	fs.IntVar(&c.senders, "senders", 0, "fanout: sending members per room, 0 = all")
	fs.Float64Var(&c.rate, "rate", 0, "fanout: aggregate target sends/s over all senders, 0 = as fast as --window and --conn-rate allow")
	fs.IntVar(&c.window, "window", 4, "unacked sends allowed per sending connection")
	fs.Float64Var(&c.connRate, "conn-rate", 45, "max sends/s per connection (chatd drops frames above 50/s, burst 100), 0 = no cap")
	fs.IntVar(&c.bodySize, "body-size", 64, "message body size in bytes (the send timestamp is embedded)")
	fs.DurationVar(&c.drain, "drain", 10*time.Second, "after sending, how long to wait for outstanding acks and deliveries")

	fs.IntVar(&c.conns, "conns", 1000, "connections: idle connections to open")
	fs.IntVar(&c.users, "users", 0, "connections: distinct users to spread them over (default min(conns, 100))")
	fs.IntVar(&c.pid, "pid", 0, "chatd process id: report its RSS and CPU time (read from /proc)")
	fs.IntVar(&c.sourceIPs, "source-ips", 16, "WebSocket source addresses (127.x.y.z) to spread connections over")
	fs.IntVar(&c.concurrency, "concurrency", 32, "parallel connects and REST calls during setup")
	fs.IntVar(&c.regWorkers, "register-workers", 4, "parallel registrations (each costs the server a bcrypt hash)")
	fs.IntVar(&c.perIP, "register-per-ip", 10, "registrations per source address (chatd allows a burst of 10 per IP)")
	fs.DurationVar(&c.interval, "interval", 250*time.Millisecond, "bigroom: time between sends")
	fs.IntVar(&c.queries, "queries", 200, "history: queries of each kind")
	fs.IntVar(&c.fillConns, "fill-conns", 4, "history: connections used to fill the conversation")
	fs.DurationVar(&c.readyTimeout, "ready-timeout", 20*time.Second, "per connection: dial, auth and ready")
	fs.StringVar(&c.roomID, "room", "", "bigroom: reuse this conversation (owned by the first user of --users-file) and add only missing members")
	fs.StringVar(&c.usersFile, "users-file", "", "cache of registered users and tokens: reused by later runs against the same node (start chatd with a long --access-ttl)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	fs.Visit(func(f *flag.Flag) {
		c.messagesSet = c.messagesSet || f.Name == "messages"
		c.membersSet = c.membersSet || f.Name == "members"
	})
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q (flags go after the scenario)", fs.Args())
	}
	return c, c.validate(scen)
}

func (c *config) validate(scen string) error {
	for _, s := range strings.Split(scen, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if scenarioFunc(s) == nil {
			return fmt.Errorf("unknown scenario %q", s)
		}
		c.scenarios = append(c.scenarios, s)
	}
	switch {
	case c.frames != "json" && c.frames != "proto":
		return fmt.Errorf("--frames %q: want json or proto", c.frames)
	case len(c.scenarios) == 0:
		return errors.New("no scenario given (fanout, connections, bigroom, history, floor); -h for help")
	case c.duration <= 0 || c.timeout <= 0 || c.drain < 0 || c.interval <= 0 || c.readyTimeout <= 0:
		return errors.New("durations must be positive")
	case c.rooms < 1 || c.members < 0 || c.senders < 0 || c.window < 1 || c.messages < 0:
		return errors.New("--rooms and --window must be >= 1; counts must not be negative")
	case c.rate < 0 || c.connRate < 0 || c.bodySize < 40 || c.bodySize > 8192:
		return errors.New("--rate/--conn-rate must be >= 0 and --body-size in [40, 8192]")
	case c.conns < 1 || c.conns > 19500:
		return errors.New("--conns must be in [1, 19500] (this process may open 20000 files)")
	case c.users < 0 || c.sourceIPs < 1 || c.concurrency < 1 || c.regWorkers < 1 || c.perIP < 1:
		return errors.New("--users, --source-ips, --concurrency, --register-workers, --register-per-ip must be positive")
	case c.queries < 1 || c.fillConns < 1:
		return errors.New("--queries and --fill-conns must be >= 1")
	}
	return nil
}

// messagesOr is --messages, or def when the flag was not given.
func (c *config) messagesOr(def int) int {
	if c.messagesSet {
		return c.messages
	}
	return def
}

// membersOr is --members, or def when the flag was not given.
func (c *config) membersOr(def int) int {
	if c.membersSet && c.members > 0 {
		return c.members
	}
	return def
}
