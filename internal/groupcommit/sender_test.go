package groupcommit

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A lone item is sent at once; the items queued while the only sender is
// busy go together in its next batch; an item take consumes without keeping
// it is dropped.
func TestSenderGathersWhileBusy(t *testing.T) {
	var (
		mu      sync.Mutex
		batches [][]int
	)
	release := make(chan struct{})
	sent := make(chan struct{}, 10)
	s := NewSender(1, func(q []int) ([]int, int) {
		var b []int
		for _, x := range q {
			if x >= 0 { // a negative item stands for one whose caller is gone
				b = append(b, x)
			}
		}
		return b, len(q)
	}, func(b []int) {
		mu.Lock()
		batches = append(batches, b)
		first := len(batches) == 1
		mu.Unlock()
		sent <- struct{}{}
		if first {
			<-release
		}
	})
	s.Queue(1)
	select {
	case <-sent:
	case <-time.After(5 * time.Second):
		t.Fatal("a lone item was not sent at once")
	}
	for _, x := range []int{2, -1, 3, 4} {
		s.Queue(x)
	}
	if n := s.Queued(); n != 4 {
		t.Fatalf("%d queued behind the busy sender, want 4", n)
	}
	close(release)
	<-sent
	mu.Lock()
	defer mu.Unlock()
	if len(batches) != 2 || len(batches[0]) != 1 || len(batches[1]) != 3 || batches[1][0] != 2 || batches[1][2] != 4 {
		t.Fatalf("batches %v, want [[1] [2 3 4]]", batches)
	}
}

// At most inFlight batches are sent at once, and every item is sent once.
func TestSenderBoundsBatchesInFlight(t *testing.T) {
	const inFlight, items = 3, 2000
	var now, most, total atomic.Int64
	var wg sync.WaitGroup
	wg.Add(items)
	s := NewSender(inFlight, func(q []int) ([]int, int) {
		n := min(len(q), 7)
		return append([]int(nil), q[:n]...), n
	}, func(b []int) {
		n := now.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(100 * time.Microsecond)
		now.Add(-1)
		total.Add(int64(len(b)))
		for range b {
			wg.Done()
		}
	})
	var q sync.WaitGroup
	for i := range items {
		q.Go(func() { s.Queue(i) })
	}
	q.Wait()
	wg.Wait()
	if m := most.Load(); m > inFlight || m < 2 {
		t.Fatalf("%d batches at once, want 2..%d", m, inFlight)
	}
	if total.Load() != items {
		t.Fatalf("%d items sent, want %d", total.Load(), items)
	}
}
