package gateway

import "testing"

func TestOutQueueBoundedInOrder(t *testing.T) {
	q := newOutQueue(3)
	for i := 0; i < 3; i++ {
		if !q.push(i) {
			t.Fatalf("push %d refused below the bound", i)
		}
	}
	if q.push(3) {
		t.Fatal("push above the bound accepted")
	}
	select {
	case <-q.ready:
	default:
		t.Fatal("no ready signal after pushes")
	}
	got := q.take(nil)
	if len(got) != 3 || got[0] != 0 || got[2] != 2 {
		t.Fatalf("take = %v, want [0 1 2]", got)
	}
	if !q.push(4) {
		t.Fatal("push refused after take emptied the queue")
	}
	q.close()
	if q.push(5) {
		t.Fatal("push accepted after close")
	}
	if got := q.take(nil); len(got) != 1 || got[0] != 4 {
		t.Fatalf("take after close = %v, want [4]", got)
	}
}
