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

// hookWant names one awaited event: the pending transaction and the type.
type hookWant struct{ id, typ string }

// awaitHooks waits for one event of each want, in whatever order they come
// (events about two transactions are delivered independently), and returns
// them in the order asked; other events are skipped.
func awaitHooks(t *testing.T, got <-chan outcomeHook, wants ...hookWant) []outcomeHook {
	t.Helper()
	out := make([]outcomeHook, len(wants))
	found := make([]bool, len(wants))
	deadline := time.After(30 * time.Second)
	for n := 0; n < len(wants); {
		select {
		case h := <-got:
			for i, w := range wants {
				if !found[i] && h.SignatureID == w.id && h.SubscriptionType == w.typ {
					out[i], found[i] = h, true
					n++
					break
				}
			}
		case <-deadline:
			for i, w := range wants {
				if !found[i] {
					t.Fatalf("no %s event for %s within 30 s", w.typ, w.id)
				}
			}
		}
	}
	return out
}
