package tracker

import (
	"sync"
	"time"
)

// paceWindow is how many blocks one estimate of a chain's block interval
// spans before its start moves up, so that the estimate follows a chain
// whose pace changes.
const paceWindow = 64

// pace estimates each chain's block interval from the heads the tracker's
// own look-ups see (a mined transaction's block plus its confirmations),
// so that a transaction waiting for depth is checked again about when the
// blocks it still needs can have come, not every BaseDelay: with thousands
// of transactions waiting, fixed short waits were nearly all of the node
// requests. Per network, in memory: a restarted tracker starts again from
// BaseDelay until it has seen the head move.
type pace struct {
	mu    sync.Mutex
	heads map[netKey]*headSpan
}

type netKey struct {
	code    string
	testnet bool
}

// headSpan is the first and the latest head seen in the current window.
type headSpan struct {
	t0, t1 time.Time
	h0, h1 uint64
}

// observe records that the chain's head was at least head at time now.
func (p *pace) observe(k netKey, head uint64, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.heads == nil {
		p.heads = map[netKey]*headSpan{}
	}
	s := p.heads[k]
	switch {
	case s == nil:
		p.heads[k] = &headSpan{t0: now, t1: now, h0: head, h1: head}
	case head > s.h1: // a lagging node or a reorganization never moves it back
		if s.h1-s.h0 >= paceWindow {
			s.t0, s.h0 = s.t1, s.h1
		}
		s.t1, s.h1 = now, head
	}
}

// interval is the estimated time per block; false before the head was seen
// to move.
func (p *pace) interval(k netKey) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.heads[k]
	if s == nil {
		return 0, false
	}
	return s.interval()
}

// interval is the time per block over the span; false before it moved.
func (s *headSpan) interval() (time.Duration, bool) {
	if s.h1 <= s.h0 {
		return 0, false
	}
	return s.t1.Sub(s.t0) / time.Duration(s.h1-s.h0), true
}

// settle is the first-check wait per chain code (pending.TrackClaim's
// SettleBy): the chain's block interval, the shorter of its two networks'
// when both are known, so that no network's outcome waits more than one
// block; at most maxWait. Chains whose head was not seen to move are left
// to the claim's default.
func (p *pace) settle(maxWait time.Duration) map[string]time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out map[string]time.Duration
	for k, s := range p.heads {
		per, ok := s.interval()
		if !ok {
			continue
		}
		per = min(per, maxWait)
		if out == nil {
			out = map[string]time.Duration{}
		}
		if prev, ok := out[k.code]; !ok || per < prev {
			out[k.code] = per
		}
	}
	return out
}
