package e2e

import (
	"context"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/api"
	"github.com/custoskms/custos/internal/broadcast"
)

// TestFindingsAtTheAPI is the API's half of the daemon package's
// TestFindings: the findings of the security review that the API, not the
// signer, answers, against the real API over HTTP.
func TestFindingsAtTheAPI(t *testing.T) {
	// A third-party node filled any gas price at queue time: above
	// `custos serve --max-gas-price` the transaction is refused and nothing
	// is queued, so the signer has nothing to sign; a gas price the
	// application gives itself is queued and signed.
	t.Run("4 node gas price over the cap", func(t *testing.T) {
		node := newNodeDouble(t) // its gas price is gasPrice, 20 gwei
		s := newNodesStackWith(t, true, []broadcast.NodeSpec{{Chain: "ETH", Testnet: true, URL: node.srv.URL}},
			func(c *api.Config) { c.MaxGasPrice = map[string]*big.Int{"ETH": big.NewInt(10_000_000_000)} })
		w := s.addPrivateKeyWallet()
		tx := func(extra string) map[string]any {
			return map[string]any{"chain": "ETH", "hashes": []string{w.sigID}, "serializedTransaction": `{"to":"` +
				randomAddress(t).Hex() + `","value":"1","nonce":0,"gasLimit":21000,"chainId":1337` + extra + `}`}
		}
		if code := s.apiDo(http.MethodPost, "/v3/kms", tx(""), nil); code != http.StatusBadRequest {
			t.Fatalf("queued with the node's gas price above the cap: %d", code)
		}
		d := s.newDaemon(s.client(), nil)
		if sum, err := d.RunOnce(context.Background()); err != nil || sum.Pending != 0 || node.nonce(w.addr) != 0 {
			t.Fatalf("run: %+v %v, the node saw %d transactions", sum, err, node.nonce(w.addr))
		}
		var out struct{ ID string }
		if code := s.apiDo(http.MethodPost, "/v3/kms", tx(`,"gasPrice":"`+gasPrice.String()+`"`), &out); code != http.StatusOK {
			t.Fatalf("the application's own gas price: %d", code)
		}
		if sum, err := d.RunOnce(context.Background()); err != nil || sum.Submitted != 1 || node.nonce(w.addr) != 1 {
			t.Fatalf("run: %+v %v", sum, err)
		}
	})

	// /metrics answered anyone, listing every API key's name and credits:
	// without a key, or with a key without the admin scope, it shows none.
	t.Run("5 metrics without a key", func(t *testing.T) {
		s := newNodesStack(t, true, nil)
		resp, err := http.Get(s.srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || strings.Contains(string(body), "custos_api_key_credits") {
			t.Fatalf("/metrics without a key: %d %s", resp.StatusCode, body)
		}
		var e struct{ ErrorCode string }
		if err := json.Unmarshal(body, &e); err != nil || e.ErrorCode == "" {
			t.Fatalf("/metrics without a key: not the API's error body: %s", body)
		}
		// The stack's key has every scope, admin included.
		req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/metrics", nil)
		req.Header.Set("X-API-Key", s.apiKey)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "custos_api_key_credits") {
			t.Fatalf("/metrics with an admin key: %d", resp.StatusCode)
		}
	})
}
