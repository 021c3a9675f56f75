package ratelimit

import (
	"strconv"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newClock() *clock { return &clock{t: time.Unix(1_700_000_000, 0)} }

// A key gets its burst at once, then one request per 1/rate; another key is
// not affected.
func TestBurstThenRate(t *testing.T) {
	c := newClock()
	l := New(0.5, 3, 0, c.now)
	for i := range 3 {
		if wait := l.Take("a"); wait != 0 {
			t.Fatalf("request %d of the burst waits %v", i, wait)
		}
	}
	if wait := l.Take("a"); wait != 2*time.Second {
		t.Fatalf("past the burst: wait %v, want 2s", wait)
	}
	if wait := l.Take("b"); wait != 0 {
		t.Fatalf("another key waits %v", wait)
	}
	c.t = c.t.Add(time.Second)
	if wait := l.Take("a"); wait != time.Second {
		t.Fatalf("a second later: wait %v, want 1s", wait)
	}
	c.t = c.t.Add(time.Second)
	if wait := l.Take("a"); wait != 0 {
		t.Fatalf("two seconds later: wait %v", wait)
	}
	if wait := l.Take("a"); wait == 0 {
		t.Fatal("the refilled request was admitted twice")
	}
}

// Idle keys' buckets are dropped once they have refilled, so memory follows
// the keys active within a refill time.
func TestDropsRefilledBuckets(t *testing.T) {
	c := newClock()
	l := New(10, 10, 0, c.now)
	for i := range 1000 {
		l.Take(strconv.Itoa(i))
	}
	for range 10 {
		l.Take("busy")
	}
	if n := l.Len(); n != 1001 {
		t.Fatalf("%d buckets", n)
	}
	c.t = c.t.Add(time.Second) // the refill time of 10 at 10/s
	if wait := l.Take("busy"); wait != 0 {
		t.Fatalf("busy waits %v after refilling", wait)
	}
	if n := l.Len(); n != 1 {
		t.Fatalf("%d buckets after a refill time, want only the key that took a request", n)
	}
}

// With a maximum, a flood of distinct keys never holds more buckets, and the
// keys evicted are the least recently seen.
func TestMaxKeys(t *testing.T) {
	c := newClock()
	l := New(1.0/60, 2, 100, c.now)
	l.Take("client")
	l.Take("client")
	for i := range 10_000 {
		l.Take("flood-" + strconv.Itoa(i))
		if i%10 == 0 {
			// The client keeps being seen: it is never the oldest.
			if wait := l.Take("client"); wait == 0 {
				t.Fatalf("the client got a request back after %d others", i)
			}
		}
		if n := l.Len(); n > 100 {
			t.Fatalf("%d buckets after the client and %d other keys, max 100", n, i+1)
		}
	}
	if _, ok := l.keys["flood-0"]; ok {
		t.Fatal("the oldest key was kept")
	}
	if _, ok := l.keys["flood-9999"]; !ok {
		t.Fatal("the newest key was evicted")
	}
}

func TestRetryAfter(t *testing.T) {
	for wait, want := range map[time.Duration]int64{0: 1, time.Millisecond: 1, time.Second: 1, 1500 * time.Millisecond: 2, 6 * time.Second: 6} {
		if got := RetryAfter(wait); got != want {
			t.Errorf("RetryAfter(%v) = %d, want %d", wait, got, want)
		}
	}
}
