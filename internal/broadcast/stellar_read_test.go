package broadcast

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stellar/go-stellar-sdk/keypair"
	"github.com/stellar/go-stellar-sdk/network"
	"github.com/stellar/go-stellar-sdk/xdr"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/xlm"
	"github.com/custoskms/custos/internal/vectors"
)

// fakeHorizon implements the Horizon endpoints the server completes,
// sequences and submits with: GET /accounts/{id}, GET /fee_stats and POST
// /transactions, which checks an envelope as a validator would: the
// Stellar SDK decodes it, the source account's key verifies the signature
// over the testnet hash, seqNum is the account's sequence + 1, the fee
// covers the base fee per operation and maxTime is still ahead.
type fakeHorizon struct {
	t       *testing.T
	mu      sync.Mutex
	seq     map[string]int64
	applied []xdr.TransactionEnvelope
}

func (f *fakeHorizon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	path := strings.TrimPrefix(r.URL.Path, "/horizon/")
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(path, "accounts/"):
		id := strings.TrimPrefix(path, "accounts/")
		s, ok := f.seq[id]
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
		f.t.Errorf("request %s %s", r.Method, r.URL.Path)
		w.WriteHeader(404)
	}
}

// submit returns a Horizon result code, or "" and the hash when applied.
func (f *fakeHorizon) submit(tx string) (string, string) {
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
	if env.SeqNum() != f.seq[addr]+1 {
		return "tx_bad_seq", ""
	}
	if env.Fee() < 100*env.OperationsCount() {
		return "tx_insufficient_fee", ""
	}
	if tb := env.TimeBounds(); tb != nil && tb.MaxTime != 0 && int64(tb.MaxTime) < time.Now().Unix() {
		return "tx_too_late", ""
	}
	f.seq[addr]++
	f.applied = append(f.applied, env)
	return "", fmt.Sprintf("%x", hash)
}

// An XLM payment envelope queued with seqNum 0, fee 0 and no time bounds is
// completed and sequenced from Horizon, signed with the chain's Sign, and
// Horizon accepts it; two in a row take consecutive sequence numbers.
func TestStellarCompleteSignSubmit(t *testing.T) {
	var r vectors.Signing
	for _, x := range vectors.SigningFor("XLM") {
		if x.Testnet {
			r = x
			break
		}
	}
	key := r.Keys[0].Secret
	acct, err := xlm.XLM.AddressFromPrivateKey(key, true)
	if err != nil {
		t.Fatal(err)
	}
	var env xdr.TransactionEnvelope
	if err := xdr.SafeUnmarshalBase64(r.PendingTransaction.SerializedTransaction, &env); err != nil {
		t.Fatal(err)
	}
	env.V1.Tx.SeqNum, env.V1.Tx.Fee, env.V1.Tx.Cond = 0, 0, xdr.Preconditions{Type: xdr.PreconditionTypePrecondNone}
	incomplete, _ := xdr.MarshalBase64(env)

	f := &fakeHorizon{t: t, seq: map[string]int64{acct: 123 << 32}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cl, err := DialStellar(srv.URL + "/horizon")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := xlm.XLM.ValidateTx(incomplete, true); err != nil {
		t.Fatalf("ValidateTx refuses the incomplete form: %v", err)
	}
	if _, err := xlm.XLM.Sign(ctx, chain.SignRequest{Serialized: incomplete, Testnet: true, Keys: []string{key}}); !errors.Is(err, chain.ErrInvalidTx) || !strings.Contains(err.Error(), "seqNum") {
		t.Fatalf("Sign of an incomplete envelope: %v", err)
	}
	if m, err := xlm.XLM.MissingFields(incomplete); err != nil || strings.Join(m, ",") != "fee" {
		t.Fatalf("MissingFields = %v, %v", m, err)
	}
	for i := range 2 {
		done, err := xlm.XLM.CompleteFromNode(ctx, cl, incomplete, true)
		if err != nil {
			t.Fatal(err)
		}
		sender, seq, err := xlm.XLM.Sequence(done, true)
		if err != nil || sender != acct || seq != nil {
			t.Fatalf("Sequence = %s, %v, %v", sender, seq, err)
		}
		next, err := xlm.XLM.NextSequence(ctx, cl, sender)
		if err != nil || next != uint64(123<<32+1+i) {
			t.Fatalf("NextSequence = %d, %v", next, err)
		}
		if done, err = xlm.XLM.WithSequence(done, next); err != nil {
			t.Fatal(err)
		}
		signed, err := xlm.XLM.Sign(ctx, chain.SignRequest{Serialized: done, Testnet: true, Keys: []string{key}})
		if err != nil {
			t.Fatal(err)
		}
		if id, err := cl.Broadcast(ctx, signed.TxData); err != nil || id != signed.TxID {
			t.Fatalf("submit %d: %s, %v", i, id, err)
		}
		if expired, err := xlm.XLM.Expired(ctx, cl, done); err != nil || expired {
			t.Errorf("Expired right after completion: %v, %v", expired, err)
		}
	}
	if len(f.applied) != 2 {
		t.Fatalf("%d applied", len(f.applied))
	}
	now := time.Now().Unix()
	for i, e := range f.applied {
		tb := e.TimeBounds()
		if e.Fee() != 250 || e.SeqNum() != 123<<32+1+int64(i) || tb == nil || tb.MinTime != 0 ||
			int64(tb.MaxTime) < now+int64(xlm.TimeWindow.Seconds())-60 || int64(tb.MaxTime) > now+int64(xlm.TimeWindow.Seconds()) {
			t.Errorf("applied %d: fee %d seq %d time bounds %+v", i, e.Fee(), e.SeqNum(), tb)
		}
	}

	// The window: an envelope whose maxTime passed is expired, and Horizon
	// would refuse it.
	env.V1.Tx.Cond = xdr.Preconditions{Type: xdr.PreconditionTypePrecondTime, TimeBounds: &xdr.TimeBounds{MaxTime: xdr.TimePoint(now - 1)}}
	late, _ := xdr.MarshalBase64(env)
	if expired, err := xlm.XLM.Expired(ctx, cl, late); err != nil || !expired {
		t.Errorf("Expired after maxTime: %v, %v", expired, err)
	}

	// An account the ledger does not hold: the node's verdict.
	if _, err := cl.AccountSequence(ctx, "GAAZI4TCR3TY5OJHCTJC2A4QSY6CJWJH5IAJTGKIN2ER7LBNVKOCCWN7"); !errors.Is(err, ErrRejected) {
		t.Errorf("unfunded account: %v", err)
	}
}
