package broadcast

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/xrp"
	"github.com/custoskms/custos/internal/vectors"
)

// rippledTx answers tx, account_info (validated) and ledger (validated) as
// rippled's JSON-RPC documents them; tx answers the raw result set for the
// asked hash, or txnNotFound.
type rippledTx struct {
	mu        sync.Mutex
	t         *testing.T
	tx        map[string]string // hash → result object
	seq       uint32            // the account's Sequence in the validated ledger
	validated uint32
	asked     []string
}

func (f *rippledTx) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	var req struct {
		Method string           `json:"method"`
		Params []map[string]any `json:"params"`
	}
	if json.Unmarshal(body, &req) != nil || len(req.Params) != 1 {
		f.t.Errorf("request %s", body)
		return
	}
	p := req.Params[0]
	f.asked = append(f.asked, req.Method)
	switch req.Method {
	case "tx":
		if res, ok := f.tx[fmt.Sprint(p["transaction"])]; ok {
			fmt.Fprintf(w, `{"result":%s}`, res)
			return
		}
		fmt.Fprint(w, `{"result":{"status":"error","error":"txnNotFound","error_message":"Transaction not found.","request":{"command":"tx"}}}`)
	case "account_info":
		if p["ledger_index"] != "validated" {
			f.t.Errorf("account_info ledger_index %v, want validated", p["ledger_index"])
		}
		fmt.Fprintf(w, `{"result":{"status":"success","validated":true,"ledger_index":%d,"account_data":{"Account":%q,"Balance":"99999988","Sequence":%d}}}`, f.validated, p["account"], f.seq)
	case "ledger":
		fmt.Fprintf(w, `{"result":{"status":"success","validated":true,"ledger_index":%d,"ledger_hash":"4BC5"}}`, f.validated)
	default:
		f.t.Errorf("method %s", req.Method)
	}
}

// TestXRPLLookup follows a signed payment through the answers of the method
// tx: validated with tesSUCCESS or a tec result, held unvalidated, unknown
// with its Sequence free, used, or past its LastLedgerSequence.
func TestXRPLLookup(t *testing.T) {
	r := vectors.SigningFor("XRP")[0]
	acct, err := xrp.XRP.AddressFromPrivateKey(r.Keys[0].Secret, r.Testnet)
	if err != nil {
		t.Fatal(err)
	}
	s, err := xrp.XRP.Sign(context.Background(), chain.SignRequest{Testnet: r.Testnet, Keys: []string{r.Keys[0].Secret},
		Serialized: `{"TransactionType":"Payment","Account":"` + acct + `","Destination":"rNsoKrTUnqRBWUAKeeFo7veNo5XepQyVvN","Amount":"1000000","Fee":"12","Sequence":7,"LastLedgerSequence":500,"Flags":2147483648}`})
	if err != nil {
		t.Fatal(err)
	}
	id := s.TxID
	f := &rippledTx{t: t, tx: map[string]string{}, validated: 480}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cl, err := DialXRPL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	look := lookupOf(t, cl, id)

	// API version 1: the transaction's fields beside the others.
	f.tx[id] = `{"status":"success","Account":"` + acct + `","Fee":"12","Sequence":7,"hash":"` + id + `","ledger_index":478,"meta":{"TransactionIndex":0,"TransactionResult":"tesSUCCESS"},"validated":true}`
	if o := look(s.TxData); o != (Outcome{Progress: Mined, BlockNumber: 478, Confirmations: 3, Fee: "12"}) {
		t.Fatalf("validated tesSUCCESS: %+v", o)
	}
	// API version 2: under tx_json.
	f.tx[id] = `{"status":"success","hash":"` + id + `","ledger_index":480,"meta":{"TransactionResult":"tecUNFUNDED_PAYMENT"},"tx_json":{"Account":"` + acct + `","Fee":"15"},"validated":true}`
	if o := look(s.TxData); o != (Outcome{Progress: Mined, BlockNumber: 480, Confirmations: 1, Fee: "15", Failed: true, Error: "tecUNFUNDED_PAYMENT"}) {
		t.Fatalf("validated tec: %+v", o)
	}
	f.tx[id] = `{"status":"success","hash":"` + id + `","ledger_index":481,"meta":{"TransactionResult":"tesSUCCESS"},"validated":false}`
	if o := look(s.TxData); o != (Outcome{Progress: Pending}) {
		t.Fatalf("not validated: %+v", o)
	}
	// Answers that cannot be trusted are a node that cannot be asked.
	untrusted(t, cl, id, s.TxData, func(a string) { f.tx[id] = a }, map[string]string{
		"another hash":       `{"status":"success","hash":"` + strings.Repeat("A", 64) + `","ledger_index":478,"meta":{"TransactionResult":"tesSUCCESS"},"validated":true}`,
		"a tem result":       `{"status":"success","hash":"` + id + `","ledger_index":478,"meta":{"TransactionResult":"temMALFORMED"},"validated":true}`,
		"no ledger":          `{"status":"success","hash":"` + id + `","meta":{"TransactionResult":"tesSUCCESS"},"validated":true}`,
		"meta not an object": `{"status":"success","hash":"` + id + `","ledger_index":478,"meta":"0011","validated":true}`,
	})

	delete(f.tx, id)
	f.seq = 7
	if o := look(s.TxData); o != (Outcome{Progress: Missing}) {
		t.Fatalf("unknown, sequence free: %+v", o)
	}
	if o := look(""); o != (Outcome{Progress: Unknown}) {
		t.Fatalf("unknown without its blob: %+v", o)
	}
	f.validated = 500
	if o := look(s.TxData); o.Progress != Expired || !strings.Contains(o.Error, "LastLedgerSequence 500") {
		t.Fatalf("unknown, LastLedgerSequence reached: %+v", o)
	}
	f.validated, f.seq, f.asked = 490, 8, nil
	if o := look(s.TxData); o.Progress != Dropped || !strings.Contains(o.Error, "sequence 7") {
		t.Fatalf("unknown, sequence used: %+v", o)
	}
	if got := strings.Join(f.asked, ","); got != "tx,account_info,tx" {
		t.Fatalf("asked %s, want tx asked again before Dropped", got)
	}
}
