package approver

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"time"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/internal/audit"
)

// Auditor appends to the audit log (docs/design.md §7.4); *audit.Log is one.
type Auditor interface {
	Append(ctx context.Context, events ...audit.Event) error
}

// ApprovalPath is where the daemon's requests come: its --externalUrl is
// this service's base URL and this path (POST {url}/{id}).
const ApprovalPath = "/approval/"

// Config configures New.
type Config struct {
	Store Store
	Rules *Rules
	// Secret is the daemon's CUSTOS_APPROVAL_SECRET.
	Secret []byte
	// MaxSkew bounds a request's timestamp's distance from now (default
	// approval.DefaultMaxAge).
	MaxSkew time.Duration
	Audit   Auditor
	Log     *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Service answers the daemon's approval requests (protocol v2) from the
// operators' decisions stored by the console.
//
// The daemon's request never waits for people: it is answered at once,
// "pending" until enough operators have decided, and the daemon asks again
// at its next period (docs/approver.md). Answering at once keeps the
// daemon's run short (its request times out in 10 s) and the service
// stateless between requests: any number of asks reach the same stored
// outcome.
type Service struct {
	cfg Config
}

// New checks cfg and returns the service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Audit == nil {
		return nil, errors.New("approver: a store and an audit log are required")
	}
	if len(cfg.Secret) == 0 {
		return nil, errors.New("approver: the approval secret (CUSTOS_APPROVAL_SECRET) is required")
	}
	if cfg.Rules == nil {
		cfg.Rules = &Rules{}
	}
	if err := cfg.Rules.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxSkew <= 0 {
		cfg.MaxSkew = approval.DefaultMaxAge
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg}, nil
}

