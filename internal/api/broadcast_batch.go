package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain/chains"
)

// Bounds of POST /v3/{slug}/broadcast/batch.
const (
	// MaxBroadcastBatch is the most transactions one batch carries.
	MaxBroadcastBatch = 256
	// MaxBroadcastBatchBody caps a batch's body. Signed transfers are a few
	// hundred bytes each, so a full batch of them takes a small part of it;
	// a signer with large transactions (contract creations, many-input
	// UTXO spends) sends fewer per batch. Each txData is also held to the
	// single route's cap, MaxTxBody.
	MaxBroadcastBatchBody = 8 << 20
)

type broadcastBatchRequest struct {
	Transactions *[]broadcastRequest `json:"transactions"`
}

// broadcastBatchResult is one item's answer: the single route's 200 body
// with the signatureId, or its error body under error.
type broadcastBatchResult struct {
	SignatureID string `json:"signatureId"`
	TxID        string `json:"txId,omitempty"`
	Completed   bool   `json:"completed,omitempty"`
	Error       *Error `json:"error,omitempty"`
}

type broadcastBatchResponse struct {
	Results []broadcastBatchResult `json:"results"`
}

// broadcastBatch is POST /v3/{slug}/broadcast/batch, not Tatum's: the
// single broadcast route (broadcastTx) for up to MaxBroadcastBatch pending
// transactions of one chain at once, answering for each, in order, what
// the single route would have answered for it alone. A signer with many
// transactions signed pays one HTTP exchange instead of one each, and the
// server groups the work: the checks run on all cores, the signed
// transactions are stored in one group commit, go to the node in one
// JSON-RPC batch where the node client can (broadcast.BatchBroadcaster),
// and the completions are committed together. Every item's txData is
// stored before any is sent, as in the single route.
func (s *Server) broadcastBatch(w http.ResponseWriter, r *http.Request) error {
	c, lookupErr := chains.BySlug(r.PathValue("slug"))
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	items, err := parseBroadcastBatch(body, lookupErr == nil)
	if err != nil {
		return err
	}
	ctx, key, code := r.Context(), keyFrom(r.Context()), c.Info().Code

	some(items, checkWorkers, func(_ int, it *broadcastItem) { s.checkItem(ctx, key.ID, code, key.Testnet, it) })
	// Concurrent writes share one commit (the SQLite store's group commit).
	checked := unanswered(items)
	all(checked, func(_ int, it *broadcastItem) { it.err = s.store.SetTxData(ctx, key.ID, it.id, it.txData) })
	stored := unanswered(checked)
	sent := s.submitAll(ctx, code, key.Testnet, stored)
	settling, cancel := outliving(ctx) // the node has answered: recorded whatever the request's context does
	defer cancel()
	all(stored, func(i int, it *broadcastItem) {
		s.settle(settling, key.ID, code, key.Testnet, it, sent[i].TxID, sent[i].Err)
	})

	out := broadcastBatchResponse{Results: make([]broadcastBatchResult, len(items))}
	for i, it := range items {
		res := broadcastBatchResult{SignatureID: it.id}
		if it.err != nil {
			res.Error = errorBody(s.log, r, it.err)
		} else {
			res.TxID, res.Completed = it.txID, true
		}
		out.Results[i] = res
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// parseBroadcastBatch decodes and validates a batch body; slugOK tells
// whether the path's slug named a chain, so that one 400 lists every
// problem. Whole-request problems are answered before any item is read.
func parseBroadcastBatch(body []byte, slugOK bool) ([]*broadcastItem, error) {
	var bad []string
	if !slugOK {
		bad = append(bad, "slug: "+slugEnumMsg)
	}
	var req broadcastBatchRequest
	if err := decodeJSON(body, &req); err != nil {
		return nil, err
	}
	switch {
	case req.Transactions == nil || len(*req.Transactions) == 0:
		return nil, invalid(append(bad, "transactions: must be a non-empty array")...)
	case len(*req.Transactions) > MaxBroadcastBatch:
		return nil, invalid(append(bad, fmt.Sprintf("transactions: must hold at most %d items", MaxBroadcastBatch))...)
	}
	items := make([]*broadcastItem, 0, len(*req.Transactions))
	first := map[string]int{}
	for i, t := range *req.Transactions {
		if len(bad) >= 10 {
			break
		}
		switch {
		case t.TxData == nil || strings.TrimSpace(*t.TxData) == "":
			bad = append(bad, fmt.Sprintf("transactions[%d].txData: must be a non-empty string", i))
		case len(*t.TxData) > MaxTxBody:
			bad = append(bad, fmt.Sprintf("transactions[%d].txData: must be at most %d bytes", i, MaxTxBody))
		}
		if t.SignatureID == nil || !isTxID(*t.SignatureID) {
			bad = append(bad, fmt.Sprintf("transactions[%d].signatureId: must be exactly 24 characters of [0-9a-zA-Z]", i))
			continue
		}
		if j, dup := first[*t.SignatureID]; dup {
			bad = append(bad, fmt.Sprintf("transactions[%d].signatureId: repeats transactions[%d]'s", i, j))
			continue
		}
		first[*t.SignatureID] = i
		if t.TxData != nil {
			items = append(items, &broadcastItem{id: *t.SignatureID, txData: *t.TxData})
		}
	}
	if len(bad) > 0 {
		return nil, invalid(bad...)
	}
	return items, nil
}

// checkWorkers bounds the goroutines that check a batch's items. The checks
// are CPU (the sender's recovery, the decoding) and a store read each; a
// goroutine per item grew a fresh stack for each item's deep recovery and
// SQLite frames (4–8% of the check's CPU in a full batch) and queued on the
// store's few connections, while a worker grows its stack once and then
// reuses it.
// The bound is at least twice the stores' usual connection pools (SQLite's 8,
// PostgreSQL's 16 unless its URL asks for more), so the reads stay as
// parallel as those pools let them be.
const checkWorkers = 32

// all runs f on every item at once and waits: concurrent writes share a
// commit. Items are at most MaxBroadcastBatch.
func all(items []*broadcastItem, f func(i int, it *broadcastItem)) {
	some(items, len(items), f)
}

// some runs f on every item with at most workers goroutines, each taking
// the next item until none is left, and waits.
func some(items []*broadcastItem, workers int, f func(i int, it *broadcastItem)) {
	var (
		wg   sync.WaitGroup
		next atomic.Int64
	)
	for range min(workers, len(items)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(items); i = int(next.Add(1) - 1) {
				f(i, items[i])
			}
		})
	}
	wg.Wait()
}

