// Package tracker follows each broadcast transaction on its chain until it
// is final: it claims the transactions whose check is due from the pending
// store (leased, so that replicas share the work without doing it twice),
// asks the chain's node through the client's optional broadcast.Tracker
// capability, and records what it learned; a final state writes its event
// into the webhook outbox in the same database transaction (the store's
// RecordOutcome). A transaction the node lost while its nonce is still free
// is broadcast again from its stored signed bytes; one whose validity
// window passed before a block included it is expired. One whose sequence a
// rival took (a speed-up or cancel of it, or the transaction it replaced)
// is replaced by the rival the node mined.
package tracker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/webhook"
)

// Defaults of Config.
const (
	// DefaultDepth is the confirmation depth of a chain Config.Depth does not name.
	DefaultDepth = 1
	DefaultMax   = 64
	// DefaultConcurrency bounds the checks in flight.
	DefaultConcurrency = 8
	// DefaultTimeout bounds one check (a few node calls).
	DefaultTimeout = 15 * time.Second
	// DefaultBaseDelay and DefaultMaxDelay shape the wait between checks of
	// a transaction that has not moved: BaseDelay·2ⁿ⁻¹ after its n-th
	// check, at most MaxDelay. A mined one waiting for depth is checked
	// every BaseDelay. The first check waits for the chain's block interval
	// once the tracker has seen it (at most MaxDelay), BaseDelay before:
	// a look-up the instant after the broadcast only finds it pending.
	DefaultBaseDelay = 2 * time.Second
	DefaultMaxDelay  = 2 * time.Minute
	DefaultPoll      = time.Second
)

// Store is what the tracker needs of the pending store.
type Store interface {
	ClaimTracking(ctx context.Context, c pending.TrackClaim) ([]pending.Tracked, error)
	RecordOutcome(ctx context.Context, owner string, u pending.OutcomeUpdate) error
	Rivals(ctx context.Context, tenant, id string) ([]pending.Rival, error)
}

// Nodes finds the node client of a chain's network (*broadcast.Nodes).
type Nodes interface {
	Client(code string, testnet bool) (broadcast.Client, error)
}

// Config is what a Tracker is built from; zero fields take the defaults.
type Config struct {
	Store Store
	Nodes Nodes
	// Depth is the confirmation depth per chain code; DefaultDepth for others.
	Depth map[string]uint64
	// Owner names this tracker in its leases; empty: a random name.
	Owner string
	// Max bounds the transactions one claim takes.
	Max int
	// Concurrency bounds the checks in flight.
	Concurrency int
	Timeout     time.Duration
	BaseDelay   time.Duration
	MaxDelay    time.Duration
	// Poll is how long the tracker waits when nothing is due.
	Poll   time.Duration
	Logger *slog.Logger
	// Registry receives the tracker's metrics (the server's); nil: none.
	Registry prometheus.Registerer
}

// Tracker follows broadcast transactions. Build it with New, run it with Run.
type Tracker struct {
	cfg  Config
	log  *slog.Logger
	pace pace
	m    *metrics
}

