// Package ratelimit keeps a token bucket per key (an API key's id, a
// client's address), in the memory of one process: replicas behind a load
// balancer each admit the rate.
package ratelimit

import (
	"container/list"
	"math"
	"sync"
	"time"
)

// Limiter admits rate requests a second per key, with bursts of burst. Its
// memory is bounded twice: a bucket that has refilled is dropped (a full
// bucket is what an unseen key gets, so dropping it changes no answer), and
// with a maximum number of keys the least recently seen key makes room for
// a new one. Under a flood of distinct keys that evicted key starts again
// with a full bucket; the flood could not have been held back by a bucket
// per key anyway, and memory stays bounded, which is the point.
type Limiter struct {
	rate    float64 // tokens per second
	burst   float64
	maxKeys int
	// refill is how long an untouched bucket takes to fill up from empty.
	refill time.Duration
	now    func() time.Time

	mu sync.Mutex
	// lru holds *entry, most recently seen first; keys indexes it.
	lru  *list.List
	keys map[string]*list.Element
}

type entry struct {
	key    string
	tokens float64
	at     time.Time
}

// New returns a limiter of rate requests a second (> 0) per key with bursts
// of burst (at least 1), keeping at most maxKeys buckets (0: no bound but
// the refill time), on the clock now.
func New(rate float64, burst, maxKeys int, now func() time.Time) *Limiter {
	b := float64(max(1, burst))
	return &Limiter{rate: rate, burst: b, maxKeys: max(0, maxKeys), refill: time.Duration(b / rate * float64(time.Second)),
		now: now, lru: list.New(), keys: map[string]*list.Element{}}
}

// Rate is the requests a second each key is admitted.
func (l *Limiter) Rate() float64 { return l.rate }

// Burst is how many requests a key may make at once.
func (l *Limiter) Burst() int { return int(l.burst) }

// Take takes one request from key's bucket. It returns 0 when the request
// may go ahead, else how long until the bucket holds a request again.
func (l *Limiter) Take(key string) time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropFull(now)
	el := l.keys[key]
	if el != nil {
		l.lru.MoveToFront(el)
	} else {
		if l.maxKeys > 0 && l.lru.Len() >= l.maxKeys {
			l.remove(l.lru.Back())
		}
		el = l.lru.PushFront(&entry{key: key, tokens: l.burst, at: now})
		l.keys[key] = el
	}
	e := el.Value.(*entry)
	e.tokens = l.fill(e, now)
	e.at = now
	if e.tokens < 1 {
		return time.Duration((1 - e.tokens) / l.rate * float64(time.Second))
	}
	e.tokens--
	return 0
}

// Len is the number of buckets kept.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// fill is what e holds at now (a clock that went back adds nothing).
func (l *Limiter) fill(e *entry, now time.Time) float64 {
	return min(l.burst, e.tokens+max(0, now.Sub(e.at).Seconds())*l.rate)
}

// dropFull drops the buckets untouched for a whole refill time, which are
// full whatever they held. The list is in order of last use, so they are at
// its back and the walk stops at the first one still in use.
func (l *Limiter) dropFull(now time.Time) {
	for el := l.lru.Back(); el != nil && now.Sub(el.Value.(*entry).at) >= l.refill; el = l.lru.Back() {
		l.remove(el)
	}
}

func (l *Limiter) remove(el *list.Element) {
	l.lru.Remove(el)
	delete(l.keys, el.Value.(*entry).key)
}

// RetryAfter is wait in whole seconds rounded up, at least 1: the value of a
// 429's Retry-After header.
func RetryAfter(wait time.Duration) int64 {
	return max(1, int64(math.Ceil(wait.Seconds())))
}