// unanswered is the items that have neither a txId nor an error yet.
func unanswered(items []*broadcastItem) []*broadcastItem {
	var out []*broadcastItem
	for _, it := range items {
		if it.err == nil && it.txID == "" {
			out = append(out, it)
		}
	}
	return out
}

// submitAll sends the items' txData to the chain's node, in order: in one
// exchange when the node client takes batches, else one call each (in
// order, so that one sender's sequences reach the node lowest first), each
// as submit sends it.
func (s *Server) submitAll(ctx context.Context, code string, testnet bool, items []*broadcastItem) []broadcast.Result {
	out := make([]broadcast.Result, len(items))
	txData := make([]string, len(items))
	for i, it := range items {
		txData[i] = it.txData
	}
	client, err := s.nodeClient(code, testnet)
	bb, batches := client.(broadcast.BatchBroadcaster)
	if err != nil || !batches || len(items) < 2 {
		for i, d := range txData {
			out[i].TxID, out[i].Err = s.submit(ctx, code, testnet, d)
		}
		return out
	}
	bctx, cancel := context.WithTimeout(ctx, s.broadcastTimeout)
	defer cancel()
	got := bb.BroadcastBatch(bctx, txData)
	for i := range out {
		r := broadcast.Result{Err: fmt.Errorf("%w: the node client gave no answer", broadcast.ErrUnavailable)}
		if len(got) == len(out) {
			r = got[i]
		}
		out[i].TxID, out[i].Err = s.judge(bctx, code, testnet, r.TxID, r.Err)
	}
	return out
}
