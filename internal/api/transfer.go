package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
)

// transferSlugs are the slugs of the table's chains that build Tatum's
// KMS-mode transfers (chain.Transferer), in its order: the enum of
// POST /v3/{slug}/transaction. Computed once, never written to.
var transferSlugs = func() []string {
	var out []string
	for _, c := range chains.All() {
		if _, ok := c.(chain.Transferer); ok {
			out = append(out, c.Info().Slug)
		}
	}
	return out
}()

// transfer is POST /v3/{slug}/transaction in Tatum's KMS mode (§4.14): the
// app sends Tatum's transfer body with a signatureId where it would give a
// private key; the chain's builder turns it into a transaction, which is
// then queued exactly as POST /v3/kms queues one (validation, tenant and
// network rules, sequence, completion from the node). The answer is Tatum's:
// {"signatureId": the pending transaction's id}.
func (s *Server) transfer(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	c, err := chains.BySlug(r.PathValue("slug"))
	if err == nil {
		c, err = s.lookupChain(c.Info().Code)
	}
	tr, ok := c.(chain.Transferer)
	if err != nil || !ok {
		return invalid("slug: must be one of " + strings.Join(transferSlugs, ", "))
	}
	code := c.Info().Code
	key := keyFrom(r.Context())
	var t chain.Transfer
	err = s.withNode(r.Context(), code, key.Testnet, "building a transfer", func(ctx context.Context, node any) (err error) {
		t, err = tr.Transfer(ctx, node, body, key.Testnet)
		return err
	})
	if err != nil {
		return err
	}
	req := createRequest{Chain: &code, SerializedTransaction: &t.Serialized, Hashes: t.Hashes}
	if t.Index != nil {
		v := int64(*t.Index)
		req.Index = &v
	}
	for _, sg := range t.Signatures {
		id := sg.ID
		out := struct {
			ID    *string `json:"id"`
			Index *int64  `json:"index"`
		}{ID: &id}
		if sg.Index != nil {
			v := int64(*sg.Index)
			out.Index = &v
		}
		req.Signatures = append(req.Signatures, out)
	}
	id, err := s.queue(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"signatureId": id})
	return nil
}

// estimateChains are the chain codes answering POST /v3/blockchain/estimate
// (chain.FeeEstimator). Computed once, never written to.
var estimateChains = func() []string {
	var out []string
	for _, c := range chains.All() {
		if _, ok := c.(chain.FeeEstimator); ok {
			out = append(out, c.Info().Code)
		}
	}
	return out
}()

// estimate is Tatum's POST /v3/blockchain/estimate for the chains whose
// package answers it from the node: the body's "chain" picks the chain, the
// rest is the chain's to read.
func (s *Server) estimate(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var head struct {
		Chain *string `json:"chain"`
	}
	if err := decodeJSON(body, &head); err != nil {
		return err
	}
	enum := "chain: must be one of " + strings.Join(estimateChains, ", ")
	if head.Chain == nil {
		return invalid("chain: is required")
	}
	c, err := s.lookupChain(*head.Chain)
	fe, ok := c.(chain.FeeEstimator)
	if err != nil || !ok {
		return invalid(enum)
	}
	key := keyFrom(r.Context())
	var out any
	err = s.withNode(r.Context(), *head.Chain, key.Testnet, "estimating a fee", func(ctx context.Context, node any) (err error) {
		out, err = fe.EstimateFee(ctx, node, body, key.Testnet)
		return err
	})
	if err != nil {
		return err
	}
	s.charge(r, 1)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// withNode runs build with the chain's node client for the network (nil
// when none is configured: the builder says what it could not find), within
// the broadcast timeout, and maps its errors to the API's: a request that is
// wrong or a node refusal is a 400, a node that could not be asked a 502.
func (s *Server) withNode(ctx context.Context, code string, testnet bool, what string, build func(context.Context, any) error) error {
	var node any
	client, err := s.nodeClient(code, testnet)
	var none *broadcast.NoNodeError
	switch {
	case err == nil:
		node = s.capGas(code, client)
	case !errors.As(err, &none):
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.broadcastTimeout)
	defer cancel()
	err = build(ctx, node)
	var fe chain.FieldErrors
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return invalid(fe...)
	case errors.Is(err, chain.ErrInvalidTx), errors.Is(err, chain.ErrWrongNetwork):
		return invalid("body: " + err.Error())
	case errors.Is(err, broadcast.ErrRejected):
		return invalid(fmt.Sprintf("body: the %s %s node refuses it: %v", code, chain.NetworkName(testnet), err))
	}
	return s.nodeFailed(ctx, code, testnet, what, err)
}
