package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/actorchat/engine/actors"
	"github.com/actorchat/engine/cluster"
	"github.com/actorchat/engine/gateway"
	"github.com/actorchat/engine/persistence"
	"github.com/actorchat/engine/persistence/mongo"
	"github.com/actorchat/engine/persistence/mongo/mongotest"
	"github.com/actorchat/engine/persistence/sqlite"
)

// testSecret signs every access token in these tests.
var testSecret = []byte("0123456789abcdef0123456789abcdef-test")

// storeKind opens a store of one adapter; reopen gives a new handle on the
// same data (for restarts).
type storeKind struct {
	name   string
	open   func(t *testing.T) (persistence.Store, func(t *testing.T) persistence.Store)
	reopen bool
}

func adapters() []storeKind {
	return []storeKind{
		{name: "sqlite", open: func(t *testing.T) (persistence.Store, func(t *testing.T) persistence.Store) {
			path := filepath.Join(t.TempDir(), "chat.db")
			open := func(t *testing.T) persistence.Store {
				st, err := sqlite.Open(context.Background(), sqlite.Config{Path: path})
				if err != nil {
					t.Fatalf("open sqlite: %v", err)
				}
				return st
			}
			return open(t), open
		}},
		{name: "mongo", open: func(t *testing.T) (persistence.Store, func(t *testing.T) persistence.Store) {
			cfg := mongotest.Config(t, mongotest.URI(t))
			open := func(t *testing.T) persistence.Store {
				st, err := mongo.Open(context.Background(), cfg)
				if err != nil {
					t.Fatalf("open mongo: %v", err)
				}
				return st
			}
			return open(t), open
		}},
	}
}

// stack is one in-process chat node: store, cluster member with its actors,
// gateway, on an httptest server.
type stack struct {
	t     *testing.T
	store persistence.Store
	node  *cluster.Node
	deps  *actors.Deps
	gw    *gateway.Server
	http  *httptest.Server
	URL   string
	stop  func()
}

type stackOption func(*gateway.Config)

func startStack(t *testing.T, st persistence.Store, opts ...stackOption) *stack {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()
	// A single node, as chatd runs it: actors on the pooled dispatcher.
	deps, err := actors.NewDeps(actors.Deps{Store: st, Log: log, Encode: gateway.EncodeMessage, Metrics: actors.NewMetrics(reg),
		Config: actors.Config{PooledMailboxes: true}})
	if err != nil {
		t.Fatal(err)
	}
	node, err := cluster.Start(cluster.Config{}, deps, log)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := gateway.NewTokens(gateway.TokenConfig{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	accounts := gateway.NewAccounts(st, tokens, gateway.AccountsConfig{BcryptCost: bcrypt.MinCost, AuthRate: 1000, AuthBurst: 1000}, log)
	var cfg gateway.Config
	for _, o := range opts {
		o(&cfg)
	}
	gw, err := gateway.NewServer(cfg, gateway.Deps{Accounts: accounts, Directory: st, Grains: node, Users: node, System: node.System, Actors: deps, Log: log, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw.Handler())
	s := &stack{t: t, store: st, node: node, deps: deps, gw: gw, http: srv, URL: srv.URL}
	stopped := false
	s.stop = func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = gw.Drain(ctx)
		srv.Close()
		_ = deps.WaitIdle(ctx)
		node.Stop(false)
		_ = st.Close(ctx)
	}
	t.Cleanup(s.stop)
	return s
}

// user is a registered account as the tests see it.
type user struct {
	ID, Name, Token string
}

func (s *stack) register(name string) user {
	s.t.Helper()
	var out struct {
		User        struct{ ID string }
		AccessToken string
	}
	s.doJSON("POST", "/api/register", "", map[string]string{"username": name, "password": "correct horse"}, http.StatusCreated, &out)
	return user{ID: out.User.ID, Name: name, Token: out.AccessToken}
}

func (s *stack) createGroup(owner user, title string, members ...user) string {
	s.t.Helper()
	names := []string{}
	for _, m := range members {
		names = append(names, m.Name)
	}
	var out struct{ ID string }
	s.doJSON("POST", "/api/conversations", owner.Token, map[string]any{"kind": "group", "title": title, "members": names}, http.StatusCreated, &out)
	return out.ID
}

// doJSON performs a REST call and checks its status.
func (s *stack) doJSON(method, path, token string, body any, want int, out any) []byte {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	return raw
}

// frame is any server frame, decoded loosely.
type frame struct {
	Type           string
	ID             string
	Code           string
	Message        string
	ConversationID string
	Seq            int64
	MessageID      string
	SenderID       string
	ClientMsgID    string
	Body           string
	Duplicate      bool
	AfterSeq       int64
	FromSeq        int64
	LastSeq        int64
	HasMore        bool
	Joined         bool
	Messages       []frame
	UserID         string
	LastReadSeq    int64
	Status         string
	LastSeen       string
	Kind           string
	TargetSeq      int64
	EditedAt       string
	Deleted        bool
	UpdatedSeq     int64
	Reactions      map[string][]string
	SubjectID      string
	ActorID        string
	MessageSeq     int64
	Title          string
	Attachments    []string
	AvatarVersion  string
}

// client is a test WebSocket client: a reader goroutine feeds frames to a
// channel; helpers wait on it with deadlines.
type client struct {
	t      *testing.T
	ws     *websocket.Conn
	frames chan frame
	closed chan struct{}
	err    error // set before closed is closed
	seen   []frame
	nextID int
}

func dialWS(t *testing.T, baseURL string, header http.Header) (*websocket.Conn, *http.Response, error) {
	u := "ws" + strings.TrimPrefix(baseURL, "http") + "/ws"
	return websocket.DefaultDialer.Dial(u, header)
}

// connect dials, authenticates and waits for ready.
func (s *stack) connect(u user) *client {
	s.t.Helper()
	ws, _, err := dialWS(s.t, s.URL, nil)
	if err != nil {
		s.t.Fatalf("dial: %v", err)
	}
	c := &client{t: s.t, ws: ws, frames: make(chan frame, 10000), closed: make(chan struct{})}
	go c.readLoop()
	s.t.Cleanup(func() { _ = ws.Close() })
	c.writeJSON(map[string]any{"type": "auth", "token": u.Token})
	c.waitFor(func(f frame) bool { return f.Type == "ready" }, "ready")
	return c
}

func (c *client) readLoop() {
	defer close(c.closed)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			c.err = err
			return
		}
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			c.err = fmt.Errorf("bad frame %s: %w", data, err)
			return
		}
		c.frames <- f
	}
}

