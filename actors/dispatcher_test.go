package actors

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestPooledDispatcherRunsEveryTurn: turns beyond the workers and the queue
// get goroutines of their own, so every turn runs even while the workers
// are all busy, and a turn queued behind busy workers runs once they free.
func TestPooledDispatcherRunsEveryTurn(t *testing.T) {
	d := &pooledDispatcher{throughput: 1}
	const turns = dispatcherQueue + 2000
	release := make(chan struct{})
	var started, ran atomic.Int64
	var wg sync.WaitGroup
	wg.Add(turns)
	for range turns {
		d.Schedule(func() {
			defer wg.Done()
			started.Add(1)
			<-release
			ran.Add(1)
		})
	}
	// The workers and the overflow goroutines run while the queue waits.
	deadline := time.Now().Add(10 * time.Second)
	for started.Load() < turns-dispatcherQueue && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := started.Load(); n < turns-dispatcherQueue {
		t.Fatalf("%d turns started while the workers were busy, want at least %d", n, turns-dispatcherQueue)
	}
	close(release)
	wg.Wait()
	if n := ran.Load(); n != turns {
		t.Fatalf("%d turns ran, want %d", n, turns)
	}
}
