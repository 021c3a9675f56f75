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
	"github.com/custoskms/custos/internal/pending"
)

type broadcastRequest struct {
	TxData      *string `json:"txData"`
	SignatureID *string `json:"signatureId"`
}

type broadcastResponse struct {
	TxID      string `json:"txId"`
	Completed bool   `json:"completed"`
}

// broadcastTx is POST /v3/{slug}/broadcast: keep the signed transaction on
// its pending transaction, submit it through the chain's node for the key's
// network, and complete the pending transaction with the node's txId.
// Without signatureId it only relays the transaction to the node. With one,
// the signed transaction must be the queued one (checkSigned) before
// anything is stored or sent.
func (s *Server) broadcastTx(w http.ResponseWriter, r *http.Request) error {
	slug := r.PathValue("slug")
	var bad []string
	c, lookupErr := chains.BySlug(slug)
	if lookupErr != nil {
		bad = append(bad, "slug: "+slugEnumMsg)
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var req broadcastRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	if req.TxData == nil || strings.TrimSpace(*req.TxData) == "" {
		bad = append(bad, "txData: must be a non-empty string")
	}
	if req.SignatureID != nil && !isTxID(*req.SignatureID) {
		bad = append(bad, "signatureId: must be exactly 24 characters of [0-9a-zA-Z]")
	}
	if len(bad) > 0 {
		return invalid(bad...)
	}
	key := keyFrom(r.Context())
	code, txData := c.Info().Code, *req.TxData

	if req.SignatureID == nil {
		txID, err := s.submit(r.Context(), code, key.Testnet, txData)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, broadcastResponse{TxID: txID})
		return nil
	}

	it := &broadcastItem{id: *req.SignatureID, txData: txData}
	s.checkItem(r.Context(), key.ID, code, key.Testnet, it)
	if it.err == nil && it.txID == "" {
		it.err = s.store.SetTxData(r.Context(), key.ID, it.id, txData)
		if it.err == nil {
			txID, err := s.submit(r.Context(), code, key.Testnet, txData)
			// The node has answered: what it answered is recorded
			// even if the request's context ends now (outliving).
			settling, cancel := outliving(r.Context())
			s.settle(settling, key.ID, code, key.Testnet, it, txID, err)
			cancel()
		}
	}
	if it.err != nil {
		return it.err
	}
	writeJSON(w, http.StatusOK, broadcastResponse{TxID: it.txID, Completed: true})
	return nil
}

// broadcastItem is one pending transaction on its way through a broadcast:
// the steps below are the single route's and the batch route's alike.
// Once txID or err is set, the item is answered.
type broadcastItem struct {
	id, txData string
	// tx is the stored transaction, read by checkItem.
	tx   pending.Tx
	txID string
	err  error
}

// checkItem reads the item's transaction and decides whether its txData may
// be stored and sent: the transaction is the chain's, not completed (a
// retried broadcast of what was already sent answers as the first one did,
// setting txID), and the signed transaction is the queued one (checkSigned).
func (s *Server) checkItem(ctx context.Context, tenant, code string, testnet bool, it *broadcastItem) {
	tx, err := s.store.Get(ctx, tenant, it.id)
	switch {
	case err != nil:
		it.err = err
	case tx.Chain != code:
		it.err = forbidden(CodeChainMismatch, fmt.Sprintf("Transaction is for %s, not %s.", tx.Chain, code))
	case tx.TxID != "":
		if prev, err := s.store.TxData(ctx, tenant, it.id); err == nil && prev == it.txData {
			it.txID = tx.TxID
			return
		}
		it.err = forbidden(CodeTxCompleted, "Transaction is already completed.")
	default:
		it.tx = tx
		it.err = s.checkSigned(ctx, code, testnet, tx.SerializedTransaction, it.txData)
	}
}

