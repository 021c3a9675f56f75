package broadcast

// No TRON node can run here: these tests stand up a local HTTP server that
// implements java-tron's documented POST /wallet/broadcasttransaction (the
// signed transaction JSON as body; {result, code, message, txid} answer) and
// checks the exact request the client sends.

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestTronBroadcast(t *testing.T) {
	signed, txID := signedVector(t, "TRON")
	answer := `{"result":true,"txid":"` + txID + `"}`
	srv := nodeServer(t, "/wallet/broadcasttransaction", "application/json", func(body []byte) (int, string) {
		if string(body) != signed {
			t.Errorf("request body %s", body)
		}
		return 200, answer
	})
	nodes, err := Dial([]NodeSpec{{Chain: "TRON", URL: srv.URL}}, testDialer)
	if err != nil {
		t.Fatal(err)
	}
	cl, _ := nodes.Client("TRON", false)
	ctx := context.Background()
	if got, err := cl.Broadcast(ctx, signed); err != nil || got != txID {
		t.Fatalf("Broadcast = %s, %v", got, err)
	}
	msg := func(s string) string { return hex.EncodeToString([]byte(s)) }
	answer = `{"code":"DUP_TRANSACTION_ERROR","txid":"` + txID + `","message":"` + msg("dup transaction") + `"}`
	if got, err := cl.Broadcast(ctx, signed); err != nil || got != txID {
		t.Errorf("duplicate: %s, %v", got, err)
	}
	answer = `{"code":"SIGERROR","txid":"` + txID + `","message":"` + msg("validate signature error") + `"}`
	if _, err := cl.Broadcast(ctx, signed); !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "validate signature error") {
		t.Errorf("SIGERROR: %v", err)
	}
	answer = `{"code":"SERVER_BUSY","txid":"` + txID + `"}`
	if _, err := cl.Broadcast(ctx, signed); !errors.Is(err, ErrUnavailable) {
		t.Errorf("SERVER_BUSY: %v", err)
	}
	answer = `{"result":true,"txid":"00"}`
	if _, err := cl.Broadcast(ctx, signed); !errors.Is(err, ErrUnavailable) {
		t.Errorf("other txid: %v", err)
	}
	answer = `{}`
	if _, err := cl.Broadcast(ctx, signed); !errors.Is(err, ErrUnavailable) {
		t.Errorf("empty answer: %v", err)
	}
	for _, bad := range []string{"", "{}", `{"raw_data_hex":"zz","signature":["00"]}`, strings.Replace(signed, `"signature"`, `"sig"`, 1)} {
		if _, err := cl.Broadcast(ctx, bad); !errors.Is(err, ErrRejected) {
			t.Errorf("bad txData %.30q: %v", bad, err)
		}
	}
}

// Credentials in a node URL go as basic auth, its query (an API key) is kept.
func TestTronNodeCredentials(t *testing.T) {
	signed, txID := signedVector(t, "TRON")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != "user" || p != "pw" || r.URL.Query().Get("apikey") != "k" || r.URL.Path != "/base/wallet/broadcasttransaction" {
			t.Errorf("auth %v %s %s, url %s", ok, u, p, r.URL)
		}
		_, _ = w.Write([]byte(`{"result":true}`))
	}))
	defer srv.Close()
	cl, err := DialTron("http://user:pw@" + srv.Listener.Addr().String() + "/base?apikey=k")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := cl.Broadcast(context.Background(), signed); err != nil || got != txID {
		t.Errorf("Broadcast = %s, %v", got, err)
	}
}