// New builds a Tracker.
func New(cfg Config) *Tracker {
	if cfg.Owner == "" {
		cfg.Owner = "tracker-" + pending.NewID()
	}
	if cfg.Max <= 0 {
		cfg.Max = DefaultMax
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.BaseDelay <= 0 {
		cfg.BaseDelay = DefaultBaseDelay
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = DefaultMaxDelay
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	t := &Tracker{cfg: cfg, log: log}
	// A transaction this replica has not checked for several of its longest
	// waits is another replica's now, or final there.
	t.m = newMetrics(cfg.Registry, 5*(cfg.MaxDelay+t.lease()))
	return t
}

// lease outlasts every check of one claim (Concurrency at a time), so that
// no other replica checks them meanwhile; a tracker killed mid-claim leaves
// them to the others once it runs out.
func (t *Tracker) lease() time.Duration {
	rounds := (t.cfg.Max + t.cfg.Concurrency - 1) / t.cfg.Concurrency
	return time.Duration(rounds+1) * t.cfg.Timeout
}

// Run checks due transactions until ctx ends; the checks in progress are
// finished and recorded before it returns, and the rest of a claim come
// back to a tracker when its lease runs out.
func (t *Tracker) Run(ctx context.Context) {
	slots := make(chan struct{}, t.cfg.Concurrency)
	defer func() {
		for range t.cfg.Concurrency { // wait for the checks in flight
			slots <- struct{}{}
		}
	}()
	for {
		batch, err := t.cfg.Store.ClaimTracking(ctx, pending.TrackClaim{Owner: t.cfg.Owner, Lease: t.lease(), Max: t.cfg.Max,
			Settle: t.cfg.BaseDelay, SettleBy: t.pace.settle(t.cfg.MaxDelay)})
		if err != nil && ctx.Err() == nil {
			t.log.Error("claiming transactions to track failed", "err", err)
		}
		for _, tr := range batch {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go func() {
				defer func() { <-slots }()
				t.Check(context.WithoutCancel(ctx), tr)
			}()
		}
		if len(batch) < t.cfg.Max {
			select {
			case <-time.After(t.cfg.Poll):
			case <-ctx.Done():
				return
			}
		}
	}
}

// Check asks the node about one claimed transaction and records the answer.
func (t *Tracker) Check(ctx context.Context, tr pending.Tracked) {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	t.m.inFlight.check(tr)
	u := t.check(ctx, tr)
	if err := t.cfg.Store.RecordOutcome(ctx, t.cfg.Owner, u); err != nil {
		if errors.Is(err, pending.ErrNotLeased) {
			t.log.Warn("a tracked transaction's lease ran out before its check was recorded", "id", tr.ID)
			return
		}
		t.log.Error("recording a transaction's outcome failed", "id", tr.ID, "err", err)
		return
	}
	switch {
	case u.State != pending.StateBroadcast:
		t.m.outcomes.WithLabelValues(tr.Chain, string(u.State)).Inc()
		t.m.inFlight.done(tr)
	case u.Stop:
		// Never checked again: not stuck, untracked.
		t.m.inFlight.done(tr)
	}
}

// check decides the update for one transaction; the stored outcome is kept
// unless the node told something new.
func (t *Tracker) check(ctx context.Context, tr pending.Tracked) pending.OutcomeUpdate {
	u := pending.OutcomeUpdate{Tenant: tr.Tenant, ID: tr.ID, State: pending.StateBroadcast,
		BlockNumber: tr.Outcome.BlockNumber, Confirmations: tr.Outcome.Confirmations, Fee: tr.Outcome.Fee, Error: tr.Outcome.Error,
		RetryIn: webhook.Backoff(t.cfg.BaseDelay, t.cfg.MaxDelay, tr.Checks+1)}
	client, err := t.cfg.Nodes.Client(tr.Chain, tr.Testnet)
	if err != nil {
		u.RetryIn = t.cfg.MaxDelay // a node may be configured at the next start
		return u
	}
	lookup, ok := client.(broadcast.Tracker)
	if !ok {
		u.Stop = true // this chain's node cannot tell: it stays broadcast
		return u
	}
	o, err := lookup.Lookup(ctx, tr.TxID, tr.TxData)
	if err != nil {
		t.log.Warn("could not ask the node about a broadcast transaction", "id", tr.ID, "chain", tr.Chain, "err", err)
		return u
	}
	switch o.Progress {
	case broadcast.Mined:
		u.BlockNumber, u.Confirmations, u.Fee, u.Error = &o.BlockNumber, &o.Confirmations, o.Fee, o.Error
		if o.Confirmations > 0 {
			t.pace.observe(netKey{tr.Chain, tr.Testnet}, o.BlockNumber+o.Confirmations-1, time.Now())
		}
		depth := t.depth(tr.Chain)
		if o.Confirmations >= depth {
			u.State = pending.StateConfirmed
			if o.Failed {
				u.State = pending.StateFailed
			}
			return u
		}
		u.RetryIn = t.depthWait(netKey{tr.Chain, tr.Testnet}, o, depth)
	case broadcast.Dropped:
		winner, err := t.winner(ctx, tr, lookup)
		if err != nil {
			t.log.Warn("could not tell whether a replacement took a dropped transaction's place", "id", tr.ID, "chain", tr.Chain, "err", err)
			return u // asked again later: dropped and replaced are both final
		}
		u.State, u.Error = pending.StateDropped, o.Error
		if winner != "" {
			u.State, u.ReplacedBy = pending.StateReplaced, winner
		}
	case broadcast.Expired:
		// Its window passed unmined: no rival took its sequence (that is
		// Dropped), and the stored bytes would be refused.
		u.State, u.Error = pending.StateExpired, o.Error
	case broadcast.Missing:
		// The nonce is free: the same signed bytes are still valid.
		if tr.TxData == "" {
			break
		}
		if _, err := client.Broadcast(ctx, tr.TxData); err != nil {
			t.log.Warn("rebroadcasting a transaction the node lost failed", "id", tr.ID, "chain", tr.Chain, "err", err)
			break
		}
		t.log.Info("rebroadcast a transaction the node lost", "id", tr.ID, "chain", tr.Chain, "txId", tr.TxID)
		u.Rebroadcast, u.RetryIn = true, t.cfg.BaseDelay
	case broadcast.Pending, broadcast.Unknown:
		// A reorganized block may have put a mined one back.
		u.BlockNumber, u.Confirmations = nil, nil
		// Nothing changes before the next block.
		if per, ok := t.pace.interval(netKey{tr.Chain, tr.Testnet}); ok {
			u.RetryIn = min(max(u.RetryIn, per), t.cfg.MaxDelay)
		}
	}
	return u
}

// winner is the txId of a rival of tr (the transaction it replaced, or one
// that replaced it: pending.TrackStore's Rivals) that the node has mined,
// "" when none has: another transaction took the sequence.
func (t *Tracker) winner(ctx context.Context, tr pending.Tracked, lookup broadcast.Tracker) (string, error) {
	rivals, err := t.cfg.Store.Rivals(ctx, tr.Tenant, tr.ID)
	if err != nil {
		return "", err
	}
	for _, r := range rivals {
		o, err := lookup.Lookup(ctx, r.TxID, "")
		if err != nil {
			return "", err
		}
		if o.Progress == broadcast.Mined {
			return r.TxID, nil
		}
	}
	return "", nil
}

// depthWait is how long a mined transaction short of its depth waits for
// its next check: the blocks it still needs at the chain's observed pace,
// at least BaseDelay and at most MaxDelay; BaseDelay before the pace is
// known. A chain that slows down only costs an early check; one that
// speeds up delays the final state by less than MaxDelay.
func (t *Tracker) depthWait(k netKey, o broadcast.Outcome, depth uint64) time.Duration {
	per, ok := t.pace.interval(k)
	if !ok {
		return t.cfg.BaseDelay
	}
	wait := time.Duration(depth-o.Confirmations) * per
	return min(max(wait, t.cfg.BaseDelay), t.cfg.MaxDelay)
}

func (t *Tracker) depth(code string) uint64 {
	if d, ok := t.cfg.Depth[code]; ok && d > 0 {
		return d
	}
	return DefaultDepth
}
