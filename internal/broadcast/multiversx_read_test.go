package broadcast

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/chain/egld"
	"github.com/custoskms/custos/internal/vectors"
)

// fakeGateway implements the MultiversX gateway endpoints the server
// completes, sequences and sends with: GET /address/{bech32}/nonce, GET
// /network/config and POST /transaction/send, which checks a transaction as
// the network would: ed25519 over the signing JSON (the sent JSON without
// its signature) with the sender's key, the account's nonce, the chain id.
type fakeGateway struct {
	t       *testing.T
	mu      sync.Mutex
	chainID string
	nonce   map[string]uint64
	sent    []string
}

var sigMember = regexp.MustCompile(`,"signature":"([0-9a-f]*)"}$`)

func (f *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
		ok(fmt.Sprintf(`{"nonce":%d}`, f.nonce[strings.TrimSuffix(strings.TrimPrefix(p, "/address/"), "/nonce")]))
	case r.Method == http.MethodGet && p == "/network/config":
		ok(`{"config":{"erd_chain_id":"` + f.chainID + `","erd_denomination":18,"erd_gas_per_data_byte":1500,` +
			`"erd_min_gas_limit":50000,"erd_min_gas_price":1000000000,"erd_min_transaction_version":1,"erd_round_duration":6000}}`)
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
		case tx.ChainID != f.chainID:
			refuse("invalid chain ID")
		case tx.Nonce < f.nonce[tx.Sender]:
			refuse("transaction generation failed: lowerNonceInTx")
		case tx.Nonce > f.nonce[tx.Sender]:
			refuse("nonce too high")
		default:
			f.nonce[tx.Sender]++
			f.sent = append(f.sent, string(body))
			tx, err := egld.ParseSigned(string(body))
			if err != nil {
				refuse(err.Error())
				return
			}
			ok(`{"txHash":"` + tx.Hash() + `"}`)
		}
	default:
		f.t.Errorf("request %s %s", r.Method, r.URL.Path)
		w.WriteHeader(404)
	}
}

// Each Tatum-form EGLD vector ({from, to, value, data}) is completed and
// sequenced from a gateway answering what the vector's node answered,
// signed with the chain's Sign, and the result is Tatum's signed
// transaction byte for byte; the gateway accepts it (signature, nonce, chain
// id) and a second one in a row takes the next nonce.
func TestMultiversXCompleteSignSubmit(t *testing.T) {
	ctx := context.Background()
	n := 0
	for _, r := range vectors.SigningFor("EGLD") {
		if r.Format != "tatum" {
			continue
		}
		n++
		var want chaintest.Expected
		if err := json.Unmarshal(r.Expected, &want); err != nil {
			t.Fatal(err)
		}
		var signedWant struct {
			Nonce uint64 `json:"nonce"`
		}
		_ = json.Unmarshal([]byte(want.Signed), &signedWant)
		chainID := "1"
		if r.Testnet {
			chainID = "T"
		}
		f := &fakeGateway{t: t, chainID: chainID, nonce: map[string]uint64{want.From: signedWant.Nonce}}
		srv := httptest.NewServer(f)
		t.Cleanup(srv.Close)
		cl, err := DialMultiversX(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		key := chaintest.VectorKey(r)
		incomplete := r.PendingTransaction.SerializedTransaction
		if err := egld.EGLD.ValidateTx(incomplete, r.Testnet); err != nil {
			t.Fatalf("ValidateTx: %v", err)
		}
		if _, err := egld.EGLD.Sign(ctx, chain.SignRequest{Serialized: incomplete, Testnet: r.Testnet, Keys: []string{key}}); !errors.Is(err, chain.ErrInvalidTx) || !strings.Contains(err.Error(), "nonce") {
			t.Fatalf("Sign of an incomplete transaction: %v", err)
		}
		if m, err := egld.EGLD.MissingFields(incomplete); err != nil || strings.Join(m, ",") != "gasPrice,gasLimit,chainID,version" {
			t.Fatalf("MissingFields = %v, %v", m, err)
		}
		for i := range 2 {
			done, err := egld.EGLD.CompleteFromNode(ctx, cl, incomplete, r.Testnet)
			if err != nil {
				t.Fatal(err)
			}
			sender, seq, err := egld.EGLD.Sequence(done, r.Testnet)
			if err != nil || sender != want.From || seq != nil {
				t.Fatalf("Sequence = %s, %v, %v", sender, seq, err)
			}
			next, err := egld.EGLD.NextSequence(ctx, cl, sender)
			if err != nil || next != signedWant.Nonce+uint64(i) {
				t.Fatalf("NextSequence = %d, %v", next, err)
			}
			if done, err = egld.EGLD.WithSequence(done, next); err != nil {
				t.Fatal(err)
			}
			signed, err := egld.EGLD.Sign(ctx, chain.SignRequest{Serialized: done, Testnet: r.Testnet, Keys: []string{key}})
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 && (signed.TxData != want.Signed || signed.TxID != want.TxID) {
				t.Errorf("%s:\n got %s %s\nwant %s %s", r.PendingTransaction.ID, signed.TxData, signed.TxID, want.Signed, want.TxID)
			}
			if id, err := cl.Broadcast(ctx, signed.TxData); err != nil || id != signed.TxID {
				t.Fatalf("send %d: %s, %v", i, id, err)
			}
		}
		if len(f.sent) != 2 {
			t.Errorf("%d sent", len(f.sent))
		}
		// A node on the other network is refused before anything is filled.
		f.chainID = map[bool]string{true: "1", false: "T"}[r.Testnet]
		if _, err := egld.EGLD.CompleteFromNode(ctx, cl, incomplete, r.Testnet); !errors.Is(err, chain.ErrWrongNetwork) {
			t.Errorf("node on the other network: %v", err)
		}
	}
	if n == 0 {
		t.Fatal("no Tatum-form EGLD vectors")
	}
}
