package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// target is one chatd node.
type target struct {
	base  string     // http://127.0.0.1:8080
	ws    string     // ws://127.0.0.1:8080/ws
	ipv4  bool       // the node listens on IPv4 loopback: source addresses can vary
	local netip.Addr // the node's address
	proto bool       // open WebSockets with the "chat.proto" subprotocol (--frames proto)
}

// parseTargets checks that every URL is an http(s) URL on a loopback address:
// this tool sends traffic nowhere else.
func parseTargets(list string) ([]target, error) {
	var out []target
	for _, raw := range strings.Split(list, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--url %q: want http://HOST:PORT", raw)
		}
		host := u.Hostname()
		if host == "localhost" {
			host = "127.0.0.1"
		}
		addr, err := netip.ParseAddr(host)
		if err != nil || !addr.IsLoopback() {
			return nil, fmt.Errorf("--url %q: only loopback addresses (127.0.0.0/8, ::1) are allowed", raw)
		}
		hostPort := net.JoinHostPort(addr.String(), u.Port())
		ws := "ws://" + hostPort + "/ws"
		if u.Scheme == "https" {
			ws = "wss://" + hostPort + "/ws"
		}
		out = append(out, target{base: u.Scheme + "://" + hostPort, ws: ws, ipv4: addr.Is4(), local: addr})
	}
	if len(out) == 0 {
		return nil, errors.New("--url: no node given")
	}
	return out, nil
}

// addrPool hands out distinct loopback source addresses 127.X.Y.Z, X chosen
// per run, so per-IP limits of the server see many clients.
type addrPool struct{ second byte }

// ip returns the i-th address of the pool (i < 65024).
func (p addrPool) ip(i int) netip.Addr {
	i %= 256 * 254
	return netip.AddrFrom4([4]byte{127, p.second, byte(i / 254), byte(i%254 + 1)})
}

// dialFrom returns a DialContext that binds to src when the target is IPv4.
func dialFrom(src netip.Addr, timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := net.Dialer{Timeout: timeout}
		if ap, err := netip.ParseAddrPort(addr); err == nil && ap.Addr().Is4() && src.IsValid() {
			d.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
		}
		return d.DialContext(ctx, network, addr)
	}
}

type srcAddrKey struct{}

// withSource makes REST requests made with ctx on restClient.fresh leave from src.
func withSource(ctx context.Context, src netip.Addr) context.Context {
	return context.WithValue(ctx, srcAddrKey{}, src)
}

// apiError is a REST error answer.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Message) }

// errorCode returns the protocol error code of err, or a short class name.
func errorCode(err error) string {
	var ae *apiError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ae):
		return ae.Code
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "transport"
}

// restClient calls the REST API of the nodes, round-robin.
type restClient struct {
	targets []target
	next    atomic.Uint64
	pooled  *http.Client // keep-alive, for everything but register/login
	fresh   *http.Client // a new connection per request, from the ctx's source address
}

func newRESTClient(targets []target, conns int) *restClient {
	pooled := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, IdleConnTimeout: 30 * time.Second,
		DialContext: dialFrom(netip.Addr{}, 10*time.Second)}
	fresh := &http.Transport{DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			src, _ := ctx.Value(srcAddrKey{}).(netip.Addr)
			return dialFrom(src, 10*time.Second)(ctx, network, addr)
		}}
	return &restClient{targets: targets,
		pooled: &http.Client{Transport: pooled, Timeout: 60 * time.Second},
		fresh:  &http.Client{Transport: fresh, Timeout: 60 * time.Second}}
}

func (c *restClient) pick() target { return c.targets[int(c.next.Add(1)-1)%len(c.targets)] }

// do sends a JSON request and decodes a JSON answer into out (if not nil).
func (c *restClient) do(ctx context.Context, hc *http.Client, method, path, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.pick().base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.Unmarshal(data, &e)
		return &apiError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

// user is a registered account and its access token.
type user struct {
	ID       string
	Username string
	Token    string
}

type sessionResp struct {
	User        struct{ ID, Username string } `json:"user"`
	AccessToken string                        `json:"accessToken"`
}

// register creates an account from source address src.
func (c *restClient) register(ctx context.Context, src netip.Addr, username, password string) (*user, error) {
	var s sessionResp
	in := map[string]string{"username": username, "password": password}
	if err := c.do(withSource(ctx, src), c.fresh, http.MethodPost, "/api/register", "", in, &s); err != nil {
		return nil, err
	}
	return &user{ID: s.User.ID, Username: s.User.Username, Token: s.AccessToken}, nil
}

type conversationResp struct {
	ID      string `json:"id"`
	LastSeq int64  `json:"lastSeq"`
}

// createGroup creates a group owned by owner with the given initial members.
func (c *restClient) createGroup(ctx context.Context, owner *user, title string, members []string) (string, error) {
	var conv conversationResp
	in := map[string]any{"kind": "group", "title": title, "members": members}
	if err := c.do(ctx, c.pooled, http.MethodPost, "/api/conversations", owner.Token, in, &conv); err != nil {
		return "", err
	}
	return conv.ID, nil
}

// addMember adds username to a conversation (answer body ignored: it lists every member).
func (c *restClient) addMember(ctx context.Context, owner *user, convID, username string) error {
	in := map[string]string{"username": username}
	return c.do(ctx, c.pooled, http.MethodPost, "/api/conversations/"+url.PathEscape(convID)+"/members", owner.Token, in, nil)
}

// wireMessage is a message as the protocol sends it.
type wireMessage struct {
	ConversationID string `json:"conversationId"`
	Seq            int64  `json:"seq"`
	MessageID      string `json:"messageId"`
	SenderID       string `json:"senderId"`
	ClientMsgID    string `json:"clientMsgId"`
	Body           string `json:"body"`
	CreatedAt      string `json:"createdAt"`
}

// messages reads one history page; query is "before=S&limit=N" or "after=S&limit=N".
func (c *restClient) messages(ctx context.Context, u *user, convID, query string) ([]wireMessage, error) {
	var page struct {
		Messages []wireMessage `json:"messages"`
	}
	path := "/api/conversations/" + url.PathEscape(convID) + "/messages?" + query
	if err := c.do(ctx, c.pooled, http.MethodGet, path, u.Token, nil, &page); err != nil {
		return nil, err
	}
	return page.Messages, nil
}

// memberNames returns the usernames of a conversation's members, read page
// by page (GET …/members, protocol §REST).
func (c *restClient) memberNames(ctx context.Context, u *user, convID string) (map[string]bool, error) {
	out := map[string]bool{}
	after := ""
	for {
		var page struct {
			Members []struct {
				Username string `json:"username"`
			} `json:"members"`
			Next string `json:"next"`
		}
		path := "/api/conversations/" + url.PathEscape(convID) + "/members?limit=500&after=" + url.QueryEscape(after)
		if err := c.do(ctx, c.pooled, http.MethodGet, path, u.Token, nil, &page); err != nil {
			return nil, err
		}
		for _, m := range page.Members {
			out[m.Username] = true
		}
		if after = page.Next; after == "" {
			return out, nil
		}
	}
}