// ServeHTTP answers POST ApprovalPath{id}, and POST ApprovalPath"batch"
// (the batch form, docs/design.md §6.3).
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if path.Base(r.URL.Path) == approval.BatchSegment {
		s.serveBatch(w, r)
		return
	}
	req, err := approval.ParseRequest(s.cfg.Secret, r, s.cfg.Now(), s.cfg.MaxSkew)
	if err != nil {
		s.refuse(w, err)
		return
	}
	d, reason, err := s.answer(r.Context(), req)
	if err != nil {
		s.cfg.Log.Error("approval request", "id", req.ID, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := approval.Respond(w, s.cfg.Secret, req, d, reason, s.cfg.Now()); err != nil {
		s.cfg.Log.Warn("approval answer", "id", req.ID, "error", err)
	}
}

// refuse answers a request that does not parse: never a signed answer to a
// request that is not the daemon's.
func (s *Service) refuse(w http.ResponseWriter, err error) {
	s.cfg.Log.Warn("approval request refused", "error", err)
	status := http.StatusBadRequest
	if errors.Is(err, approval.ErrBadSignature) {
		status = http.StatusUnauthorized
	}
	http.Error(w, http.StatusText(status), status)
}

// serveBatch answers a batch: each request decided as a single one is, all
// of them recorded in one store write (answerAll).
func (s *Service) serveBatch(w http.ResponseWriter, r *http.Request) {
	reqs, err := approval.ParseBatchRequest(s.cfg.Secret, r, s.cfg.Now(), s.cfg.MaxSkew)
	if err != nil {
		s.refuse(w, err)
		return
	}
	answers, err := s.answerAll(r.Context(), reqs)
	if err != nil {
		// The daemon then asks about each alone.
		s.cfg.Log.Error("approval batch", "requests", len(reqs), "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := approval.RespondBatch(w, s.cfg.Secret, reqs, answers, s.cfg.Now()); err != nil {
		s.cfg.Log.Warn("approval batch answer", "requests", len(reqs), "error", err)
	}
}

// recording is how req is recorded: its need, and the rule's decision when
// the rule settles it without a person (an auto-approval).
func (s *Service) recording(req approval.Request, now time.Time) (Recording, approval.Decision) {
	r := Recording{Req: req, Need: s.cfg.Rules.Need(req), Now: now}
	d, _ := Tally(r.Need, nil)
	if d != approval.Pending {
		r.Settle = &Settlement{Outcome: Outcome(d)}
	}
	return r, d
}

// answerAll is answer for the requests of a batch: they are recorded in
// one write, and the batch's auto-approvals audited in one append before
// it commits.
func (s *Service) answerAll(ctx context.Context, reqs []approval.Request) ([]approval.Answer, error) {
	now := s.cfg.Now()
	rs := make([]Recording, len(reqs))
	ds := make([]approval.Decision, len(reqs))
	for i, req := range reqs {
		rs[i], ds[i] = s.recording(req, now)
	}
	txs, err := s.cfg.Store.RecordAll(ctx, rs, func(ctx context.Context, settled []int) error {
		events := make([]audit.Event, len(settled))
		for j, i := range settled {
			events[j] = ruleEvent(reqs[i], rs[i].Need, ds[i])
		}
		return s.cfg.Audit.Append(ctx, events...)
	})
	if err != nil {
		return nil, err
	}
	answers := make([]approval.Answer, len(reqs))
	for i, tx := range txs {
		d, reason, err := s.settled(ctx, reqs[i], tx, now)
		if err != nil {
			return nil, err
		}
		answers[i] = approval.Answer{Decision: d, Reason: reason}
	}
	return answers, nil
}

// answer records req and returns the decision its stored state leads to.
//
// A new request that the rules approve without a person (an
// auto-approval) is audited and stored already settled, in one write that
// commits after the audit entry is on disk. That order keeps every
// decision in the audit log: a crash between the two leaves an audit entry
// the store lacks, the daemon asks again and the request is audited again
// — an extra entry, never a missing one.
func (s *Service) answer(ctx context.Context, req approval.Request) (approval.Decision, string, error) {
	now := s.cfg.Now()
	r, d := s.recording(req, now)
	if r.Settle != nil {
		r.Settle.Audit = func(ctx context.Context) error { return s.auditRule(ctx, req, r.Need, d) }
	}
	tx, err := s.cfg.Store.Record(ctx, req, r.Need, r.Settle, now)
	if err != nil {
		return "", "", err
	}
	return s.settled(ctx, req, tx, now)
}

// settled returns the decision the stored state tx of req leads to.
func (s *Service) settled(ctx context.Context, req approval.Request, tx Tx, now time.Time) (approval.Decision, string, error) {
	d, reason := Tally(tx.Need, tx.Decisions)
	if tx.Status != StatusPending || d == approval.Pending {
		return d, reason, nil
	}
	// Stored pending, yet its stored need settles it without a person: one
	// stored by a build that settled in a second write, which did not
	// happen. It is settled now, audit first as above.
	if err := s.auditRule(ctx, req, tx.Need, d); err != nil {
		return "", "", err
	}
	if err := s.cfg.Store.SetStatus(ctx, req.ID, req.Digest, Outcome(d), now); err != nil {
		return "", "", err
	}
	return d, reason, nil
}

// auditRule appends the decision d that rule need.Rule took on req.
func (s *Service) auditRule(ctx context.Context, req approval.Request, need Need, d approval.Decision) error {
	return s.cfg.Audit.Append(ctx, ruleEvent(req, need, d))
}

// ruleEvent is the audit event of the decision d that rule need.Rule took
// on req.
func ruleEvent(req approval.Request, need Need, d approval.Decision) audit.Event {
	return audit.Event{Type: "approver.decision", Fields: map[string]any{
		"id": req.ID, "digest": req.Digest, "chain": req.Chain, "operator": "", "decision": string(d),
		"rule": need.Rule, "outcome": string(Outcome(d)), "reason": "rule " + need.Rule,
	}}
}

// Decide records an operator's decision on the latest request for id, after
// the checks (eligible, not decided before, still open) and its audit
// entry, and returns the outcome it leads to.
func (s *Service) Decide(ctx context.Context, operator, id string, d approval.Decision, reason string) (Status, error) {
	if d != approval.Approve && d != approval.Refuse {
		return "", errors.New("approver: a decision is approve or refuse")
	}
	tx, err := s.cfg.Store.Tx(ctx, id)
	if err != nil {
		return "", err
	}
	if tx.Status != StatusPending {
		return "", ErrClosed
	}
	if !tx.Need.Eligible(operator) {
		return "", ErrNotEligible
	}
	for _, prev := range tx.Decisions {
		if prev.Operator == operator {
			return "", ErrAlreadyDecided
		}
	}
	if d == approval.Approve {
		if err := s.notOwn(ctx, operator, tx.Request); err != nil {
			return "", err
		}
	}
	dec := Decision{ID: id, Digest: tx.Request.Digest, Operator: operator, Decision: d, Reason: reason, At: s.cfg.Now()}
	// The store settles the outcome from every decision stored, this one
	// included, in the transaction that stores it: another operator may be
	// deciding at this instant, so tx's decisions are not the tally.
	return s.cfg.Store.Decide(ctx, dec, func(outcome Status) error {
		// Fail closed: a decision takes effect only once the log holds it.
		return s.cfg.Audit.Append(ctx, audit.Event{Type: "approver.decision", Fields: map[string]any{
			"id": id, "digest": dec.Digest, "chain": tx.Request.Chain, "operator": operator, "decision": string(d),
			"rule": tx.Need.Rule, "outcome": string(outcome), "reason": reason,
		}})
	})
}

// notOwn refuses an approval by an operator holding the API key that
// queued req, when the daemon named it. A refusal stays open to them:
// stopping one's own transaction needs no second pair of eyes.
func (s *Service) notOwn(ctx context.Context, operator string, req approval.Request) error {
	own, err := s.owns(ctx, operator, req)
	if err == nil && own {
		err = ErrOwnTransaction
	}
	return err
}

// owns reports whether operator holds the API key that queued req.
func (s *Service) owns(ctx context.Context, operator string, req approval.Request) (bool, error) {
	if req.QueuedBy == nil || req.QueuedBy.APIKeyID == "" {
		return false, nil
	}
	op, err := s.cfg.Store.Operator(ctx, operator)
	if err != nil {
		return false, err
	}
	return slices.Contains(op.APIKeys, req.QueuedBy.APIKeyID), nil
}

// Store returns the service's store, for the console.
func (s *Service) Store() Store { return s.cfg.Store }
