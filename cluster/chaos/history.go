package chaos

import "time"

// Outcome of a logical send, as the client knows it.
type Outcome string

// Outcomes.
const (
	OutcomePending Outcome = ""        // not decided yet
	OutcomeAck     Outcome = "ack"     // some attempt was acknowledged
	OutcomeError   Outcome = "error"   // a definitive error (any code but unavailable)
	OutcomeUnknown Outcome = "unknown" // retries exhausted or the run ended without an answer
)

// Attempt results.
const (
	ResultAck     = "ack"
	ResultError   = "error"
	ResultTimeout = "timeout" // no answer within the client's timeout (may be answered later)
	ResultLost    = "lost"    // the connection closed before an answer
)

// Attempt is one transmission of a send frame.
type Attempt struct {
	ReqID     string    `json:"reqId"`
	Conn      string    `json:"conn"`
	Node      int       `json:"node"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"` // when Result was set
	Result    string    `json:"result,omitempty"`
	Code      string    `json:"code,omitempty"`
	Seq       int64     `json:"seq,omitempty"`
	MessageID string    `json:"messageId,omitempty"`
	Duplicate bool      `json:"duplicate,omitempty"`
	TimedOut  bool      `json:"timedOut,omitempty"` // the client gave up waiting (a reply may still have come)
}

// Send is one logical message: a clientMsgId and every attempt to send it.
type Send struct {
	Conversation string     `json:"conversation"`
	ClientMsgID  string     `json:"clientMsgId"`
	Body         string     `json:"body"`
	Final        bool       `json:"final,omitempty"` // the heal phase's send (I9)
	Start        time.Time  `json:"start"`
	Attempts     []*Attempt `json:"attempts"`
	Outcome      Outcome    `json:"outcome"`
	Code         string     `json:"code,omitempty"` // the definitive error code
	Seq          int64      `json:"seq,omitempty"`
	MessageID    string     `json:"messageId,omitempty"`
	AckedAt      time.Time  `json:"ackedAt"`
	DecidedAt    time.Time  `json:"decidedAt"`
}

// Delivery is one message frame received.
type Delivery struct {
	Index        int       `json:"i"` // position in the client's event order
	Conn         string    `json:"conn"`
	Conversation string    `json:"conversation"`
	Seq          int64     `json:"seq"`
	MessageID    string    `json:"messageId"`
	SenderID     string    `json:"senderId"`
	ClientMsgID  string    `json:"clientMsgId"`
	Body         string    `json:"body"`
	At           time.Time `json:"at"`
	// InSync: a sync of this conversation was outstanding on this connection
	// (the frame may be a replay); otherwise it is a live delivery.
	InSync bool `json:"inSync,omitempty"`
}

// Sync results.
const (
	SyncSynced  = "synced"
	SyncError   = "error"
	SyncLost    = "lost"
	SyncTimeout = "timeout"
)

// SyncRecord is one sync request and its answer.
type SyncRecord struct {
	ReqID        string    `json:"reqId"`
	Conn         string    `json:"conn"`
	Conversation string    `json:"conversation"`
	AfterSeq     int64     `json:"afterSeq"`
	Start        time.Time `json:"start"`
	End          time.Time `json:"end"`
	EndIndex     int       `json:"endIndex"` // event order of the answer
	Result       string    `json:"result,omitempty"`
	Code         string    `json:"code,omitempty"`
	FromSeq      int64     `json:"fromSeq"`
	LastSeq      int64     `json:"lastSeq"`
	HasMore      bool      `json:"hasMore"`
}

// Connection is one authenticated WebSocket of a client.
type Connection struct {
	ID          string    `json:"id"`
	Node        int       `json:"node"`
	Opened      time.Time `json:"opened"` // ready received
	Closed      time.Time `json:"closed"`
	CloseReason string    `json:"closeReason,omitempty"`
	Phase       string    `json:"phase"` // run, heal, probe
}

// ConnectFailure is a failed attempt to open a connection.
type ConnectFailure struct {
	At   time.Time `json:"at"`
	Node int       `json:"node"`
	Err  string    `json:"err"`
}

// ClientHistory is everything one client did and saw.
type ClientHistory struct {
	Client        int      `json:"client"`
	UserID        string   `json:"userId"`
	Username      string   `json:"username"`
	Conversations []string `json:"conversations"`
	// Probe marks the harness's probe user (member of every conversation,
	// no final sync): excluded from I6 and I9.
	Probe bool `json:"probe,omitempty"`

	Sends      []*Send          `json:"sends"`
	Deliveries []Delivery       `json:"deliveries"`
	Syncs      []*SyncRecord    `json:"syncs"`
	Conns      []*Connection    `json:"conns"`
	Failures   []ConnectFailure `json:"connectFailures,omitempty"`
	// StrayErrors are error frames without a request id (unparseable frames).
	StrayErrors []string `json:"strayErrors,omitempty"`
}

// Reconnects counts connections opened after the first during the run phase.
func (h *ClientHistory) Reconnects() int {
	n := 0
	for _, c := range h.Conns {
		if c.Phase == phaseRun {
			n++
		}
	}
	return max(n-1, 0)
}

// Connection phases.
const (
	phaseRun   = "run"
	phaseHeal  = "heal"
	phaseProbe = "probe"
)
