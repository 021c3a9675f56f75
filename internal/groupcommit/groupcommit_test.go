package groupcommit

import (
	"slices"
	"testing"
	"time"
)

func TestNextTakesWhatIsQueuedUpToMax(t *testing.T) {
	reqs := make(chan int, 8)
	for i := range 5 {
		reqs <- i
	}
	g := New(reqs, 3, 0)
	if group, ok := g.Next(); !ok || !slices.Equal(group, []int{0, 1, 2}) {
		t.Fatalf("first group %v %v", group, ok)
	}
	if group, ok := g.Next(); !ok || !slices.Equal(group, []int{3, 4}) {
		t.Fatalf("second group %v %v", group, ok)
	}
	close(reqs)
	if group, ok := g.Next(); ok {
		t.Fatalf("after close: %v", group)
	}
}

// A request arriving alone, after a group of one, is handed over at once:
// a lone writer (a CLI command) never waits.
func TestLoneRequestIsNotHeld(t *testing.T) {
	reqs := make(chan int, 8)
	g := New(reqs, 8, time.Hour)
	for i := range 2 {
		reqs <- i
		done := make(chan []int)
		go func() {
			group, _ := g.Next()
			done <- group
		}()
		select {
		case group := <-done:
			if !slices.Equal(group, []int{i}) {
				t.Fatalf("group %v", group)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("request %d was held", i)
		}
	}
}

// After a group of several, the next group is held open for the wait, and
// takes the requests arriving meanwhile.
func TestBusyGroupWaitsForMore(t *testing.T) {
	reqs := make(chan int, 8)
	reqs <- 0
	reqs <- 1
	g := New(reqs, 2, time.Hour)
	if group, _ := g.Next(); len(group) != 2 {
		t.Fatalf("first group %v", group)
	}
	reqs <- 2
	go func() {
		time.Sleep(20 * time.Millisecond)
		reqs <- 3
	}()
	// max is 2: the group closes when the late request arrives, not after an hour.
	if group, _ := g.Next(); !slices.Equal(group, []int{2, 3}) {
		t.Fatalf("held group %v", group)
	}
}

// The wait ends: a busy writer whose stream stops hands over what it has.
func TestWaitEnds(t *testing.T) {
	reqs := make(chan int, 8)
	reqs <- 0
	reqs <- 1
	g := New(reqs, 8, 10*time.Millisecond)
	g.Next()
	reqs <- 2
	if group, _ := g.Next(); !slices.Equal(group, []int{2}) {
		t.Fatalf("group %v", group)
	}
	// That group held one request: the next is not held.
	reqs <- 3
	start := time.Now()
	if group, _ := g.Next(); !slices.Equal(group, []int{3}) || time.Since(start) > time.Second {
		t.Fatalf("group %v after %v", group, time.Since(start))
	}
}
