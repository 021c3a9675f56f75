package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/custoskms/custos/internal/pending"
)

func pathID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if !isTxID(id) {
		return "", invalid("id: must be exactly 24 characters of [0-9a-zA-Z]")
	}
	return id, nil
}

// txDetail is a transaction as GET /v3/kms/{id} answers it: Tatum's
// fields unchanged, its state and on-chain outcome, and its error reports
// when it has any.
type txDetail struct {
	pending.Tx
	// Status is what the store knows of its outcome (pending.State).
	Status pending.State `json:"status"`
	// BlockNumber, Confirmations and Fee are the tracker's, once mined.
	BlockNumber   *uint64 `json:"blockNumber,omitempty"`
	Confirmations *uint64 `json:"confirmations,omitempty"`
	Fee           string  `json:"fee,omitempty"`
	// Rebroadcasts counts the times the server sent the stored signed
	// transaction again after the node lost it.
	Rebroadcasts int `json:"rebroadcasts,omitempty"`
	// ReplacedBy is the txId mined in its place when it was replaced.
	ReplacedBy string `json:"replacedBy,omitempty"`
	// Error is the latest report: why it failed on chain or was dropped,
	// else a signer's (POST /v3/tatum/kms/batch), the node's refusal at
	// broadcast, or the reason the transaction failed.
	Error string `json:"error,omitempty"`
	// ErrorCount is how many reports the transaction has.
	ErrorCount int `json:"errorCount,omitempty"`
}

// detailOf is tx's detail without its error reports.
func detailOf(tx pending.Tx) txDetail {
	o := tx.Outcome
	return txDetail{Tx: tx, Status: tx.State, BlockNumber: o.BlockNumber, Confirmations: o.Confirmations, Fee: o.Fee,
		Rebroadcasts: o.Rebroadcasts, ReplacedBy: o.ReplacedBy, Error: o.Error}
}

// getTx is GET /v3/kms/{id}.
func (s *Server) getTx(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	tenant := keyFrom(r.Context()).ID
	tx, err := s.store.Get(r.Context(), tenant, id)
	if err != nil {
		return err
	}
	d := detailOf(tx)
	last, count, err := s.store.LastError(r.Context(), tenant, id)
	if err != nil {
		return err
	}
	if d.Error == "" {
		d.Error = last
	}
	d.ErrorCount = count
	s.charge(r, 1)
	writeJSON(w, http.StatusOK, d)
	return nil
}

// noteRefusal keeps a node's refusal of a broadcast among the transaction's
// errors, so that the application sees on GET /v3/kms/{id} why it is not
// completed. A node that could not be asked says nothing about the
// transaction and is not kept. A failed write is logged: the broadcast
// answers with the refusal either way.
func (s *Server) noteRefusal(ctx context.Context, tenant, id string, refusal error) {
	msg := strings.ToValidUTF8(refusal.Error(), "?")
	if len(msg) > maxErrorMessage {
		msg = msg[:maxErrorMessage]
	}
	if _, err := s.store.RecordErrors(ctx, tenant, []pending.TxError{{ID: id, Message: msg}}); err != nil {
		s.log.ErrorContext(ctx, "a node's refusal could not be kept among the transaction's errors", "id", id, "err", err)
	}
}

// completeTx is PUT /v3/kms/{id}/{txId}: a signer that broadcast by itself
// records the blockchain txId.
func (s *Server) completeTx(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	txID := r.PathValue("txId")
	var bad []string
	if err != nil {
		bad = append(bad, err.(*Error).Data...)
	}
	if n := len(txID); n < 10 || n > 80 {
		bad = append(bad, "txId: must be 10 to 80 characters")
	}
	if len(bad) > 0 {
		return invalid(bad...)
	}
	if err := s.store.Complete(r.Context(), keyFrom(r.Context()).ID, id, txID); err != nil {
		return err
	}
	s.charge(r, 2)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteTx is DELETE /v3/kms/{id}?revert=true|false.
func (s *Server) deleteTx(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	revert := true
	var bad []string
	if err != nil {
		bad = append(bad, err.(*Error).Data...)
	}
	if vals, ok := r.URL.Query()["revert"]; ok {
		switch {
		case len(vals) == 1 && vals[0] == "true":
		case len(vals) == 1 && vals[0] == "false":
			revert = false
		default:
			bad = append(bad, "revert: must be true or false")
		}
	}
	if len(bad) > 0 {
		return invalid(bad...)
	}
	tenant := keyFrom(r.Context()).ID
	hole, err := s.store.Delete(r.Context(), tenant, id, revert)
	if err != nil {
		return err
	}
	s.fillHole(r.Context(), tenant, hole)
	s.charge(r, 2)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
