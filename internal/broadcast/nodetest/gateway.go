package nodetest

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/custoskms/custos/internal/chain/egld"
)

// Gateway implements the MultiversX gateway endpoints the server
// completes, sequences and sends with: GET /address/{bech32}/nonce, GET
// /network/config, POST /transaction/cost (Tatum's SDK asks it for the gas
// limit: the minimum plus the gas of each data byte, as for a transfer) and
// POST /transaction/send, which checks a transaction as the network would: ed25519 over the signing JSON (the sent JSON without
// its signature) with the sender's key, the account's nonce, the chain id.
type Gateway struct {
	T       testing.TB
	mu      sync.Mutex
	ChainID string
	Nonce   map[string]uint64 // an account's next nonce
	Sent    []string
	Hashes  []string // the ids of Sent
}

// SetChainID moves the gateway to another network.
func (f *Gateway) SetChainID(id string) { f.mu.Lock(); f.ChainID = id; f.mu.Unlock() }

// Accepted is what /transaction/send took, in order, and the hashes it answered.
func (f *Gateway) Accepted() ([]string, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.Sent...), append([]string(nil), f.Hashes...)
}

var sigMember = regexp.MustCompile(`,"signature":"([0-9a-f]*)"}$`)

func (f *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	ok := func(data string) { fmt.Fprintf(w, `{"data":%s,"error":"","code":"successful"}`, data) }
	refuse := func(msg string) {
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"data":null,"error":%q,"code":"bad_request"}`, msg)
	}
	switch p := r.URL.Path; {
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/address/") && strings.HasSuffix(p, "/nonce"):
		ok(fmt.Sprintf(`{"nonce":%d}`, f.Nonce[strings.TrimSuffix(strings.TrimPrefix(p, "/address/"), "/nonce")]))
	case r.Method == http.MethodGet && p == "/network/config":
		ok(`{"config":{"erd_chain_id":"` + f.ChainID + `","erd_denomination":18,"erd_gas_per_data_byte":1500,` +
			`"erd_min_gas_limit":50000,"erd_min_gas_price":1000000000,"erd_min_transaction_version":1,"erd_round_duration":6000}}`)
	case r.Method == http.MethodPost && p == "/transaction/cost":
		var tx struct {
			Data []byte `json:"data"` // base64, as the gateway takes it
		}
		if json.NewDecoder(r.Body).Decode(&tx) != nil {
			refuse("malformed transaction")
			return
		}
		ok(fmt.Sprintf(`{"txGasUnits":%d,"returnMessage":""}`, 50000+1500*len(tx.Data)))
	case r.Method == http.MethodPost && p == "/transaction/send":
		body, _ := io.ReadAll(r.Body)
		m := sigMember.FindSubmatch(body)
		var tx struct {
			Nonce   uint64 `json:"nonce"`
			Sender  string `json:"sender"`
			ChainID string `json:"chainID"`
		}
		if m == nil || json.Unmarshal(body, &tx) != nil {
			refuse("malformed transaction")
			return
		}
		sig, _ := hex.DecodeString(string(m[1]))
		pub, _ := egld.DecodeAddress(tx.Sender)
		unsigned := append(append([]byte(nil), body[:len(body)-len(m[0])]...), '}')
		switch {
		case len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, unsigned, sig):
			refuse("invalid signature")
		case tx.ChainID != f.ChainID:
			refuse("invalid chain ID")
		case tx.Nonce < f.Nonce[tx.Sender]:
			refuse("transaction generation failed: lowerNonceInTx")
		case tx.Nonce > f.Nonce[tx.Sender]:
			refuse("nonce too high")
		default:
			f.Nonce[tx.Sender]++
			f.Sent = append(f.Sent, string(body))
			tx, err := egld.ParseSigned(string(body))
			if err != nil {
				refuse(err.Error())
				return
			}
			f.Hashes = append(f.Hashes, tx.Hash())
			ok(`{"txHash":"` + tx.Hash() + `"}`)
		}
	default:
		f.T.Errorf("request %s %s", r.Method, r.URL.Path)
		w.WriteHeader(404)
	}
}
