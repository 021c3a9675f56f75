package daemon

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/custoskms/custos/internal/audit"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/policy"
	"github.com/custoskms/custos/internal/remotekey"
)

// Approval decides whether a pending transaction may be signed (Approver is
// the HTTP implementation). A nil error approves.
type Approval interface {
	Approve(ctx context.Context, s Subject) error
}

// Config is the daemon's configuration; zero fields take the defaults noted
// on each field, those of Tatum's daemon flags (docs/design.md §6.1).
type Config struct {
	// Chains are the currency codes to sign for (--chain).
	Chains []string
	// Testnet selects the network: only wallets of this network are used.
	Testnet bool
	// Period is the pause between runs (--period, default 5 s).
	Period time.Duration
	// Wallets, when set, restricts the signature IDs asked for (--wallets)
	// and the wallets that sign: a transaction naming another is not signed.
	Wallets []string
	// TransactionIDs, when set, restricts signing to these pending ids (--transactionIds).
	TransactionIDs []string
	// ExtraChainIDs are network ids accepted beyond the public ones, per chain
	// code, for this daemon's network (a dev chain's 1337 for ETH).
	ExtraChainIDs map[string][]uint64
	// Approval is the approval check (--externalUrl); nil signs without asking.
	Approval Approval
	// Audit records decisions and key uses before they take effect; when it
	// fails nothing is signed (audit.go). Nil records nothing.
	Audit Auditor
	// Registry receives the daemon's metrics; nil makes a private one with
	// the Go and process collectors, so that several daemons can live in one
	// process (tests, `custos dev`).
	Registry *prometheus.Registry
	// Policy is the signing policy (--policy), checked before approval; nil
	// checks nothing. With a policy, a transaction no rule allows is refused.
	Policy *policy.Policy
	// LedgerPath is the SQLite ledger of signed ids (required).
	LedgerPath string
	// Concurrency bounds transactions in flight per chain (default 64).
	// Signing is CPU-bound and quick; most of a transaction's time is spent
	// waiting for the ledger's sync, the approval service and the API, and
	// more transactions in flight share one ledger commit, one audit append,
	// one approval batch and one broadcast batch. Keys held outside the
	// process are asked at most remoteInFlight at a time whatever this is.
	Concurrency int
	// ChunkSize is the number of signature IDs per pending request (default 10,000).
	ChunkSize int
	// SubmitTimeout bounds the finishing of in-flight transactions after shutdown begins (default 30 s).
	SubmitTimeout time.Duration
	// Lease is how long the API leases the transactions a run fetches to this
	// daemon (the API client's claim); zero when the daemon does not claim.
	// A run stops starting transactions, and signing those it started, once
	// three quarters of it have passed, so it never signs one whose lease may
	// have gone to another daemon.
	Lease time.Duration
	// ClaimLimit bounds how many transactions one claim (per chunk) leases
	// when the daemon claims (Lease > 0); default max(256, 16 × Concurrency).
	// Daemons sharing wallets then each take a share of a backlog instead of
	// the first one leasing all of it; a run that got a full claim is followed
	// by the next one at once instead of after Period.
	ClaimLimit int
	// MaxRetryDelay caps the wait before a transaction whose submission
	// failed is submitted again (default 5 min). The wait starts at Period and
	// doubles with each consecutive failure, jittered (docs/design.md §6.1).
	MaxRetryDelay time.Duration
	// Now is the clock the retry waits are measured with; nil is time.Now.
	Now func() time.Time
	// Logger receives the daemon's log; nil discards.
	Logger *slog.Logger
	// Lookup finds a chain by code; nil uses the registry (chains.Lookup).
	Lookup func(code string) (chain.Chain, error)
	// OpenRemoteKey opens the key of a wallet that holds it outside the
	// process (a KMS key); nil is remotekey.Open.
	OpenRemoteKey func(context.Context, remotekey.Ref) (chain.DigestSigner, error)
}

