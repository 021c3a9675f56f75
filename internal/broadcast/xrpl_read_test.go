package broadcast

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	binarycodec "github.com/Peersyst/xrpl-go/binary-codec"
	"github.com/Peersyst/xrpl-go/keypairs"
	xrplcrypto "github.com/Peersyst/xrpl-go/pkg/crypto"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/xrp"
	"github.com/custoskms/custos/internal/vectors"
)

// fakeRippled implements the rippled JSON-RPC methods the server completes,
// sequences and submits with (account_info, fee, ledger, submit). submit
// checks a blob as a ledger would before applying it: xrpl-go decodes it and
// verifies TxnSignature with SigningPubKey, the key must be Account's, and
// Sequence must be the account's next.
type fakeRippled struct {
	t  *testing.T
	mu sync.Mutex
	// seq is the account's next Sequence; validated the latest validated ledger.
	seq       map[string]uint32
	validated uint32
	errorOf   map[string]string // method → error code to answer
	submitted []map[string]any
}

func (f *fakeRippled) answer(body []byte) (int, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var req struct {
		Method string           `json:"method"`
		Params []map[string]any `json:"params"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.Params) != 1 {
		f.t.Errorf("request body %s", body)
		return 400, ""
	}
	p := req.Params[0]
	if e := f.errorOf[req.Method]; e != "" {
		return 200, `{"result":{"status":"error","error":"` + e + `","error_message":"refused by the test"}}`
	}
	switch req.Method {
	case "account_info":
		if p["ledger_index"] != "current" {
			f.t.Errorf("account_info ledger_index %v, want current", p["ledger_index"])
		}
		s, ok := f.seq[fmt.Sprint(p["account"])]
		if !ok {
			return 200, `{"result":{"status":"error","error":"actNotFound","error_message":"Account not found."}}`
		}
		return 200, fmt.Sprintf(`{"result":{"status":"success","ledger_current_index":%d,"account_data":{"Account":%q,"Sequence":%d,"Balance":"100000000"}}}`, f.validated+1, p["account"], s)
	case "fee":
		return 200, `{"result":{"status":"success","ledger_current_index":1,"drops":{"base_fee":"10","median_fee":"5000","minimum_fee":"10","open_ledger_fee":"12"}}}`
	case "ledger":
		if p["ledger_index"] != "validated" {
			f.t.Errorf("ledger ledger_index %v, want validated", p["ledger_index"])
		}
		return 200, fmt.Sprintf(`{"result":{"status":"success","ledger_index":%d,"ledger_hash":"AB","validated":true,"ledger":{"ledger_index":"%d","closed":true}}}`, f.validated, f.validated)
	case "submit":
		blob := fmt.Sprint(p["tx_blob"])
		tx, err := binarycodec.Decode(blob)
		if err != nil {
			return 200, `{"result":{"status":"error","error":"invalidTransaction","error_message":"` + err.Error() + `"}}`
		}
		// Read before EncodeForSigning, which removes TxnSignature from the map.
		pub, sig := fmt.Sprint(tx["SigningPubKey"]), fmt.Sprint(tx["TxnSignature"])
		msg, err := binarycodec.EncodeForSigning(tx)
		raw, _ := hex.DecodeString(msg)
		if err != nil || !xrplcrypto.SECP256K1().Validate(string(raw), pub, sig) {
			return 200, `{"result":{"status":"success","engine_result":"temBAD_SIGNATURE","engine_result_message":"bad signature"}}`
		}
		acct := fmt.Sprint(tx["Account"])
		if a, _ := keypairs.DeriveClassicAddress(pub); a != acct {
			return 200, `{"result":{"status":"success","engine_result":"tefBAD_AUTH","engine_result_message":"not the account's key"}}`
		}
		if want := f.seq[acct]; fmt.Sprint(tx["Sequence"]) != fmt.Sprint(want) {
			return 200, fmt.Sprintf(`{"result":{"status":"success","engine_result":"tefPAST_SEQ","engine_result_message":"Sequence %v, account at %d"}}`, tx["Sequence"], want)
		}
		f.seq[acct]++
		f.submitted = append(f.submitted, tx)
		id, _ := xrp.TxID(blob)
		return 200, `{"result":{"status":"success","engine_result":"tesSUCCESS","engine_result_message":"applied","tx_json":{"hash":"` + id + `"}}}`
	}
	f.t.Errorf("method %s", req.Method)
	return 200, `{}`
}

// An XRP payment queued without Sequence, Fee and LastLedgerSequence is
// completed and sequenced from a rippled speaking JSON-RPC, signed with the
// chain's Sign, and the server accepts it: signature valid, Sequence the
// account's. Two in a row take consecutive sequences.
func TestXRPLCompleteSignSubmit(t *testing.T) {
	r := vectors.SigningFor("XRP")[0]
	key := r.Keys[0].Secret
	acct, err := xrp.XRP.AddressFromPrivateKey(key, r.Testnet)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeRippled{t: t, seq: map[string]uint32{acct: 41}, validated: 90_000_000}
	srv := nodeServer(t, "/", "application/json", f.answer)
	cl, err := DialXRPL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	incomplete := `{"TransactionType":"Payment","Account":"` + acct + `","Destination":"rNsoKrTUnqRBWUAKeeFo7veNo5XepQyVvN","Amount":"1000000","Flags":2147483648}`
	if err := xrp.XRP.ValidateTx(incomplete, r.Testnet); err != nil {
		t.Fatalf("ValidateTx refuses the incomplete form: %v", err)
	}
	if _, err := xrp.XRP.Sign(ctx, chain.SignRequest{Serialized: incomplete, Testnet: r.Testnet, Keys: []string{key}}); !errors.Is(err, chain.ErrInvalidTx) {
		t.Fatalf("Sign of an incomplete transaction: %v", err)
	}
	missing, err := xrp.XRP.MissingFields(incomplete)
	if err != nil || !reflect.DeepEqual(missing, []string{"Fee"}) {
		t.Fatalf("MissingFields = %v, %v", missing, err)
	}
	for i := range 2 {
		done, err := xrp.XRP.CompleteFromNode(ctx, cl, incomplete, r.Testnet)
		if err != nil {
			t.Fatal(err)
		}
		sender, seq, err := xrp.XRP.Sequence(done, r.Testnet)
		if err != nil || sender != acct || seq != nil {
			t.Fatalf("Sequence = %s, %v, %v", sender, seq, err)
		}
		next, err := xrp.XRP.NextSequence(ctx, cl, sender)
		if err != nil || next != uint64(41+i) {
			t.Fatalf("NextSequence = %d, %v", next, err)
		}
		if done, err = xrp.XRP.WithSequence(done, next); err != nil {
			t.Fatal(err)
		}
		if _, seq, _ = xrp.XRP.Sequence(done, r.Testnet); seq == nil || *seq != next {
			t.Fatalf("Sequence after WithSequence = %v", seq)
		}
		signed, err := xrp.XRP.Sign(ctx, chain.SignRequest{Serialized: done, Testnet: r.Testnet, Keys: []string{key}})
		if err != nil {
			t.Fatal(err)
		}
		if id, err := cl.Broadcast(ctx, signed.TxData); err != nil || id != signed.TxID {
			t.Fatalf("submit %d: %s, %v", i, id, err)
		}
	}
	if len(f.submitted) != 2 {
		t.Fatalf("%d applied", len(f.submitted))
	}
	for i, tx := range f.submitted {
		if tx["Fee"] != "12" || fmt.Sprint(tx["LastLedgerSequence"]) != "90000075" || fmt.Sprint(tx["Sequence"]) != fmt.Sprint(41+i) {
			t.Errorf("applied %d: Fee %v LastLedgerSequence %v Sequence %v", i, tx["Fee"], tx["LastLedgerSequence"], tx["Sequence"])
		}
	}

	// The window: a transaction whose LastLedgerSequence the validated
	// ledger reached can no longer be included.
	done, _ := xrp.XRP.CompleteFromNode(ctx, cl, incomplete, r.Testnet)
	for _, c := range []struct {
		validated uint32
		expired   bool
	}{{90_000_074, false}, {90_000_075, true}, {90_000_100, true}} {
		f.validated = c.validated
		if got, err := xrp.XRP.Expired(ctx, cl, done); err != nil || got != c.expired {
			t.Errorf("Expired at validated %d = %v, %v", c.validated, got, err)
		}
	}
}

// Node answers: an account the ledger does not hold is the node's verdict
// (ErrRejected), a busy or unsynced server is unavailable.
func TestXRPLReadErrors(t *testing.T) {
	f := &fakeRippled{t: t, seq: map[string]uint32{}, validated: 5, errorOf: map[string]string{}}
	srv := nodeServer(t, "/", "application/json", f.answer)
	cl, _ := DialXRPL(srv.URL)
	ctx := context.Background()
	if _, err := cl.AccountSequence(ctx, "rNsoKrTUnqRBWUAKeeFo7veNo5XepQyVvN"); !errors.Is(err, ErrRejected) {
		t.Errorf("unfunded account: %v", err)
	}
	f.errorOf["fee"] = "tooBusy"
	f.errorOf["ledger"] = "noNetwork"
	if _, err := cl.Fees(ctx); !errors.Is(err, ErrUnavailable) {
		t.Errorf("busy fee: %v", err)
	}
	if _, err := cl.ValidatedLedger(ctx); !errors.Is(err, ErrUnavailable) {
		t.Errorf("unsynced ledger: %v", err)
	}
}
