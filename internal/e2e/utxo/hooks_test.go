package utxo

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// outcomeHook is the part of an outcome event's body the tests read.
type outcomeHook struct {
	SignatureID      string `json:"signatureId"`
	TxID             string `json:"txId"`
	Status           string `json:"status"`
	Error            string `json:"error"`
	SubscriptionType string `json:"subscriptionType"`
}

// receiver is a webhook receiver on loopback subscribed, through the API, to
// the given event types of the stack's tenant; each body arrives on got.
func (s *stack) receiver(types ...string) <-chan outcomeHook {
	s.t.Helper()
	got := make(chan outcomeHook, 16)
	t := s.t
	recv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var h outcomeHook
		if err := json.Unmarshal(body, &h); err != nil {
			t.Errorf("webhook body %s: %v", body, err)
			return
		}
		got <- h
	}))
	s.t.Cleanup(recv.Close)
	for _, typ := range types {
		s.request(http.MethodPost, "/v3/subscription", map[string]any{"type": typ, "attr": map[string]string{"url": recv.URL}}, nil)
	}
	return got
}

// awaitHook waits for the event of type typ about the pending transaction id.
func awaitHook(t *testing.T, got <-chan outcomeHook, id, typ string) outcomeHook {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case h := <-got:
			if h.SignatureID == id && h.SubscriptionType == typ {
				return h
			}
		case <-deadline:
			t.Fatalf("no %s event for %s within 30 s", typ, id)
		}
	}
}
