package api

import (
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
	} `json:"errors"`
}

// reportErrors is POST /v3/tatum/kms/batch: a signer reports transactions it
// could not process. Reports about ids the tenant does not own are skipped,
// like unknown ones, so the answer never tells them apart.
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
		bad  []string
		errs []pending.TxError
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
			errs = append(errs, pending.TxError{ID: *e.SignatureID, Message: msg})
		}
	}
	if len(bad) > 0 {
		return invalid(bad...)
	}
	known, err := s.store.RecordErrors(r.Context(), keyFrom(r.Context()).ID, errs)
	if err != nil {
		return err
	}
	s.metrics.txErrors.Add(float64(known))
	w.WriteHeader(http.StatusNoContent)
	return nil
}
