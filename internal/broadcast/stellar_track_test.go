package broadcast

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stellar/go-stellar-sdk/xdr"

	"github.com/custoskms/custos/internal/vectors"
)

// TestStellarLookup follows an envelope through Horizon's documented answers
// (GET /transactions/{hash}, GET /accounts/{id}, the root's
// history_latest_ledger): successful, unsuccessful, unknown with its
// sequence free or consumed, and answers not to be trusted.
func TestStellarLookup(t *testing.T) {
	var env xdr.TransactionEnvelope
	if err := xdr.SafeUnmarshalBase64(vectors.SigningFor("XLM")[0].PendingTransaction.SerializedTransaction, &env); err != nil {
		t.Fatal(err)
	}
	env.V1.Tx.SeqNum = 5000
	data, _ := xdr.MarshalBase64(env)
	src := env.SourceAccount().ToAccountId()
	acct := src.Address()
	hash := strings.Repeat("ab", 32)
	failed, _ := xdr.MarshalBase64(xdr.TransactionResult{FeeCharged: 100, Result: xdr.TransactionResultResult{Code: xdr.TransactionResultCodeTxBadSeq}})

	var (
		mu     sync.Mutex
		tx     string // GET /transactions/{hash}'s body; "" is a 404
		seq    = "4999"
		latest = 70
		closed string // the root's history_latest_ledger_closed_at; "" leaves it out
		asked  []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, r.URL.Path)
		w.Header().Set("Content-Type", "application/hal+json")
		switch r.URL.Path {
		case "/transactions/" + hash:
			if tx == "" {
				w.WriteHeader(404)
				fmt.Fprint(w, `{"type":"https://stellar.org/horizon-errors/not_found","title":"Resource Missing","status":404}`)
				return
			}
			fmt.Fprint(w, tx)
		case "/accounts/" + acct:
			fmt.Fprintf(w, `{"id":%q,"account_id":%q,"sequence":%q,"subentry_count":0}`, acct, acct, seq)
		case "/", "":
			at := ""
			if closed != "" {
				at = fmt.Sprintf(`"history_latest_ledger_closed_at":%q,`, closed)
			}
			fmt.Fprintf(w, `{"horizon_version":"2.32.0","history_latest_ledger":%d,%s"core_latest_ledger":%d,"network_passphrase":"Test SDF Network ; September 2015"}`, latest, at, latest)
		default:
			t.Errorf("GET %s", r.URL.Path)
			w.WriteHeader(404)
		}
	}))
	t.Cleanup(srv.Close)
	cl, err := DialStellar(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	look := lookupOf(t, cl, hash)

	tx = `{"id":"` + hash + `","hash":"` + hash + `","ledger":68,"successful":true,"source_account":"` + acct + `","source_account_sequence":"5000","fee_charged":"100","max_fee":"200","operation_count":1}`
	if o := look(data); o != (Outcome{Progress: Mined, BlockNumber: 68, Confirmations: 3, Fee: "100"}) {
		t.Fatalf("successful: %+v", o)
	}
	tx = `{"id":"` + hash + `","hash":"` + hash + `","ledger":70,"successful":false,"fee_charged":100,"result_xdr":"` + failed + `"}`
	if o := look(data); o != (Outcome{Progress: Mined, BlockNumber: 70, Confirmations: 1, Fee: "100", Failed: true, Error: "transaction failed: TransactionResultCodeTxBadSeq"}) {
		t.Fatalf("unsuccessful: %+v", o)
	}
	untrusted(t, cl, hash, data, func(a string) { tx = a }, map[string]string{
		"another hash":      `{"hash":"` + strings.Repeat("cd", 32) + `","ledger":70,"successful":true}`,
		"no successful":     `{"hash":"` + hash + `","ledger":70}`,
		"no ledger":         `{"hash":"` + hash + `","successful":true}`,
		"not json":          `<html>`,
		"a negative ledger": `{"hash":"` + hash + `","ledger":-1,"successful":true}`,
	})

	tx = ""
	if o := look(data); o != (Outcome{Progress: Missing}) {
		t.Fatalf("unknown, sequence free: %+v", o)
	}
	if o := look(""); o != (Outcome{Progress: Unknown}) {
		t.Fatalf("unknown without its envelope: %+v", o)
	}
	seq, asked = "5000", nil
	if o := look(data); o.Progress != Dropped || !strings.Contains(o.Error, "sequence 5000") {
		t.Fatalf("unknown, sequence consumed: %+v", o)
	}
	if got := strings.Join(asked, ","); got != "/transactions/"+hash+",/accounts/"+acct+",/transactions/"+hash {
		t.Fatalf("asked %s, want the hash asked again before Dropped", got)
	}

	// Time bounds: the latest ledger's close time, not this clock, decides.
	seq = "4999"
	bounded := func(maxTime time.Time) string {
		e := env
		e.V1.Tx.Cond = xdr.Preconditions{Type: xdr.PreconditionTypePrecondTime, TimeBounds: &xdr.TimeBounds{MaxTime: xdr.TimePoint(maxTime.Unix())}}
		d, _ := xdr.MarshalBase64(e)
		return d
	}
	maxTime := time.Now().Add(-time.Minute).Truncate(time.Second)
	past := bounded(maxTime)
	closed, asked = maxTime.UTC().Format(time.RFC3339), nil
	if o := look(past); o != (Outcome{Progress: Missing}) {
		t.Fatalf("maxTime passed by this clock, not by the latest ledger's: %+v", o)
	}
	closed = ""
	if o := look(past); o != (Outcome{Progress: Missing}) {
		t.Fatalf("maxTime passed, Horizon tells no close time: %+v", o)
	}
	closed, asked = maxTime.Add(5*time.Second).UTC().Format(time.RFC3339), nil
	if o := look(past); o.Progress != Expired || !strings.Contains(o.Error, maxTime.UTC().Format(time.RFC3339)) {
		t.Fatalf("a ledger closed after maxTime: %+v", o)
	}
	if got := strings.Join(asked, ","); got != "/transactions/"+hash+",/accounts/"+acct+",/,/transactions/"+hash {
		t.Fatalf("asked %s, want the close time, then the hash again before Expired", got)
	}
	asked = nil
	if o := look(bounded(time.Now().Add(time.Hour))); o != (Outcome{Progress: Missing}) {
		t.Fatalf("maxTime ahead: %+v", o)
	}
	if got := strings.Join(asked, ","); got != "/transactions/"+hash+",/accounts/"+acct {
		t.Fatalf("asked %s with maxTime ahead, want no close time asked", got)
	}
	seq = "5000"
	if o := look(past); o.Progress != Dropped {
		t.Fatalf("sequence consumed and maxTime passed: %+v, want Dropped (another transaction took it)", o)
	}
}