func (c *client) writeJSON(v any) {
	c.t.Helper()
	if err := c.ws.WriteJSON(v); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) id() string {
	c.nextID++
	return fmt.Sprintf("r%d", c.nextID)
}

// waitFor returns the first frame matching ok, keeping every frame it reads in c.seen.
func (c *client) waitFor(ok func(frame) bool, what string) frame {
	c.t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case f := <-c.frames:
			c.seen = append(c.seen, f)
			if ok(f) {
				return f
			}
		case <-c.closed:
			// drain what arrived before the close
			select {
			case f := <-c.frames:
				c.seen = append(c.seen, f)
				if ok(f) {
					return f
				}
				continue
			default:
			}
			c.t.Fatalf("connection closed waiting for %s: %v", what, c.err)
		case <-deadline:
			c.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// send sends a message and returns the reply (ack or error).
func (c *client) send(conv, clientMsgID, body string) frame {
	c.t.Helper()
	id := c.id()
	c.writeJSON(map[string]any{"type": "send", "id": id, "conversationId": conv, "clientMsgId": clientMsgID, "body": body})
	return c.waitFor(func(f frame) bool { return f.ID == id && (f.Type == "ack" || f.Type == "error") }, "reply to "+id)
}

// messages returns the message frames of conv seen so far, in arrival order.
func (c *client) messages(conv string) []frame {
	var out []frame
	for _, f := range c.seen {
		if f.Type == "message" && f.ConversationID == conv {
			out = append(out, f)
		}
	}
	return out
}

// waitMessages reads until n messages of conv were seen.
func (c *client) waitMessages(conv string, n int) []frame {
	c.t.Helper()
	if len(c.messages(conv)) >= n {
		return c.messages(conv)
	}
	c.waitFor(func(frame) bool { return len(c.messages(conv)) >= n }, fmt.Sprintf("%d messages", n))
	return c.messages(conv)
}

// waitClose returns the close code the server sent.
func (c *client) waitClose() int {
	c.t.Helper()
	select {
	case <-c.closed:
	case <-time.After(15 * time.Second):
		c.t.Fatal("connection not closed")
	}
	if ce, ok := c.err.(*websocket.CloseError); ok {
		return ce.Code
	}
	return -1
}
