package actors

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestWaitStartedIgnoresLaterCalls: a drain waits for the store calls in
// flight when it began, not for those that keep coming while the node is
// still a cluster member; WaitIdle waits for all of them.
func TestWaitStartedIgnoresLaterCalls(t *testing.T) {
	d := &Deps{inflight: &storeCalls{}}
	early := d.inflight.start()

	done := make(chan error, 1)
	go func() { done <- d.WaitStarted(context.Background()) }()
	deadline := time.Now().Add(5 * time.Second)
	for !d.inflight.draining.Load() {
		if time.Now().After(deadline) {
			t.Fatal("WaitStarted did not begin the drain")
		}
		time.Sleep(time.Millisecond)
	}
	late := d.inflight.start() // a request for a grain hosted here, during the drain

	select {
	case err := <-done:
		t.Fatalf("WaitStarted returned (%v) while a call started before it was in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	early.Add(-1)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WaitStarted still waits although only a later call is in flight")
	}

	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := d.WaitIdle(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitIdle with a call in flight: %v, want a deadline error", err)
	}
	late.Add(-1)
	if err := d.WaitIdle(context.Background()); err != nil {
		t.Fatal(err)
	}
}
