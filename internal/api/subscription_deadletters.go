package api

import (
	"encoding/json"
	"net/http"
	"strings"
)

// deadLetterView is a dead-lettered delivery as GET
// /v3/subscription/dead-letters lists it. Not Tatum's.
type deadLetterView struct {
	ID             string          `json:"id"`
	EventID        string          `json:"eventId"`
	SubscriptionID string          `json:"subscriptionId"`
	Type           string          `json:"type"`
	SignatureID    string          `json:"signatureId"`
	URL            string          `json:"url"`
	Body           json.RawMessage `json:"body"`
	Attempts       int             `json:"attempts"`
	LastError      string          `json:"lastError"`
	CreatedAt      int64           `json:"created"`
	FailedAt       int64           `json:"failed"`
}

// listDeadLetters is GET /v3/subscription/dead-letters.
func (s *Server) listDeadLetters(w http.ResponseWriter, r *http.Request) error {
	dl, err := s.store.DeadLetters(r.Context(), keyFrom(r.Context()).ID)
	if err != nil {
		return err
	}
	out := make([]deadLetterView, len(dl))
	for i, l := range dl {
		out[i] = deadLetterView{ID: l.ID, EventID: l.EventID, SubscriptionID: l.SubscriptionID, Type: l.Type, SignatureID: l.PendingID,
			URL: l.URL, Body: l.Body, Attempts: l.Attempts, LastError: l.LastError,
			CreatedAt: l.CreatedAt.UnixMilli(), FailedAt: l.FailedAt.UnixMilli()}
	}
	s.charge(r, 1)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// retryDeadLetter is POST /v3/subscription/dead-letters/{id}/retry: the
// delivery is due again at once, with a fresh round of attempts.
func (s *Server) retryDeadLetter(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !isDeliveryID(id) {
		return invalid("id: must be a dead letter's id (24 characters of [0-9a-zA-Z], '-', 24 more)")
	}
	if err := s.store.RetryDeadLetter(r.Context(), keyFrom(r.Context()).ID, id); err != nil {
		return err
	}
	s.charge(r, 1)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// isDeliveryID reports whether id has a delivery id's shape: the event's id
// and the subscription's, joined by "-".
func isDeliveryID(id string) bool {
	event, sub, ok := strings.Cut(id, "-")
	return ok && isTxID(event) && isTxID(sub)
}
