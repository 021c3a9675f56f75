package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/custoskms/custos/internal/pending"
)

// maxErrorMessage bounds one stored error report.
const maxErrorMessage = 4096

type batchRequest struct {
	Errors *[]struct {
		SignatureID *string `json:"signatureId"`
		Error       *string `json:"error"`
		// Refused marks a signer's final refusal: the transaction is failed
		// instead of staying pending. Not Tatum's; optional.
		Refused bool `json:"refused"`
	} `json:"errors"`
}

// refusedBy starts the reason of a refusal that names who refused: the
// signer reports "refused by the approval service: …" or, for its own
// policy or a transaction whose JSON is ambiguous, "refused by the signer: …".
const refusedBy = "refused by "

// refusedPrefix names the approval service in a refusal reported without
// saying who refused: earlier signers refused only when their approval
// service did.
const refusedPrefix = "refused by the approval service: "

// refusalReason is the reason a refused transaction is failed with.
func refusalReason(msg string) string {
	if strings.HasPrefix(msg, refusedBy) {
		return msg
	}
	return refusedPrefix + msg
}

// reportErrors is POST /v3/tatum/kms/batch: a signer reports transactions it
// could not process. Reports about ids the tenant does not own are skipped,
// like unknown ones, so the answer never tells them apart. A report marked
// refused ends its transaction (see refuse); the others are kept among the
// transaction's errors and leave it pending.
func (s *Server) reportErrors(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var req batchRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	if req.Errors == nil || len(*req.Errors) == 0 {
		return invalid("errors: must be a non-empty array")
	}
	var (
		bad     []string
		errs    []pending.TxError
		refused []pending.TxError
	)
	for i, e := range *req.Errors {
		if e.SignatureID == nil || !isTxID(*e.SignatureID) {
			bad = append(bad, fmt.Sprintf("errors[%d].signatureId: must be exactly 24 characters of [0-9a-zA-Z]", i))
		}
		if e.Error == nil || strings.TrimSpace(*e.Error) == "" {
			bad = append(bad, fmt.Sprintf("errors[%d].error: must be a non-empty string", i))
		}
		if len(bad) >= 10 {
			break
		}
		if len(bad) == 0 {
			msg := *e.Error
			if len(msg) > maxErrorMessage {
				msg = msg[:maxErrorMessage]
			}
			msg = strings.ToValidUTF8(msg, "?")
			if e.Refused {
				refused = append(refused, pending.TxError{ID: *e.SignatureID, Message: msg})
			} else {
				errs = append(errs, pending.TxError{ID: *e.SignatureID, Message: msg})
			}
		}
	}
	if len(bad) > 0 {
		return invalid(bad...)
	}
	tenant := keyFrom(r.Context()).ID
	known, err := s.refuse(r.Context(), tenant, refused)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		n, err := s.store.RecordErrors(r.Context(), tenant, errs)
		if err != nil {
			return err
		}
		known += n
	}
	s.metrics.txErrors.Add(float64(known))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// refuse fails the transactions a signer refused for good, with the reason
// naming who refused (refusalReason), and frees the sequences they held (a filler takes one
// when later transactions of the sender wait), as for a node's permanent
// refusal. It returns how many ids were known. A completed transaction
// keeps its txId and only records the report: a signer that was refused
// cannot have broadcast it, another one did.
func (s *Server) refuse(ctx context.Context, tenant string, refused []pending.TxError) (int, error) {
	known := 0
	for _, e := range refused {
		e.Message = refusalReason(e.Message)
		hole, err := s.store.Fail(ctx, tenant, e.ID, e.Message)
		switch {
		case errors.Is(err, pending.ErrNotFound):
			continue
		case errors.Is(err, pending.ErrCompleted):
			if _, err := s.store.RecordErrors(ctx, tenant, []pending.TxError{e}); err != nil {
				return known, err
			}
		case err != nil:
			return known, err
		default:
			s.fillHole(ctx, tenant, hole)
		}
		known++
	}
	return known, nil
}