// Summary counts what one run did.
type Summary struct {
	Pending     int `json:"pending"`
	Signed      int `json:"signed"`
	Submitted   int `json:"submitted"`
	Resubmitted int `json:"resubmitted"`
	Failed      int `json:"failed"`
	Rejected    int `json:"rejected"`
	// Unreported counts the failures among Failed that the API was not
	// told of: the audit log could not be written (nothing is reported
	// then), or the report was not taken. They are met again next run.
	Unreported int `json:"-"`
}

func (s *Summary) add(o Summary) {
	s.Pending += o.Pending
	s.Signed += o.Signed
	s.Submitted += o.Submitted
	s.Resubmitted += o.Resubmitted
	s.Failed += o.Failed
	s.Rejected += o.Rejected
	s.Unreported += o.Unreported
}

// Daemon is the signer loop. Build it with New, drive it with Run or RunOnce,
// and Close it to release the ledger.
type Daemon struct {
	cfg    Config
	api    API
	keys   Keys
	ledger *Ledger
	log    *slog.Logger
	m      *metrics

	chains  []signingChain
	txAllow map[string]bool
	walls   map[string]bool
	retries *retries
	guard   *guard
	// remote holds a slot per signature being asked of a key held outside
	// the process (remoteInFlight).
	remote chan struct{}
	// renews is set once the API renewed a lease: runs then keep
	// Concurrency transactions in flight (inFlight).
	renews atomic.Bool
}

// DefaultConcurrency is Config.Concurrency's default. More in flight is
// faster: with 512 or more, the process benchmark's batches and group
// commits are fuller and the three processes spend about 40% less CPU per
// transaction than with 64 (BENCHMARKS.md). Work held that long must keep
// its lease until it is submitted: a run renews the leases it holds
// (leases.keep), and keeps at most unrenewedInFlight in flight when the
// API cannot renew them.
const DefaultConcurrency = 1024

// unrenewedInFlight bounds a run's transactions in flight when it claims
// with a lease that the API cannot renew (an older server): without
// renewals every transaction must be signed and submitted within the
// claim's lease, and the replicas test has always held at this setting.
const unrenewedInFlight = 64

// inFlight is how many transactions a run keeps in flight. With a lease it
// also starts renewing the leases held until ctx ends; the first run of the
// process learns, with one renewal, whether the API renews leases at all.
func (d *Daemon) inFlight(ctx context.Context, code string, held *leases) int {
	n := d.cfg.Concurrency
	if held == nil {
		return n
	}
	r, ok := d.api.(LeaseRenewer)
	if !ok {
		return min(n, unrenewedInFlight)
	}
	if !d.renews.Load() {
		ids := held.held()
		if len(ids) == 0 {
			return min(n, unrenewedInFlight)
		}
		from := time.Now()
		got, err := r.RenewLeases(ctx, ids[:1])
		if err != nil {
			if !errors.Is(err, ErrNoRenewal) {
				d.log.Warn("lease renewal failed; this run keeps fewer transactions in flight", "chain", code, "in_flight", min(n, unrenewedInFlight), "error", err)
			}
			return min(n, unrenewedInFlight)
		}
		held.renewed(ids[:1], got, from)
		d.renews.Store(true)
	}
	go held.keep(ctx, r, d.log, code)
	return n
}

// remoteInFlight bounds the signatures asked of keys held outside the process
// at once, whatever the concurrency: such a signature is a round trip to a
// key service (a cloud KMS throttles a client that sends hundreds at once),
// not work the daemon's CPU could do sooner.
const remoteInFlight = 64

type signingChain struct {
	c      chain.Chain
	signer chain.Signer
	// mu keeps two runs for one chain from overlapping (Run and RunOnce may race).
	mu *sync.Mutex
}

