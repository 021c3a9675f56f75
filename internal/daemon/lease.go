package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"
)

// LeaseRenewer is an API that renews a signer's leases on the transactions
// it holds (POST /v3/kms/lease, docs/design.md §4.7). *Client is one when
// it claims with a signer id.
type LeaseRenewer interface {
	// RenewLeases extends this signer's leases on ids by the claim's lease
	// and returns those renewed: ids no longer pending, or no longer leased
	// to this signer, are left out. ErrNoRenewal when the API cannot.
	RenewLeases(ctx context.Context, ids []string) ([]string, error)
}

// ErrNoRenewal is returned by RenewLeases when the API has no lease route
// (an older server answers 404 or 405), or the client makes no claims.
var ErrNoRenewal = errors.New("the API does not renew leases")

// RenewChunk is how many ids one lease renewal carries (the API takes up to
// 100,000; a chunk this size keeps each request's statement short).
const RenewChunk = 10000

// RenewLeases implements LeaseRenewer.
func (c *Client) RenewLeases(ctx context.Context, ids []string) ([]string, error) {
	if c.SignerID == "" || c.noRenewRoute.Load() {
		return nil, ErrNoRenewal
	}
	var renewed []string
	for chunk := range slices.Chunk(ids, RenewChunk) {
		body := struct {
			SignerID     string   `json:"signerId"`
			LeaseSeconds int      `json:"leaseSeconds,omitempty"`
			IDs          []string `json:"ids"`
		}{c.SignerID, c.LeaseSeconds, chunk}
		var out struct {
			Renewed []string `json:"renewed"`
		}
		if err := c.do(ctx, http.MethodPost, "/v3/kms/lease", body, &out); err != nil {
			if he := (*HTTPError)(nil); errors.As(err, &he) &&
				(he.Status == http.StatusNotFound || he.Status == http.StatusMethodNotAllowed) {
				c.noRenewRoute.Store(true)
				return nil, fmt.Errorf("%w: %w", ErrNoRenewal, err)
			}
			return nil, err
		}
		// The answer is believed only for ids that were asked about: an id
		// the API adds is no lease of this run.
		asked := make(map[string]bool, len(chunk))
		for _, id := range chunk {
			asked[id] = true
		}
		for _, id := range out.Renewed {
			if asked[id] {
				renewed = append(renewed, id)
				delete(asked, id)
			}
		}
	}
	return renewed, nil
}

// leases is what a run knows of the leases on the transactions it holds:
// for each, until when this process can vouch that no other signer may
// claim it. That time is measured from before each request (the claim, a
// renewal) on the daemon's own clock, so it never runs past the lease the
// server keeps. A transaction is signed only while a quarter of the lease
// is left, the rest being for its ledger write and submission, and the
// run renews the leases of everything it holds every quarter of the lease,
// so that work waiting behind many others keeps its lease instead of
// passing, signed or not, to another signer.
type leases struct {
	lease time.Duration
	now   func() time.Time

	mu    sync.Mutex
	until map[string]time.Time // zero: the lease is lost
}

func newLeases(lease time.Duration, from time.Time, ids []string, now func() time.Time) *leases {
	l := &leases{lease: lease, now: now, until: make(map[string]time.Time, len(ids))}
	for _, id := range ids {
		l.until[id] = from.Add(lease)
	}
	return l
}

// signable reports whether id may still be started or signed: its lease is
// held and runs at least another quarter of the lease.
func (l *leases) signable(id string) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.until[id]
	return ok && l.now().Before(t.Add(-l.lease/4))
}

// release forgets id: the run is done with it, and no longer renews it.
func (l *leases) release(ids ...string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		delete(l.until, id)
	}
}

// held lists the ids whose leases still stand.
func (l *leases) held() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := make([]string, 0, len(l.until))
	for id, t := range l.until {
		if !t.IsZero() {
			ids = append(ids, id)
		}
	}
	return ids
}

// renewed records a renewal of asked, sent at from: the ids renewed run
// from there for another lease; the others are lost for good (another
// signer may hold them now, or they are no longer pending). It returns how
// many were lost.
func (l *leases) renewed(asked, renewed []string, from time.Time) (lost int) {
	ok := make(map[string]bool, len(renewed))
	for _, id := range renewed {
		ok[id] = true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range asked {
		t, held := l.until[id]
		switch {
		case !held || t.IsZero():
		case ok[id]:
			if end := from.Add(l.lease); end.After(t) {
				l.until[id] = end
			}
		default:
			l.until[id] = time.Time{}
			lost++
		}
	}
	return lost
}

// keep renews the leases held every quarter of the lease until ctx ends. It
// returns at once, renewing nothing more, when the API cannot renew: the
// leases then end where the claim put them.
func (l *leases) keep(ctx context.Context, r LeaseRenewer, log *slog.Logger, code string) {
	every := l.lease / 4
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ids := l.held()
		if len(ids) == 0 {
			continue
		}
		from := l.now()
		// A renewal slower than the period is no use: the next one is due.
		rctx, cancel := context.WithTimeout(ctx, every)
		got, err := r.RenewLeases(rctx, ids)
		cancel()
		switch {
		case errors.Is(err, ErrNoRenewal):
			return
		case err != nil:
			if ctx.Err() == nil {
				log.Warn("lease renewal failed; transactions whose lease runs low are left for a later run", "chain", code, "held", len(ids), "error", err)
			}
			continue
		}
		if lost := l.renewed(ids, got, from); lost > 0 {
			log.Warn("leases lost: those transactions are not signed in this run", "chain", code, "lost", lost)
		}
	}
}
