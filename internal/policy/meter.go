package policy

import (
	"math/big"
	"sync"
	"time"
)

// Window is the span of the daily limits: a rolling 24 hours rather than a
// calendar day, so that a limit cannot be spent twice across midnight.
const Window = 24 * time.Hour

// Spend is what one signed transaction used of a rule's daily limits: one
// per asset it moved, and always one for the native coin ("", possibly of
// amount 0), which is the one that counts the transaction. The daemon
// persists spends with the signed transaction and loads them at start.
type Spend struct {
	Rule   string
	TxID   string // the pending transaction's id
	Asset  string
	Amount *big.Int
	At     time.Time
}

// Meter decides on transactions with their rules' velocity: it holds the
// spends of the last Window, and reserves a transaction's spend at the
// moment it allows it, so that transactions decided at once cannot together
// exceed a limit. It is safe for concurrent use.
type Meter struct {
	policy *Policy
	now    func() time.Time

	mu     sync.Mutex
	byRule map[string]*window
}

// window is one rule's spends in time order, with their running totals.
type window struct {
	spends []*held
	count  uint64
	volume map[string]*big.Int
}

type held struct {
	Spend
	gone bool // released before it left the window
}

// NewMeter decides with p, counting past (the spends persisted in the last
// Window, oldest first) as used. now is the clock (nil: time.Now).
func NewMeter(p *Policy, now func() time.Time, past []Spend) *Meter {
	if now == nil {
		now = time.Now
	}
	m := &Meter{policy: p, now: now, byRule: map[string]*window{}}
	for _, s := range past {
		m.add(&held{Spend: s})
	}
	return m
}

// Policy is the policy the meter decides with.
func (m *Meter) Policy() *Policy { return m.policy }

// Decide evaluates in for the pending transaction txID. When it is allowed
// by a rule with daily limits, its spend is reserved and counted until the
// Reservation is released; the caller persists Spends with the signature
// and then calls Commit. The Reservation is nil when nothing was reserved;
// its methods accept nil.
func (m *Meter) Decide(in Input, txID string) (Decision, *Reservation) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	d, r := m.policy.decide(in, func(rule string) Usage {
		w := m.byRule[rule]
		if w == nil {
			return Usage{}
		}
		w.expire(now.Add(-Window))
		return Usage{Count: w.count, Volume: w.volume}
	})
	if !d.Allow || r == nil {
		return d, nil
	}
	sent, _ := Sent(in.Intent) // decide has parsed the amounts already
	if sent[""] == nil {
		sent[""] = new(big.Int)
	}
	res := &Reservation{m: m}
	for _, asset := range sortedKeys(sent) {
		h := &held{Spend: Spend{Rule: r.Name, TxID: txID, Asset: asset, Amount: sent[asset], At: now}}
		m.add(h)
		res.held = append(res.held, h)
	}
	return d, res
}

func (m *Meter) add(h *held) {
	w := m.byRule[h.Rule]
	if w == nil {
		w = &window{volume: map[string]*big.Int{}}
		m.byRule[h.Rule] = w
	}
	w.spends = append(w.spends, h)
	w.take(h, 1)
}

// take adds (sign 1) or removes (sign -1) h from the totals.
func (w *window) take(h *held, sign int) {
	if h.Asset == "" {
		if sign > 0 {
			w.count++
		} else {
			w.count--
		}
	}
	v := w.volume[h.Asset]
	if v == nil {
		v = new(big.Int)
		w.volume[h.Asset] = v
	}
	if sign > 0 {
		v.Add(v, h.Amount)
	} else {
		v.Sub(v, h.Amount)
	}
}

// expire drops the spends made before since.
func (w *window) expire(since time.Time) {
	n := 0
	for n < len(w.spends) && w.spends[n].At.Before(since) {
		if h := w.spends[n]; !h.gone {
			h.gone = true
			w.take(h, -1)
		}
		n++
	}
	if n > 0 {
		w.spends = append(w.spends[:0:0], w.spends[n:]...)
	}
}

// Reservation is a transaction's spend, counted from the decision on.
type Reservation struct {
	m    *Meter
	held []*held
	done bool
}

// Spends are the reserved spends, to persist with the signed transaction.
func (r *Reservation) Spends() []Spend {
	if r == nil {
		return nil
	}
	out := make([]Spend, len(r.held))
	for i, h := range r.held {
		out[i] = h.Spend
	}
	return out
}

// Commit keeps the spend counted: it was persisted. Release after Commit
// does nothing.
func (r *Reservation) Commit() {
	if r == nil {
		return
	}
	r.m.mu.Lock()
	r.done = true
	r.m.mu.Unlock()
}

// Release gives the spend back unless it was committed: the transaction was
// not signed after all (refused by the approval service, a key or ledger
// error).
func (r *Reservation) Release() {
	if r == nil {
		return
	}
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	if r.done {
		return
	}
	r.done = true
	for _, h := range r.held {
		if w := r.m.byRule[h.Rule]; w != nil && !h.gone {
			h.gone = true
			w.take(h, -1)
		}
	}
}
