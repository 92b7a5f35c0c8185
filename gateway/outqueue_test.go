package gateway

import "testing"

func TestOutQueueBoundedInOrder(t *testing.T) {
	q := &outQueue{max: 3}
	for i := 0; i < 3; i++ {
		if !q.push(i, q.max) {
			t.Fatalf("push %d refused below the bound", i)
		}
	}
	if q.push(3, q.max) {
		t.Fatal("push above the bound accepted")
	}
	if !q.push(3, 2*q.max) {
		t.Fatal("push under a raised bound refused")
	}
	got := q.take(nil)
	if len(got) != 4 || got[0] != 0 || got[3] != 3 {
		t.Fatalf("take = %v, want [0 1 2 3]", got)
	}
	if !q.push(4, q.max) {
		t.Fatal("push refused after take emptied the queue")
	}
	if got := q.take(got); len(got) != 1 || got[0] != 4 {
		t.Fatalf("second take = %v, want [4]", got)
	}
	if got := q.take(nil); len(got) != 0 {
		t.Fatalf("take of an empty queue = %v", got)
	}
}
