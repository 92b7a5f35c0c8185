package gateway_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestOperationalEndpoints: health, readiness and the metrics that count
// real work.
func TestOperationalEndpoints(t *testing.T) {
	s := sqliteStack(t)
	s.doJSON("GET", "/healthz", "", nil, http.StatusOK, nil)
	s.doJSON("GET", "/readyz", "", nil, http.StatusOK, nil)
	alice := s.register("alice")
	conv := s.createGroup(alice, "room")
	c := s.connect(alice)
	c.send(conv, "m1", "one")
	c.send(conv, "m2", "two")
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"chat_ws_connections 1", "chat_ws_refused_total 0",
		"chat_messages_persisted_total 2", "chat_grain_activations_total 1", "chat_ack_seconds_count 2", "chat_sessions 1"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
