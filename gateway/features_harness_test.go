package gateway_test

import (
	"encoding/json"
	"net/http"

	"github.com/actorchat/engine/gateway"
)

// do sends a request frame (fields plus a fresh id) and returns the first
// frame that answers it: any frame carrying the same id.
func (c *client) do(fields map[string]any) frame {
	c.t.Helper()
	id := c.id()
	req := map[string]any{"id": id}
	for k, v := range fields {
		req[k] = v
	}
	c.writeJSON(req)
	return c.waitFor(func(f frame) bool { return f.ID == id }, "reply to "+id)
}

// wantError fails unless f is an error frame with code.
func wantError(c *client, f frame, code, what string) {
	c.t.Helper()
	if f.Type != "error" || f.Code != code {
		c.t.Fatalf("%s: got %s %+v, want error %s", what, f.Type, f, code)
	}
}

// convView is one entry of GET /api/conversations as the feature tests read it.
type listedConv struct {
	ID          string
	Title       string
	LastSeq     int64
	LastReadSeq int64
	Unread      int64
}

// conversations returns u's conversation list by id.
func (s *stack) conversations(u user) map[string]listedConv {
	s.t.Helper()
	var list struct{ Conversations []listedConv }
	s.doJSON("GET", "/api/conversations", u.Token, nil, http.StatusOK, &list)
	out := map[string]listedConv{}
	for _, c := range list.Conversations {
		out[c.ID] = c
	}
	return out
}

// chatMessages keeps the chat messages (kind "message") of fs: no events.
func chatMessages(fs []frame) []frame {
	var out []frame
	for _, f := range fs {
		if f.Kind == "message" {
			out = append(out, f)
		}
	}
	return out
}

// unlimitedSends lifts the send limits for tests that send in bulk.
func unlimitedSends(c *gateway.Config) {
	c.Limits.SendRate, c.Limits.SendBurst = 1e6, 1e6
	c.Limits.UserSendRate, c.Limits.UserSendBurst = 1e6, 1e6
}

func jsonUnmarshal(raw []byte, v any) error { return json.Unmarshal(raw, v) }
