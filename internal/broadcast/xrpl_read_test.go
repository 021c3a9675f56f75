package broadcast

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/custoskms/custos/internal/broadcast/nodetest"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/xrp"
	"github.com/custoskms/custos/internal/vectors"
)

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
	f := &nodetest.Rippled{T: t, Seq: map[string]uint32{acct: 41}, Validated: 90_000_000}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
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
	if len(f.Submitted) != 2 {
		t.Fatalf("%d applied", len(f.Submitted))
	}
	for i, tx := range f.Submitted {
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
		f.SetValidated(c.validated)
		if got, err := xrp.XRP.Expired(ctx, cl, done); err != nil || got != c.expired {
			t.Errorf("Expired at validated %d = %v, %v", c.validated, got, err)
		}
	}
}

// Node answers: an account the ledger does not hold is the node's verdict
// (ErrRejected), a busy or unsynced server is unavailable.
func TestXRPLReadErrors(t *testing.T) {
	f := &nodetest.Rippled{T: t, Seq: map[string]uint32{}, Validated: 5, ErrorOf: map[string]string{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cl, _ := DialXRPL(srv.URL)
	ctx := context.Background()
	if _, err := cl.AccountSequence(ctx, "rNsoKrTUnqRBWUAKeeFo7veNo5XepQyVvN"); !errors.Is(err, ErrRejected) {
		t.Errorf("unfunded account: %v", err)
	}
	f.ErrorOf["fee"] = "tooBusy"
	f.ErrorOf["ledger"] = "noNetwork"
	if _, err := cl.Fees(ctx); !errors.Is(err, ErrUnavailable) {
		t.Errorf("busy fee: %v", err)
	}
	if _, err := cl.ValidatedLedger(ctx); !errors.Is(err, ErrUnavailable) {
		t.Errorf("unsynced ledger: %v", err)
	}
}