// settle acts on the node's answer to the item's stored txData: a refusal
// that never heals (or one of a transaction whose window passed) fails the
// transaction, another refusal is noted among its errors, and an accepted
// transaction is completed with the node's txId.
func (s *Server) settle(ctx context.Context, tenant, code string, testnet bool, it *broadcastItem, txID string, err error) {
	if errors.Is(err, broadcast.ErrPermanent) {
		s.fail(ctx, tenant, it.id, err)
		// The node's refusal never heals: the transaction is ended above, and
		// a signer stops its attempts on this code instead of retrying it.
		it.err = forbidden(CodeTxFailed, err.Error())
		return
	}
	if errors.Is(err, broadcast.ErrRejected) {
		if reason := s.expired(ctx, code, testnet, it.tx.SerializedTransaction, err); reason != nil {
			s.fail(ctx, tenant, it.id, reason)
			// Like a permanent refusal: no submission can include it any more.
			it.err = forbidden(CodeTxFailed, reason.Error())
			return
		}
		s.noteRefusal(ctx, tenant, it.id, err)
	}
	if err != nil {
		it.err = err
		return
	}
	if err := s.store.Complete(ctx, tenant, it.id, txID); err != nil {
		it.err = err
		return
	}
	it.txID = txID
}

// fail ends a transaction the node refused for good: it leaves the pending
// set with the node's reason among its errors, so no signer retries it, and
// the sequence it held is freed (a filler takes it when later ones wait).
// The broadcast answers with the refusal either way.
func (s *Server) fail(ctx context.Context, tenant, id string, reason error) {
	hole, err := s.store.Fail(ctx, tenant, id, reason.Error())
	if err != nil {
		s.log.ErrorContext(ctx, "a transaction the node refused for good could not be marked failed", "id", id, "err", err)
		return
	}
	s.fillHole(ctx, tenant, hole)
}

// expired asks, after the node refused a transaction of a chain with a
// validity window (chain.Windowed), whether that window has passed; it
// returns the reason to fail the transaction with when it has, else nil.
// The stored transaction is asked about, not the signed bytes: its window
// fields are the ones the signer signed. An expired transaction is never
// re-completed: its approval covered it as it was. When the node cannot
// tell, the refusal stands as one that may heal.
func (s *Server) expired(ctx context.Context, code string, testnet bool, serialized string, refusal error) error {
	c, err := s.lookupChain(code)
	if err != nil {
		return nil
	}
	w, ok := c.(chain.Windowed)
	if !ok {
		return nil
	}
	node, err := s.nodeClient(code, testnet)
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.broadcastTimeout)
	defer cancel()
	gone, err := w.Expired(ctx, node, serialized)
	if err != nil {
		s.log.WarnContext(ctx, "could not ask the node whether a refused transaction expired", "chain", code, "testnet", testnet, "err", err)
		return nil
	}
	if !gone {
		return nil
	}
	return fmt.Errorf("%sthe validity window passed before broadcast (node: %v)", pending.ExpiredReason, refusal)
}

// nodeClient is the client the server talks to a chain's network through:
// the configured node, or, for a chain the table marks as shut down, a client
// that refuses with the chain's reason whether or not a node is configured.
func (s *Server) nodeClient(code string, testnet bool) (broadcast.Client, error) {
	if c, err := s.lookupChain(code); err == nil && c.Info().ShutDown != "" {
		return broadcast.ShutDownClient(c.Info().ShutDown), nil
	}
	return s.nodes.Client(code, testnet)
}

// submit sends txData to the chain's node for the network.
func (s *Server) submit(ctx context.Context, code string, testnet bool, txData string) (string, error) {
	client, err := s.nodeClient(code, testnet)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, s.broadcastTimeout)
	defer cancel()
	txID, err := client.Broadcast(ctx, txData)
	return s.judge(ctx, code, testnet, txID, err)
}

// judge classifies a node client's answer to one transaction, counts it
// and logs a failure: an answer without a txId, or an error the client did
// not classify, is the node being unavailable.
func (s *Server) judge(ctx context.Context, code string, testnet bool, txID string, err error) (string, error) {
	switch {
	case err == nil && txID == "":
		err = fmt.Errorf("%w: the node answered no transaction id", broadcast.ErrUnavailable)
	case err != nil && !errors.Is(err, broadcast.ErrRejected) && !errors.Is(err, broadcast.ErrUnavailable):
		err = fmt.Errorf("%w: %w", broadcast.ErrUnavailable, err)
	}
	result := "ok"
	if errors.Is(err, broadcast.ErrRejected) {
		result = "rejected"
	} else if err != nil {
		result = "unavailable"
	}
	s.metrics.broadcasts.WithLabelValues(code, result).Inc()
	if err != nil {
		s.log.WarnContext(ctx, "broadcast failed", "chain", code, "testnet", testnet, "err", err)
		return "", err
	}
	return txID, nil
}
