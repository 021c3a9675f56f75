package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/pending"
)

// transactionCount is GET /v3/{slug}/transaction/count/{address}, Tatum's
// route that Tatum's SDK asks for a transaction whose nonce is missing (or
// the number 0, which it reads as missing). It answers, as a bare JSON
// number, the nonce POST /v3/kms would allocate to the sender now: the
// node's pending transaction count for the API key's network, or past it
// when queued transactions hold higher nonces (the store's next). It reads
// both and reserves nothing, so a signer filling a nonce from it and the
// allocator never disagree about a sender whose queue is allocated.
func (s *Server) transactionCount(w http.ResponseWriter, r *http.Request) error {
	c, err := web3Chain(r.PathValue("slug"))
	if err != nil {
		return err
	}
	account, err := c.Account(r.PathValue("address"))
	if err != nil {
		return invalid("address: must be an address of " + c.Info().Code + ": " + quote(r.PathValue("address")))
	}
	key := keyFrom(r.Context())
	code := c.Info().Code
	node, err := s.nodeClient(code, key.Testnet)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.broadcastTimeout)
	defer cancel()
	floor, err := c.NextSequence(ctx, node, account)
	if err != nil {
		return s.nodeFailed(ctx, code, key.Testnet, "reading a transaction count", err)
	}
	next, err := s.store.NextSequence(r.Context(), pending.SeqKey{Chain: code, Testnet: key.Testnet, Sender: account})
	if err != nil {
		return err
	}
	s.charge(r, 1)
	writeJSON(w, http.StatusOK, max(floor, next))
	return nil
}

// nodeFailed is what a failed node read of Tatum's signer routes answers:
// the 502 of an unavailable node (safe to retry), logged like a failed
// broadcast.
func (s *Server) nodeFailed(ctx context.Context, code string, testnet bool, what string, err error) error {
	if !errors.Is(err, broadcast.ErrUnavailable) {
		err = fmt.Errorf("%w: %w", broadcast.ErrUnavailable, err)
	}
	s.log.WarnContext(ctx, what+" from the node failed", "chain", code, "testnet", testnet, "err", err)
	return err
}
