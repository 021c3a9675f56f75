package daemon

import (
	"math/rand/v2"
	"sync"
	"time"
)

// retries spaces out the submissions of transactions whose submission
// failed for a reason that may heal (the node or the API unreachable, a
// refusal the node may lift): each consecutive failure doubles the wait
// before the next attempt, from the run period up to a cap, so that a node
// that is down or a transaction it keeps refusing is not hammered every
// period. The state lives in memory: a restart submits each recorded
// transaction once more, then backs off again.
type retries struct {
	period, max time.Duration

	mu sync.Mutex
	m  map[string]retryState // by pending id
}

type retryState struct {
	chain    string
	failures int
	next     time.Time // no attempt before
}

func newRetries(period, max time.Duration) *retries {
	return &retries{period: period, max: max, m: map[string]retryState{}}
}

// delay is the wait after the n-th consecutive failure: period × 2^(n-1),
// capped at max, drawn from its upper half so that transactions that failed
// together (a node outage) do not come back in one burst.
func (r *retries) delay(n int) time.Duration {
	w := r.max
	if shift := n - 1; shift < 32 && r.period<<shift > 0 && r.period<<shift < r.max {
		w = r.period << shift
	}
	return w/2 + rand.N(w/2+1)
}

// failed notes a failed submission of id at now.
func (r *retries) failed(chain, id string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.m[id]
	s.chain, s.failures = chain, s.failures+1
	s.next = now.Add(r.delay(s.failures))
	r.m[id] = s
}

// done forgets id: it was submitted, or its attempts are over.
func (r *retries) done(id string) {
	r.mu.Lock()
	delete(r.m, id)
	r.mu.Unlock()
}

// due reports whether id may be submitted at now.
func (r *retries) due(id string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.m[id]
	return !ok || !now.Before(s.next)
}

// forget drops the state of chain's transactions the API no longer serves
// (completed elsewhere, deleted), so the map does not grow with them.
func (r *retries) forget(chain string, served []PendingTx) {
	ids := make(map[string]bool, len(served))
	for _, tx := range served {
		ids[tx.ID] = true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, s := range r.m {
		if s.chain == chain && !ids[id] {
			delete(r.m, id)
		}
	}
}

// skip leaves out of a run the transactions whose attempts ended with a
// permanent refusal (recorded in the ledger, so this holds across restarts,
// while an API that does not end them yet still serves them) and those
// whose retry wait has not passed (waiting).
func (d *Daemon) skip(code string, txs []PendingTx, recorded map[string]Entry) (_, waiting []PendingTx) {
	now := d.cfg.Now()
	out := txs[:0:0]
	for _, tx := range txs {
		if e, ok := recorded[tx.ID]; ok && e.Failure != "" {
			d.log.Debug("not submitted again: ended by a permanent refusal", "chain", code, "id", tx.ID, "reason", e.Failure)
			continue
		}
		if !d.retries.due(tx.ID, now) {
			waiting = append(waiting, tx)
			continue
		}
		out = append(out, tx)
	}
	return out, waiting
}
