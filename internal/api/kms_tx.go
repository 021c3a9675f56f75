package api

import (
	"net/http"
)

func pathID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if !isTxID(id) {
		return "", invalid("id: must be exactly 24 characters of [0-9a-zA-Z]")
	}
	return id, nil
}

// getTx is GET /v3/kms/{id}.
func (s *Server) getTx(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	tx, err := s.store.Get(r.Context(), keyFrom(r.Context()).ID, id)
	if err != nil {
		return err
	}
	s.charge(r, 1)
	writeJSON(w, http.StatusOK, tx)
	return nil
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