// New checks cfg, opens the ledger (ErrLedgerLocked when another daemon holds
// it) and returns a daemon using api and keys.
func New(cfg Config, api API, keys Keys) (*Daemon, error) {
	if api == nil || keys == nil {
		return nil, fmt.Errorf("%w: api and keys are required", ErrConfig)
	}
	if cfg.Period <= 0 {
		cfg.Period = 5 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.ChunkSize <= 0 {
		cfg.ChunkSize = 10000
	}
	if cfg.ClaimLimit <= 0 {
		cfg.ClaimLimit = max(256, 16*cfg.Concurrency)
	}
	if cfg.SubmitTimeout <= 0 {
		cfg.SubmitTimeout = 30 * time.Second
	}
	if cfg.MaxRetryDelay <= 0 {
		cfg.MaxRetryDelay = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Lookup == nil {
		cfg.Lookup = chains.Lookup
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if len(cfg.Chains) == 0 {
		return nil, fmt.Errorf("%w: chain: at least one chain is required", ErrConfig)
	}
	if cfg.LedgerPath == "" {
		return nil, fmt.Errorf("%w: ledger path is required", ErrConfig)
	}
	d := &Daemon{cfg: cfg, api: api, keys: keys, log: cfg.Logger, m: newMetrics(cfg.Registry), remote: make(chan struct{}, remoteInFlight),
		txAllow: set(cfg.TransactionIDs), walls: set(cfg.Wallets), retries: newRetries(cfg.Period, cfg.MaxRetryDelay)}
	seen := map[string]bool{}
	for _, code := range cfg.Chains {
		c, err := cfg.Lookup(strings.TrimSpace(code))
		if err != nil {
			return nil, fmt.Errorf("%w: chain: %w", ErrConfig, err)
		}
		if seen[c.Info().Code] {
			continue
		}
		seen[c.Info().Code] = true
		s, ok := c.(chain.Signer)
		if !ok {
			return nil, fmt.Errorf("%w: chain: %s: %w", ErrConfig, c.Info().Code, ErrNoSigner)
		}
		if _, ok := c.(chain.Intender); !ok {
			return nil, fmt.Errorf("%w: chain: %s: %w", ErrConfig, c.Info().Code, ErrNoIntent)
		}
		d.chains = append(d.chains, signingChain{c: c, signer: s, mu: &sync.Mutex{}})
	}
	l, err := OpenLedger(cfg.LedgerPath)
	if err != nil {
		return nil, err
	}
	d.ledger = l
	if cfg.Policy != nil {
		if d.guard, err = d.newGuard(context.Background()); err != nil {
			l.Close()
			return nil, err
		}
	}
	return d, nil
}

func set(xs []string) map[string]bool {
	if len(xs) == 0 {
		return nil
	}
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		if x = strings.TrimSpace(x); x != "" {
			m[x] = true
		}
	}
	return m
}

// Close releases the ledger. Call it after Run or RunOnce returned.
func (d *Daemon) Close() error { return d.ledger.Close() }

// Run runs every chain each period until ctx ends, then lets in-flight
// transactions finish (within SubmitTimeout) and returns nil.
func (d *Daemon) Run(ctx context.Context) error {
	d.log.Info("signer started", "chains", d.codes(), "period", d.cfg.Period.String(), "testnet", d.cfg.Testnet,
		"approval", d.cfg.Approval != nil)
	var wg sync.WaitGroup
	for _, sc := range d.chains {
		wg.Go(func() {
			t := time.NewTicker(d.cfg.Period)
			defer t.Stop()
			for {
				sum, full, err := d.runChain(ctx, sc)
				// A sealed store is a wait, not a failure: it was logged at start.
				if err != nil && ctx.Err() == nil && !errors.Is(err, ErrSealed) {
					d.log.Error("run failed", "chain", sc.c.Info().Code, "error", err)
				}
				if err == nil && full && progressed(sum) && ctx.Err() == nil {
					continue // more of a backlog is waiting: claim the next share now
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		})
	}
	wg.Wait()
	d.log.Info("signer stopped")
	return nil
}

// RunOnce runs every chain once (--runOnce) and returns what was done. The
// error joins the runs that could not complete (key source or API unreachable);
// per-transaction failures are counted in the Summary and reported to the API
// (those that could not be are counted in Summary.Unreported).
func (d *Daemon) RunOnce(ctx context.Context) (Summary, error) {
	var (
		mu   sync.Mutex
		sum  Summary
		errs []error
		wg   sync.WaitGroup
	)
	for _, sc := range d.chains {
		wg.Go(func() {
			// With a claim limit one run may take only part of the backlog:
			// run again while claims come back full and work gets done.
			for {
				s, full, err := d.runChain(ctx, sc)
				mu.Lock()
				sum.add(s)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", sc.c.Info().Code, err))
				}
				mu.Unlock()
				if err != nil || !full || !progressed(s) || ctx.Err() != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return sum, errors.Join(errs...)
}

func (d *Daemon) codes() []string {
	out := make([]string, len(d.chains))
	for i, sc := range d.chains {
		out[i] = sc.c.Info().Code
	}
	return out
}

// signatureIDs lists the managed wallets of chain code on the daemon's network.
func (d *Daemon) signatureIDs(ctx context.Context, code string) ([]string, error) {
	refs, err := d.keys.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("key source: %w", err)
	}
	var ids []string
	for _, r := range refs {
		if !strings.EqualFold(r.Chain, code) || r.Testnet != d.cfg.Testnet {
			continue
		}
		if d.walls != nil && !d.walls[r.SignatureID] {
			continue
		}
		ids = append(ids, r.SignatureID)
	}
	return ids, nil
}

// progressed reports whether a run moved any transaction forward, so that
// running again at once cannot spin on transactions that keep failing.
func progressed(s Summary) bool { return s.Submitted+s.Resubmitted > 0 }

// pending asks for the pending transactions of ids in chunks and merges the
// answers: one transaction can match several chunks. full reports that a
// claim came back with ClaimLimit transactions, so more may be waiting.
func (d *Daemon) pending(ctx context.Context, code string, ids []string) (txs []PendingTx, full bool, err error) {
	limit := 0
	if d.cfg.Lease > 0 {
		limit = d.cfg.ClaimLimit
	}
	seen := map[string]bool{}
	for chunk := range slices.Chunk(ids, d.cfg.ChunkSize) {
		got, err := d.api.Pending(ctx, code, chunk, limit)
		if err != nil {
			return nil, false, err
		}
		full = full || limit > 0 && len(got) >= limit
		for _, tx := range got {
			if seen[tx.ID] || tx.TxID != "" {
				continue
			}
			if d.txAllow != nil && !d.txAllow[tx.ID] {
				continue
			}
			seen[tx.ID] = true
			txs = append(txs, tx)
		}
	}
	return txs, full, nil
}

// runChain runs one chain once; full reports that its claim was cut at
// ClaimLimit (see pending).
func (d *Daemon) runChain(ctx context.Context, sc signingChain) (_ Summary, full bool, _ error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	code := sc.c.Info().Code
	start := time.Now()
	defer func() { d.m.runSeconds.WithLabelValues(code).Observe(time.Since(start).Seconds()) }()

	ids, err := d.signatureIDs(ctx, code)
	if err != nil || len(ids) == 0 {
		return Summary{}, false, err
	}
	fetched := time.Now()
	txs, full, err := d.pending(ctx, code, ids)
	if err != nil {
		return Summary{}, false, err
	}
	d.m.observePending(code, txs, d.cfg.Now())
	sum := Summary{Pending: len(txs)}
	if len(txs) == 0 {
		return sum, false, nil
	}
	recorded, err := d.ledger.Lookup(ctx, txIDs(txs))
	if err != nil {
		return sum, false, err
	}
	refusals, err := d.ledger.Refusals(ctx, txIDs(txs))
	if err != nil {
		return sum, false, err
	}
	d.retries.forget(code, txs)
	txs, unreported := d.unrefused(code, txs, refusals)
	txs, waiting := d.skip(code, txs, recorded)
	txs, places := inSequence(sc.c, d.cfg.Testnet, txs, waiting)
	keys, err := d.runKeys(ctx, txs, recorded)
	if err != nil {
		return sum, false, err
	}
	res := NewResolver(keys, d.cfg.Testnet)
	res.only = d.walls
	res.open = d.cfg.OpenRemoteKey
	defer res.Close()

	// In-flight transactions finish after shutdown begins: a signed and
	// recorded transaction is better submitted now than at the next start.
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		// Past the grace period, abandon the rest; the ledger covers it.
		time.AfterFunc(d.cfg.SubmitTimeout, cancel)
	})
	defer stop()

	var (
		mu        sync.Mutex
		reports   = unreported
		submitted = map[string]string{}
		ended     = map[string]string{}
		refused   = map[string]string{}
		wg        sync.WaitGroup
		// With a lease, a transaction is started and signed only while
		// its lease runs for at least another quarter of it: the rest is
		// for its submission (leases.signable).
		held *leases
		left int
	)
	if d.cfg.Lease > 0 {
		held = newLeases(d.cfg.Lease, fetched, txIDs(txs), time.Now)
	}
	keeping, stopKeeping := context.WithCancel(work)
	defer stopKeeping()
	sem := make(chan struct{}, d.inFlight(keeping, code, held))
dispatch:
	for _, tx := range txs {
		if ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
			break dispatch
		case sem <- struct{}{}:
		}
		if !held.signable(tx.ID) {
			<-sem
			left++
			held.release(tx.ID)
			// Later transactions of its sender wait for it: none of
			// them is submitted ahead of it.
			places[tx.ID].finish(false)
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			e, had := recorded[tx.ID]
			p := places[tx.ID]
			o := d.process(work, sc, res, tx, e, had, p, held)
			p.finish(o.chainTxID != "")
			held.release(tx.ID)
			mu.Lock()
			defer mu.Unlock()
			sum.add(o.sum)
			if o.report != nil {
				reports = append(reports, *o.report)
			} else if o.sum.Failed > 0 {
				sum.Unreported++ // the audit log failed: nothing to report
			}
			if o.chainTxID != "" {
				submitted[tx.ID] = o.chainTxID
			}
			if o.ended != "" {
				ended[tx.ID] = o.ended
			}
			if o.refused != "" {
				refused[tx.ID] = o.refused
			}
		})
	}
	wg.Wait()
	if left > 0 {
		d.log.Info("leases running out or lost: left for the next run", "chain", code, "left", left)
	}
	if err := d.ledger.MarkSubmitted(work, submitted); err != nil {
		d.log.Warn("ledger: noting submissions", "chain", code, "error", err)
	}
	// Noted before the report, so that no later run or restart submits an
	// ended transaction again, even if the API keeps serving it as pending.
	if err := d.ledger.MarkFailed(work, ended); err != nil {
		d.log.Warn("ledger: noting permanent failures", "chain", code, "error", err)
	}
	// Likewise for refusals (the approval service's, the policy's, ambiguous JSON).
	if err := d.ledger.Refuse(work, code, refused); err != nil {
		d.log.Warn("ledger: noting refusals", "chain", code, "error", err)
	}
	if !d.report(work, code, reports) {
		for _, r := range reports {
			if !r.Refused {
				sum.Unreported++
			}
		}
	}
	d.log.Info("run done", "chain", code, "pending", sum.Pending, "signed", sum.Signed, "submitted", sum.Submitted,
		"resubmitted", sum.Resubmitted, "failed", sum.Failed, "rejected", sum.Rejected, "waiting", len(waiting),
		"ms", strconv.FormatInt(time.Since(start).Milliseconds(), 10))
	return sum, full, nil
}

// runKeys is the key source of a run over txs: when the daemon's source can
// preload, the wallets of the transactions to sign (those not recorded) are
// read at once.
func (d *Daemon) runKeys(ctx context.Context, txs []PendingTx, recorded map[string]Entry) (Keys, error) {
	p, ok := d.keys.(Preloader)
	if !ok {
		return d.keys, nil
	}
	var ids []string
	for _, tx := range txs {
		if _, had := recorded[tx.ID]; !had {
			ids = append(ids, tx.signatureIDs()...)
		}
	}
	if len(ids) == 0 {
		return d.keys, nil
	}
	keys, err := p.Preload(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("key source: %w", err)
	}
	return keys, nil
}

func txIDs(txs []PendingTx) []string {
	ids := make([]string, len(txs))
	for i, tx := range txs {
		ids[i] = tx.ID
	}
	return ids
}

type outcome struct {
	sum    Summary
	report *TxError
	// chainTxID is the API's txId after a successful submission.
	chainTxID string
	// ended is the API's reason when it answered that the transaction's
	// attempts are over (HTTPError.TxFailed).
	ended string
	// refused is the reason reported when the transaction was refused for
	// good: by the approval service (ErrRefused), the policy or as
	// ambiguous JSON (refused.go).
	refused string
}

func (d *Daemon) fail(code, id, stage string, err error) outcome {
	d.m.failed.WithLabelValues(code).Inc()
	d.log.Warn("transaction failed", "chain", code, "id", id, "stage", stage, "error", err)
	return outcome{sum: Summary{Failed: 1}, report: &TxError{SignatureID: id, Error: stage + ": " + err.Error()}}
}

// process takes one pending transaction through approval, signing, the ledger
// and submission. A transaction already in the ledger is submitted again as
// recorded, without approval or signing: it was approved when it was signed.
// It is submitted only after the sender's previous transaction of the run
// (p) was, so that the node receives the sender's sequences in order; when
// that one was not submitted, this one stays signed in the ledger and is
// submitted by a later run instead of arriving at the node after a gap.
func (d *Daemon) process(ctx context.Context, sc signingChain, res *Resolver, tx PendingTx, e Entry, recorded bool, p place, held *leases) outcome {
	code := sc.c.Info().Code
	var o outcome
	dec, err := tx.decode(sc.c)
	if err != nil {
		if recorded || !errors.Is(err, ErrAmbiguousJSON) {
			// Signed before from unambiguous bytes, it may be on its way
			// to the chain: not submitted now, but not ended either, which
			// would free its sequence for another transaction.
			return d.fail(code, tx.ID, "decode", err)
		}
		return d.refuseAmbiguous(ctx, code, tx, err)
	}
	if !recorded {
		s, err := d.subject(sc, tx, dec)
		if err != nil {
			return d.fail(code, tx.ID, "decode", err)
		}
		spend, refused := d.checkPolicy(code, s)
		// The policy's approval is acted on first by asking the approval
		// service, else by signing. Without an approval service nothing
		// leaves the process between the decision and the key use (the keys
		// are only looked up), so the decision is written with the key use,
		// in the same append and before it: durable before the signature,
		// as when written alone, for one wait instead of two. A refusal, or
		// an approval followed by a request to the approval service, is
		// written at once, before it takes effect.
		var withKeyUse []audit.Event
		if d.guard != nil && refused == nil && d.cfg.Approval == nil {
			withKeyUse = append(withKeyUse, policyEvent(code, s, nil))
		} else if err := d.auditPolicy(ctx, code, s, refused); err != nil {
			spend.Release()
			return d.auditFailed(code, tx.ID, err)
		}
		if refused != nil {
			return *refused
		}
		defer spend.Release() // unless recorded below
		if d.cfg.Approval != nil {
			err := d.cfg.Approval.Approve(ctx, s)
			decision, reason := approvalDecision(err)
			// The same holds for the approval service's approval: what
			// follows it is the key look-up, then the key use, so it is
			// written with the key use (before it, in the same append). A
			// refusal or a "not yet" is written at once, before it is
			// reported.
			if err == nil {
				withKeyUse = append(withKeyUse, decisionEvent(code, "approval", s, decision, reason))
			} else if aerr := d.auditDecision(ctx, code, "approval", s, decision, reason); aerr != nil {
				return d.auditFailed(code, tx.ID, aerr)
			}
			if err != nil {
				d.m.rejected.WithLabelValues(code).Inc()
				if errors.Is(err, ErrRefused) {
					return d.refusedOutcome(code, tx.ID, "approval service", approvalRefusal(err))
				}
				d.log.Warn("transaction not approved, left pending", "chain", code, "id", tx.ID, "error", err)
				return outcome{sum: Summary{Rejected: 1}}
			}
		}
		// Not signed after all: the decisions are still written before the
		// outcome is reported.
		unsigned := func(then func() outcome) outcome {
			if len(withKeyUse) > 0 {
				if aerr := d.audit(ctx, withKeyUse...); aerr != nil {
					return d.auditFailed(code, tx.ID, aerr)
				}
			}
			return then()
		}
		// A transaction started in time may have waited behind many others
		// (approval, audit): if its lease could not be renewed meanwhile it
		// may soon go to another signer, so it is not signed now but left
		// for the next run.
		if !held.signable(tx.ID) {
			return unsigned(func() outcome {
				d.log.Info("lease running out or lost: left unsigned for the next run", "chain", code, "id", tx.ID)
				return o
			})
		}
		keys, remote, err := res.ResolveSigning(ctx, sc.c, tx)
		if err != nil {
			return unsigned(func() outcome { return d.fail(code, tx.ID, "keys", err) })
		}
		if err := d.auditKeyUse(ctx, code, s, withKeyUse...); err != nil {
			clear(keys)
			return d.auditFailed(code, tx.ID, err)
		}
		signed, err := d.sign(ctx, sc, chain.SignRequest{Serialized: tx.SerializedTransaction, Testnet: d.cfg.Testnet,
			Keys: keys, ExtraChainIDs: d.cfg.ExtraChainIDs[code], Decoded: s.decodedTx}, remote)
		clear(keys)
		if err != nil {
			return d.fail(code, tx.ID, "sign", err)
		}
		if err := d.auditSigned(ctx, code, tx, signed); err != nil {
			return d.auditFailed(code, tx.ID, err)
		}
		e, err = d.ledger.Record(ctx, Entry{ID: tx.ID, Chain: code, TxData: signed.TxData, TxID: signed.TxID, Spends: spend.Spends()})
		if err != nil {
			// Not recorded, so not submitted: the next run signs it again.
			return d.fail(code, tx.ID, "ledger", err)
		}
		spend.Commit()
		if e.TxData != signed.TxData {
			d.log.Warn("ledger holds an earlier signature for this id; submitting that one", "chain", code, "id", tx.ID)
		}
		o.sum.Signed = 1
		d.m.signed.WithLabelValues(code).Inc()
	}
	if !p.wait(ctx) {
		d.log.Info("held back: an earlier transaction of the sender was not submitted", "chain", code, "id", tx.ID)
		return o
	}
	if recorded {
		o.sum.Resubmitted = 1
		d.m.resubmitted.WithLabelValues(code).Inc()
		d.log.Info("submitting again from the ledger", "chain", code, "id", tx.ID, "txId", e.TxID)
	}
	chainTxID, err := d.api.Broadcast(ctx, sc.c.Info().Slug, e.TxData, tx.ID)
	if err != nil {
		f := d.fail(code, tx.ID, "submit", err)
		f.sum.add(o.sum)
		if he := (*HTTPError)(nil); errors.As(err, &he) && he.TxFailed() {
			d.retries.done(tx.ID)
			f.ended = f.report.Error
			d.log.Warn("the node's refusal is permanent: no further submission", "chain", code, "id", tx.ID)
		} else {
			d.retries.failed(code, tx.ID, d.cfg.Now())
		}
		return f
	}
	d.retries.done(tx.ID)
	o.sum.Submitted = 1
	o.chainTxID = chainTxID
	d.m.submitted.WithLabelValues(code).Inc()
	d.log.Info("submitted", "chain", code, "id", tx.ID, "txId", chainTxID)
	return o
}

// sign signs req with its private keys, or with remote, the keys held
// outside the process that ResolveSigning returned in their place, with at
// most remoteInFlight of the latter asked at once.
func (d *Daemon) sign(ctx context.Context, sc signingChain, req chain.SignRequest, remote []chain.DigestSigner) (chain.Signed, error) {
	if len(remote) == 0 {
		return sc.signer.Sign(ctx, req)
	}
	select {
	case d.remote <- struct{}{}:
		defer func() { <-d.remote }()
	case <-ctx.Done():
		return chain.Signed{}, ctx.Err()
	}
	ext, ok := sc.c.(chain.ExternalSigner)
	if !ok {
		return chain.Signed{}, fmt.Errorf("%s: %w", sc.c.Info().Code, ErrNoExternalSigner)
	}
	return ext.SignExternal(ctx, req, remote)
}
