package nodetest

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	binarycodec "github.com/Peersyst/xrpl-go/binary-codec"
	"github.com/Peersyst/xrpl-go/keypairs"
	xrplcrypto "github.com/Peersyst/xrpl-go/pkg/crypto"

	"github.com/custoskms/custos/internal/chain/xrp"
)

// Rippled implements the rippled JSON-RPC methods the server completes,
// sequences, submits and looks up with (account_info, fee, ledger, submit,
// tx). submit
// checks a blob as a ledger would before applying it: xrpl-go decodes it and
// verifies TxnSignature with SigningPubKey, the key must be Account's, and
// Sequence must be the account's next.
type Rippled struct {
	T  testing.TB
	mu sync.Mutex
	// Seq is the account's next Sequence; Validated the latest validated ledger.
	Seq       map[string]uint32
	Validated uint32
	ErrorOf   map[string]string // method → error code to answer
	Submitted []map[string]any
	Hashes    []string // the ids of Submitted
}

// SetValidated moves the validated ledger.
func (f *Rippled) SetValidated(n uint32) { f.mu.Lock(); f.Validated = n; f.mu.Unlock() }

// Applied is what submit accepted, in order, and the ids it answered.
func (f *Rippled) Applied() ([]map[string]any, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.Submitted...), append([]string(nil), f.Hashes...)
}

func (f *Rippled) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/" || r.Header.Get("Content-Type") != "application/json" {
		f.T.Errorf("request %s %s (%s), want POST / (application/json)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	body, _ := io.ReadAll(r.Body)
	status, answer := f.answer(body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

func (f *Rippled) answer(body []byte) (int, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var req struct {
		Method string           `json:"method"`
		Params []map[string]any `json:"params"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.Params) != 1 {
		f.T.Errorf("request body %s", body)
		return 400, ""
	}
	p := req.Params[0]
	if e := f.ErrorOf[req.Method]; e != "" {
		return 200, `{"result":{"status":"error","error":"` + e + `","error_message":"refused by the test"}}`
	}
	switch req.Method {
	case "account_info":
		if p["ledger_index"] != "current" {
			f.T.Errorf("account_info ledger_index %v, want current", p["ledger_index"])
		}
		s, ok := f.Seq[fmt.Sprint(p["account"])]
		if !ok {
			return 200, `{"result":{"status":"error","error":"actNotFound","error_message":"Account not found."}}`
		}
		return 200, fmt.Sprintf(`{"result":{"status":"success","ledger_current_index":%d,"account_data":{"Account":%q,"Sequence":%d,"Balance":"100000000"}}}`, f.Validated+1, p["account"], s)
	case "fee":
		return 200, `{"result":{"status":"success","ledger_current_index":1,"drops":{"base_fee":"10","median_fee":"5000","minimum_fee":"10","open_ledger_fee":"12"}}}`
	case "ledger":
		if p["ledger_index"] != "validated" {
			f.T.Errorf("ledger ledger_index %v, want validated", p["ledger_index"])
		}
		return 200, fmt.Sprintf(`{"result":{"status":"success","ledger_index":%d,"ledger_hash":"AB","validated":true,"ledger":{"ledger_index":"%d","closed":true}}}`, f.Validated, f.Validated)
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
		if want := f.Seq[acct]; fmt.Sprint(tx["Sequence"]) != fmt.Sprint(want) {
			return 200, fmt.Sprintf(`{"result":{"status":"success","engine_result":"tefPAST_SEQ","engine_result_message":"Sequence %v, account at %d"}}`, tx["Sequence"], want)
		}
		f.Seq[acct]++
		f.Submitted = append(f.Submitted, tx)
		id, _ := xrp.TxID(blob)
		f.Hashes = append(f.Hashes, id)
		return 200, `{"result":{"status":"success","engine_result":"tesSUCCESS","engine_result_message":"applied","tx_json":{"hash":"` + id + `"}}}`
	case "tx":
		// A submit answered tefPAST_SEQ is looked up: it may be the one applied.
		id := fmt.Sprint(p["transaction"])
		for _, h := range f.Hashes {
			if h == id {
				return 200, `{"result":{"status":"success","hash":"` + id + `","tx_json":{"hash":"` + id + `"},"validated":true}}`
			}
		}
		return 200, `{"result":{"status":"error","error":"txnNotFound","error_message":"Transaction not found."}}`
	}
	f.T.Errorf("method %s", req.Method)
	return 200, `{}`
}
