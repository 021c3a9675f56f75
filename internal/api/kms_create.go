package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/pending"
)

const maxIndex = 1<<31 - 1

type createRequest struct {
	Chain                 *string  `json:"chain"`
	SerializedTransaction *string  `json:"serializedTransaction"`
	Hashes                []string `json:"hashes"`
	Index                 *int64   `json:"index"`
	Signatures            []struct {
		ID    *string `json:"id"`
		Index *int64  `json:"index"`
	} `json:"signatures"`
	WithdrawalID        *string         `json:"withdrawalId"`
	WithdrawalResponses json.RawMessage `json:"withdrawalResponses"`
}

// createTx is POST /v3/kms: queue a transaction for signing, completed from
// the chain's node first when it leaves out fields only a node knows, with
// its sender's next sequence allocated by the store when it leaves that out.
func (s *Server) createTx(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var req createRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	id, err := s.queue(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
	return nil
}

// queue validates, sequences, completes and stores one transaction for the
// request's API key: the one path every queued transaction takes, whether
// the app serialized it (POST /v3/kms) or the server built it (a transfer
// endpoint, §4.14).
func (s *Server) queue(ctx context.Context, req createRequest) (string, error) {
	key := keyFrom(ctx)
	tx, err := req.validate(s.lookupChain, key.Testnet, s.extraChainIDs[key.Testnet])
	if err != nil {
		return "", err
	}
	sq, err := s.sequence(ctx, &tx, key.Testnet)
	if err != nil {
		return "", err
	}
	sequenced := tx.SerializedTransaction
	if tx.SerializedTransaction, err = s.fillFromNode(ctx, tx.Chain, key.Testnet, tx.SerializedTransaction); err != nil {
		return "", err
	}
	if sq != nil {
		if tx.SerializedTransaction == sequenced { // only the sequence came from the node
			s.metrics.completions.WithLabelValues(tx.Chain, "ok").Inc()
		}
		completed := tx.SerializedTransaction
		tx.Sequence.Render = func(seq uint64) (string, error) { return sq.WithSequence(completed, seq) }
	}
	ids, err := s.store.Create(ctx, key.ID, tx)
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// validate checks the request for a network; extra are the chain ids
// configured for it beyond the public ones, by chain code.
func (req *createRequest) validate(lookup func(string) (chain.Chain, error), testnet bool, extra map[string][]uint64) (pending.NewTx, error) {
	var (
		bad []string
		tx  pending.NewTx
	)
	switch {
	case req.Chain == nil:
		bad = append(bad, "chain: is required")
	case !validChain(*req.Chain):
		bad = append(bad, "chain: "+chainEnumMsg)
	default:
		tx.Chain = *req.Chain
	}
	if req.SerializedTransaction == nil || strings.TrimSpace(*req.SerializedTransaction) == "" {
		bad = append(bad, "serializedTransaction: must be a non-empty string")
	} else {
		tx.SerializedTransaction = *req.SerializedTransaction
	}
	for i, h := range req.Hashes {
		if !isUUID(h) {
			bad = append(bad, fmt.Sprintf("hashes[%d]: must be a UUID, got %s", i, quote(h)))
		}
	}
	tx.Hashes = req.Hashes
	if tx.Hashes == nil {
		tx.Hashes = []string{}
	}
	if req.Index != nil {
		if *req.Index < 0 || *req.Index > maxIndex {
			bad = append(bad, "index: must be between 0 and 2147483647")
		} else {
			v := uint32(*req.Index)
			tx.Index = &v
		}
	}
	for i, sg := range req.Signatures {
		if sg.ID == nil || !isUUID(*sg.ID) {
			bad = append(bad, fmt.Sprintf("signatures[%d].id: must be a UUID", i))
			continue
		}
		out := pending.Signature{ID: *sg.ID}
		if sg.Index != nil {
			if *sg.Index < 0 || *sg.Index > maxIndex {
				bad = append(bad, fmt.Sprintf("signatures[%d].index: must be between 0 and 2147483647", i))
				continue
			}
			v := uint32(*sg.Index)
			out.Index = &v
		}
		tx.Signatures = append(tx.Signatures, out)
	}
	if len(req.Hashes) == 0 && len(req.Signatures) == 0 {
		bad = append(bad, "hashes: at least one signature ID is required in hashes or signatures")
	}
	if req.WithdrawalID != nil {
		if n := len(*req.WithdrawalID); n == 0 || n > 100 {
			bad = append(bad, "withdrawalId: must be 1 to 100 characters")
		} else {
			tx.WithdrawalID = *req.WithdrawalID
		}
	}
	if wr := bytes.TrimSpace(req.WithdrawalResponses); len(wr) > 0 && !bytes.Equal(wr, []byte("null")) {
		if wr[0] != '[' {
			bad = append(bad, "withdrawalResponses: must be an array")
		} else {
			tx.WithdrawalResponses = json.RawMessage(wr)
		}
	}
	// The codec runs last, on an otherwise valid request, so its message is
	// about the transaction and not about a missing chain.
	if len(bad) == 0 {
		if msg := checkSerialized(lookup, tx.Chain, tx.SerializedTransaction, testnet, extra[tx.Chain]); msg != "" {
			bad = append(bad, "serializedTransaction: "+msg)
		}
	}
	if len(bad) > 0 {
		return pending.NewTx{}, invalid(bad...)
	}
	return tx, nil
}

// checkSerialized asks the chain's codec whether it can parse the
// transaction. A chain without one yet accepts any non-blank string.
func checkSerialized(lookup func(string) (chain.Chain, error), code, serialized string, testnet bool, extra []uint64) (msg string) {
	c, err := lookup(code)
	if err != nil {
		return err.Error()
	}
	v, ok := c.(chain.TxValidator)
	if !ok {
		return ""
	}
	// A codec bug must not take the server down; it answers like a parse failure.
	defer func() {
		if p := recover(); p != nil {
			msg = "cannot be parsed"
		}
	}()
	if err := v.ValidateTx(serialized, testnet, extra...); err != nil {
		return err.Error()
	}
	return ""
}
