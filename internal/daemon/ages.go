package daemon

import (
	"sync"
	"time"
)

// pendingAges remembers when this signer first saw each pending transaction,
// by chain, for the backlog gauges: the API's pending list carries no
// creation time (it is Tatum's format), and an alert on transactions left
// unsigned needs an age. A restart starts the ages again, which an alert's
// for-duration outlasts.
type pendingAges struct {
	mu   sync.Mutex
	seen map[string]map[string]time.Time // chain → id → first seen
}

func newPendingAges() *pendingAges { return &pendingAges{seen: map[string]map[string]time.Time{}} }

// observe records chain's pending transactions as served at now, forgets
// the ones no longer served, and returns the age of the oldest.
func (p *pendingAges) observe(chain string, served []PendingTx, now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	prev := p.seen[chain]
	cur := make(map[string]time.Time, len(served))
	var oldest time.Duration
	for _, tx := range served {
		first, ok := prev[tx.ID]
		if !ok {
			first = now
		}
		cur[tx.ID] = first
		oldest = max(oldest, now.Sub(first))
	}
	p.seen[chain] = cur
	return oldest
}
