package api

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"sort"
	"strings"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/pending"
)

// MaxReplaceBody bounds a speed-up or cancel request: a few fees.
const MaxReplaceBody = 4 << 10

// speedUpTx is POST /v3/kms/speedup/{id}: queue the same transaction at the
// same sequence paying more, so that the node's pool takes it in place of a
// stuck one.
func (s *Server) speedUpTx(w http.ResponseWriter, r *http.Request) error {
	return s.replaceTx(w, r, false)
}

// cancelTx is POST /v3/kms/cancel/{id}: queue the chain's no-op at the same
// sequence paying more, so that the stuck transaction can never be mined.
func (s *Server) cancelTx(w http.ResponseWriter, r *http.Request) error {
	return s.replaceTx(w, r, true)
}

// replaceTx queues a replacement (chain.Replacer) of a broadcast
// transaction that is not final yet, in the same tenant and for the same
// wallet: it is approved, signed and checked at broadcast like any queued
// transaction. Whichever of the two the chain mines wins, and the outcome
// tracker marks the other replaced. The body is optional: {"<fee field>":
// "<wei>", …} asks for fees above the node's replacement minimum.
func (s *Server) replaceTx(w http.ResponseWriter, r *http.Request, cancel bool) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	body, err := s.readMaybeEmpty(r)
	if err != nil {
		return err
	}
	fees, err := replaceFees(body)
	if err != nil {
		return err
	}
	key := keyFrom(r.Context())
	tx, err := s.store.Get(r.Context(), key.ID, id)
	if err != nil {
		return err
	}
	c, err := s.lookupChain(tx.Chain)
	if err != nil {
		return err
	}
	rep, ok := c.(chain.Replacer)
	switch {
	case !ok:
		return notReplaceable(fmt.Sprintf("%s transactions cannot be replaced in the node's pool.", tx.Chain))
	case tx.State != pending.StateBroadcast && tx.TxID == "":
		return notReplaceable(fmt.Sprintf("Only a broadcast transaction can be replaced; this one is %s: delete it and queue another instead.", tx.State))
	case tx.State != pending.StateBroadcast:
		return notReplaceable(fmt.Sprintf("This transaction is final (%s): nothing can take its place any more.", tx.State))
	}
	req, err := s.replaceRequest(r.Context(), key.ID, tx, cancel, fees, key.Testnet)
	if err != nil {
		return err
	}
	node, err := s.nodeClient(tx.Chain, key.Testnet)
	if err != nil {
		return err
	}
	ctx, stop := context.WithTimeout(r.Context(), s.broadcastTimeout)
	serialized, err := rep.Replacement(ctx, node, req)
	stop()
	switch {
	case errors.Is(err, chain.ErrInvalidTx), errors.Is(err, chain.ErrWrongNetwork):
		return invalid("replacement: " + err.Error())
	case err != nil:
		return fmt.Errorf("%w: %w", broadcast.ErrUnavailable, err)
	}
	newTx := pending.NewTx{Chain: tx.Chain, SerializedTransaction: serialized, Hashes: tx.Hashes, Index: tx.Index,
		Signatures: tx.Signatures, WithdrawalID: tx.WithdrawalID, Replaces: id}
	if msg := checkSerialized(s.lookupChain, tx.Chain, serialized, key.Testnet, s.extraChainIDs[key.Testnet][tx.Chain]); msg != "" {
		// The chain built a transaction its own codec refuses: a bug.
		return fmt.Errorf("replacement of %s refused by its codec: %s", id, msg)
	}
	if _, err := s.sequence(r.Context(), &newTx, key.Testnet); err != nil {
		return err
	}
	if newTx.SerializedTransaction, err = s.fillFromNode(r.Context(), tx.Chain, key.Testnet, newTx.SerializedTransaction); err != nil {
		return err
	}
	ids, err := s.store.Create(r.Context(), key.ID, newTx)
	if err != nil {
		return err
	}
	s.log.InfoContext(r.Context(), "queued a replacement", "id", id, "replacement", ids[0], "cancel", cancel, "chain", tx.Chain)
	writeJSON(w, http.StatusOK, map[string]string{"id": ids[0]})
	return nil
}

// replaceRequest gathers what the chain needs to outbid the transaction:
// its signed bytes and those of its group's other broadcast members.
func (s *Server) replaceRequest(ctx context.Context, tenant string, tx pending.Tx, cancel bool, fees map[string]*big.Int, testnet bool) (chain.ReplaceRequest, error) {
	req := chain.ReplaceRequest{Serialized: tx.SerializedTransaction, Cancel: cancel, Fees: fees,
		MaxFee: s.maxGasPrice[tx.Chain], Testnet: testnet, ExtraChainIDs: s.extraChainIDs[testnet][tx.Chain]}
	var err error
	if req.Signed, err = s.store.TxData(ctx, tenant, tx.ID); err != nil {
		return req, err
	}
	rivals, err := s.store.Rivals(ctx, tenant, tx.ID)
	if err != nil {
		return req, err
	}
	for _, rv := range rivals {
		signed, err := s.store.TxData(ctx, tenant, rv.ID)
		if err != nil {
			return req, err
		}
		if signed != "" {
			req.Rivals = append(req.Rivals, signed)
		}
	}
	return req, nil
}

// replaceFees reads the optional body: an object of fee fields (EVM
// gasPrice, maxFeePerGas, maxPriorityFeePerGas; UTXO fee), each a positive
// decimal number of the chain's smallest unit as a string.
func replaceFees(body []byte) (map[string]*big.Int, error) {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, nil
	}
	var raw map[string]string
	if err := decodeJSON(body, &raw); err != nil {
		return nil, err
	}
	fees := map[string]*big.Int{}
	var bad []string
	for k, v := range raw {
		n, ok := new(big.Int).SetString(v, 10)
		if !ok || n.Sign() <= 0 || n.BitLen() > 256 || strings.Trim(v, "0123456789") != "" {
			bad = append(bad, k+": must be a positive decimal integer string (the chain's smallest unit: wei, satoshis)")
			continue
		}
		fees[k] = n
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return nil, invalid(bad...)
	}
	return fees, nil
}

func notReplaceable(msg string) *Error {
	return forbidden(CodeTxNotReplaceable, msg)
}
