package api

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custoskms/custos/internal/pending"
)

// Page sizes of GET /v3/kms/transactions.
const (
	defaultListLimit = 100
	maxListLimit     = 1000
)

// listedTx is a transaction as the listing answers it: GET /v3/kms/{id}'s
// detail (without the error count) and when its state last changed.
type listedTx struct {
	txDetail
	// Changed is when its state last changed, RFC 3339 with milliseconds.
	Changed string `json:"changed"`
}

// listTxs is GET /v3/kms/transactions?status=&since=&limit=: the key's
// transactions whose state changed at or after since, oldest change first,
// so that an application reconciles after an outage by asking again from the
// last changed it saw (an equal time may repeat a transaction: drop it by id).
func (s *Server) listTxs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := pending.TxFilter{Tenant: keyFrom(r.Context()).ID, Limit: defaultListLimit}
	var bad []string
	if v := q.Get("status"); v != "" {
		if !slices.Contains(listStates, pending.State(v)) {
			bad = append(bad, "status: must be one of "+strings.Join(stateNames(listStates), ", "))
		}
		f.Status = pending.State(v)
	}
	if v := q.Get("since"); v != "" {
		at, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			bad = append(bad, "since: must be an RFC 3339 time, e.g. 2026-01-02T15:04:05Z")
		}
		f.Since = at
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			bad = append(bad, fmt.Sprintf("limit: must be an integer from 1 to %d", maxListLimit))
		}
		f.Limit = n
	}
	if len(bad) > 0 {
		return invalid(bad...)
	}
	txs, err := s.store.Transactions(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]listedTx, len(txs))
	for i, t := range txs {
		out[i] = listedTx{txDetail: detailOf(t.Tx), Changed: t.ChangedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00")}
	}
	s.charge(r, 1)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// listStates are the states the listing filters by: every state a
// transaction can be in.
var listStates = []pending.State{pending.StateQueued, pending.StateSigned, pending.StateBroadcast, pending.StateConfirmed,
	pending.StateFailed, pending.StateDropped, pending.StateReplaced, pending.StateExpired}

func stateNames(states []pending.State) []string {
	out := make([]string, len(states))
	for i, st := range states {
		out[i] = string(st)
	}
	return out
}
