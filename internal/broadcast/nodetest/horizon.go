package nodetest

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stellar/go-stellar-sdk/keypair"
	"github.com/stellar/go-stellar-sdk/network"
	"github.com/stellar/go-stellar-sdk/xdr"
)

// Horizon implements the Horizon endpoints the server completes,
// sequences and submits with: GET /accounts/{id}, GET /fee_stats and POST
// /transactions, which checks an envelope as a validator would: the
// Stellar SDK decodes it, the source account's key verifies the signature
// over the testnet hash, seqNum is the account's sequence + 1, the fee
// covers the base fee per operation and maxTime is still ahead.
type Horizon struct {
	T       testing.TB
	mu      sync.Mutex
	Seq     map[string]int64 // an account's current sequence number
	Applied []xdr.TransactionEnvelope
	Hashes  []string // the ids of Applied
}

// Accepted is what POST /transactions applied, in order, and the hashes it answered.
func (f *Horizon) Accepted() ([]xdr.TransactionEnvelope, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]xdr.TransactionEnvelope(nil), f.Applied...), append([]string(nil), f.Hashes...)
}

func (f *Horizon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	path := strings.TrimPrefix(r.URL.Path, "/horizon/")
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(path, "accounts/"):
		id := strings.TrimPrefix(path, "accounts/")
		s, ok := f.Seq[id]
		if !ok {
			w.WriteHeader(404)
			_, _ = io.WriteString(w, `{"type":"https://stellar.org/horizon-errors/not_found","title":"Resource Missing","status":404}`)
			return
		}
		fmt.Fprintf(w, `{"id":%q,"account_id":%q,"sequence":"%d","subentry_count":0}`, id, id, s)
	case r.Method == http.MethodGet && path == "fee_stats":
		_, _ = io.WriteString(w, `{"last_ledger":"1000","last_ledger_base_fee":"100","ledger_capacity_usage":"0.97",`+
			`"fee_charged":{"max":"5000","min":"100","mode":"100","p10":"100","p50":"100","p90":"250","p99":"5000"},`+
			`"max_fee":{"max":"100000","min":"100","mode":"100","p10":"100","p50":"150","p90":"1000","p99":"50000"}}`)
	case r.Method == http.MethodPost && path == "transactions":
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		code, hash := f.submit(form.Get("tx"))
		if code != "" {
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"type":"https://stellar.org/horizon-errors/transaction_failed","title":"Transaction Failed","status":400,"extras":{"result_codes":{"transaction":%q}}}`, code)
			return
		}
		fmt.Fprintf(w, `{"hash":%q,"successful":true}`, hash)
	default:
		f.T.Errorf("request %s %s", r.Method, r.URL.Path)
		w.WriteHeader(404)
	}
}

// submit returns a Horizon result code, or "" and the hash when applied.
func (f *Horizon) submit(tx string) (string, string) {
	var env xdr.TransactionEnvelope
	if err := xdr.SafeUnmarshalBase64(tx, &env); err != nil {
		return "tx_malformed", ""
	}
	hash, err := network.HashTransactionInEnvelope(env, network.TestNetworkPassphrase)
	if err != nil {
		return "tx_malformed", ""
	}
	src := env.SourceAccount().ToAccountId()
	addr := src.Address()
	kp, _ := keypair.ParseAddress(addr)
	sigs := env.Signatures()
	if len(sigs) != 1 || kp.Verify(hash[:], sigs[0].Signature) != nil {
		return "tx_bad_auth", ""
	}
	if env.SeqNum() != f.Seq[addr]+1 {
		return "tx_bad_seq", ""
	}
	if env.Fee() < 100*env.OperationsCount() {
		return "tx_insufficient_fee", ""
	}
	if tb := env.TimeBounds(); tb != nil && tb.MaxTime != 0 && int64(tb.MaxTime) < time.Now().Unix() {
		return "tx_too_late", ""
	}
	f.Seq[addr]++
	f.Applied = append(f.Applied, env)
	f.Hashes = append(f.Hashes, fmt.Sprintf("%x", hash))
	return "", fmt.Sprintf("%x", hash)
}
