package api

import (
	"sync"
	"time"
)

// limiter is a token bucket per API key id, so that one tenant sending as
// fast as it can leaves the server to the others. It lives in the process:
// replicas behind a load balancer each admit the rate.
type limiter struct {
	rate  float64 // tokens per second
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

// sweepEvery is how often idle buckets are dropped.
const sweepEvery = time.Minute

func newLimiter(rate float64, burst int, now func() time.Time) *limiter {
	return &limiter{rate: rate, burst: float64(max(1, burst)), now: now, buckets: map[string]*bucket{}, swept: now()}
}

// take takes one request of key's bucket. It returns 0 when the request may
// go ahead, else how long until the bucket holds a request again.
func (l *limiter) take(key string) time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) >= sweepEvery {
		l.sweep(now)
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = l.fill(b, now)
	b.at = now
	if b.tokens < 1 {
		return time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	}
	b.tokens--
	return 0
}

// fill is what b holds at now.
func (l *limiter) fill(b *bucket, now time.Time) float64 {
	return min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
}

// sweep drops the buckets that have filled up again: a full bucket is what a
// key that was never seen gets, so dropping it changes no answer, and memory
// stays bounded by the keys active within a refill time.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if l.fill(b, now) >= l.burst {
			delete(l.buckets, k)
		}
	}
	l.swept = now
}
