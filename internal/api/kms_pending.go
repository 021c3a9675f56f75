package api

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/internal/pending"
)

// idsPerCredit is how many signature IDs one credit of a pending POST covers.
const idsPerCredit = 500

func pathChain(r *http.Request) (string, error) {
	c := r.PathValue("chain")
	if !validChain(c) {
		return "", invalid("chain: " + chainEnumMsg)
	}
	return c, nil
}

// idCredits is what a request naming n ids costs: 1 per idsPerCredit, at least 1.
func idCredits(n int) int64 { return max(1, int64((n+idsPerCredit-1)/idsPerCredit)) }

// checkIDs validates signature IDs.
func checkIDs(field string, ids []string) error {
	if allUUIDs(ids) {
		return nil
	}
	if bad := badEntries(field, ids, isUUID, "must be a UUID", nil); len(bad) > 0 {
		return invalid(bad...)
	}
	return nil
}

// badEntries adds to bad the entries of list that valid refuses, as
// "field[i]: want, got …", the first ten and then a line saying the list
// stops there, so that a request of a million entries cannot produce a
// million-line answer.
func badEntries(field string, list []string, valid func(string) bool, want string, bad []string) []string {
	n := 0
	for i, v := range list {
		if valid(v) {
			continue
		}
		bad = append(bad, fmt.Sprintf("%s[%d]: %s, got %s", field, i, want, quote(v)))
		if n++; n == 10 {
			return append(bad, field+": further invalid entries not listed")
		}
	}
	return bad
}

// allUUIDs reports whether every id is a UUID, a long list (a signer's
// whole wallet) checked on every core; checkIDs then describes what is not.
func allUUIDs(ids []string) bool {
	parts := 1
	if len(ids) >= 1<<15 {
		parts = runtime.GOMAXPROCS(0)
	}
	var bad atomic.Bool
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*len(ids)/parts, (p+1)*len(ids)/parts
		wg.Go(func() {
			for _, id := range ids[lo:hi] {
				if !isUUID(id) {
					bad.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	return !bad.Load()
}

// pendingGet is GET /v3/kms/pending/{chain}?signatures=uuid,uuid.
func (s *Server) pendingGet(w http.ResponseWriter, r *http.Request) error {
	c, err := pathChain(r)
	if err != nil {
		return err
	}
	q := pending.PendingQuery{Tenant: keyFrom(r.Context()).ID, Chain: c}
	if vals, ok := r.URL.Query()["signatures"]; ok {
		joined := strings.Join(vals, ",")
		if strings.TrimSpace(joined) == "" {
			return invalid("signatures: must list at least one UUID; omit it for all pending transactions")
		}
		q.SignatureIDs = strings.Split(joined, ",")
		if err := checkIDs("signatures", q.SignatureIDs); err != nil {
			return err
		}
	}
	if q.Claim, err = claimFromQuery(r.URL.Query()); err != nil {
		return err
	}
	txs, err := s.store.Pending(r.Context(), q)
	if err != nil {
		return err
	}
	s.charge(r, 1)
	nameKey(w, r)
	writePendingTxs(w, txs) // kms_pending_json.go
	return nil
}

// pendingPost is POST /v3/kms/pending/{chain} with {"signatureIds":[…]}, for
// lists too long for a URL; "signerId" and "leaseSeconds" make it a signer's
// claim (kms_claim.go).
func (s *Server) pendingPost(w http.ResponseWriter, r *http.Request) error {
	c, err := pathChain(r)
	if err != nil {
		return err
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	ids, claim, err := decodePendingBody(body) // kms_claim.go
	if err != nil {
		return err
	}
	if err := checkIDs("signatureIds", ids); err != nil {
		return err
	}
	txs, err := s.store.Pending(r.Context(), pending.PendingQuery{Tenant: keyFrom(r.Context()).ID, Chain: c, SignatureIDs: ids, Claim: claim})
	if err != nil {
		return err
	}
	s.charge(r, idCredits(len(ids)))
	nameKey(w, r)
	writePendingTxs(w, txs) // kms_pending_json.go
	return nil
}

// nameKey tells the signer which key queued the transactions it is served:
// the caller's own, a key being its own tenant. The daemon passes it to its
// approval service, which can then keep a key's owner from approving what
// they queued (docs/design.md §6.3).
func nameKey(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(approval.HeaderAPIKeyID, keyFrom(r.Context()).ID)
}
