package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/evm"
)

// decodeCounting is ETH counting its decodings; it signs only decoded
// transactions.
type decodeCounting struct {
	*evm.Chain
	decodes atomic.Int64
}

func (c *decodeCounting) Decode(serialized string) (chain.Decoded, error) {
	c.decodes.Add(1)
	return c.Chain.Decode(serialized)
}

func (c *decodeCounting) Sign(ctx context.Context, req chain.SignRequest) (chain.Signed, error) {
	if req.Decoded == nil {
		return chain.Signed{}, errors.New("asked to sign a transaction that was not decoded")
	}
	return c.Chain.Sign(ctx, req)
}

// The daemon decodes each transaction of an EVM chain once in a run: the
// decoding the run is ordered by is the one decided on and signed, and the
// signatures are those of the serialized transactions.
func TestDaemonDecodesEachTransactionOnce(t *testing.T) {
	from, err := evm.ETH.AddressFromPrivateKey(testPK, true)
	if err != nil {
		t.Fatal(err)
	}
	api := newFakeAPI(t)
	keys := newMemKeys(Wallet{WalletRef: WalletRef{SignatureID: sigPK, Chain: "ETH", Testnet: true}, PrivateKey: testPK})
	txs := []PendingTx{
		// The sender's line: signed in nonce order, whatever the order served.
		{ID: txID(1), Chain: "ETH", SerializedTransaction: strings.Replace(benchTatumTx, `"nonce":0`, `"from":"`+from+`","nonce":1`, 1), Hashes: []string{sigPK}},
		{ID: txID(2), Chain: "ETH", SerializedTransaction: strings.Replace(benchTatumTx, `"nonce":0`, `"from":"`+from+`","nonce":0`, 1), Hashes: []string{sigPK}},
		{ID: txID(3), Chain: "ETH", SerializedTransaction: benchTatumTx, Hashes: []string{sigPK}},
		{ID: txID(4), Chain: "ETH", SerializedTransaction: unsignedEIP1559(11155111, 7, [20]byte{0xee}), Hashes: []string{sigPK}},
	}
	for _, tx := range txs {
		api.add(tx)
	}
	c := &decodeCounting{Chain: evm.ETH}
	d, err := New(Config{Chains: []string{"ETH"}, Testnet: true, LedgerPath: filepath.Join(t.TempDir(), "l.db"), Lookup: lookupOf(c)}, api.client(), keys)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sum, err := d.RunOnce(t.Context())
	if err != nil || sum.Submitted != len(txs) || sum.Failed != 0 {
		t.Fatalf("%+v %v; reported %+v", sum, err, api.errorsReported())
	}
	if n := c.decodes.Load(); n != int64(len(txs)) {
		t.Errorf("%d decodings of %d transactions", n, len(txs))
	}
	for _, tx := range txs {
		want, err := evm.ETH.Sign(t.Context(), chain.SignRequest{Serialized: tx.SerializedTransaction, Testnet: true, Keys: []string{testPK}})
		if got := api.submitted(tx.ID); err != nil || len(got) != 1 || got[0] != want.TxData {
			t.Errorf("%s: submitted %v, want %s (%v)", tx.ID, got, want.TxData, err)
		}
	}
}

// A Tatum transaction with a duplicate key, which the EVM parser alone
// reads (keeping the last), is refused for good by the reading that decodes
// it, never signed; an EVM transaction that does not decode fails, as before.
func TestDaemonRefusesAmbiguousEVMJSON(t *testing.T) {
	api := newFakeAPI(t)
	keys := newMemKeys(Wallet{WalletRef: WalletRef{SignatureID: sigPK, Chain: "ETH", Testnet: true}, PrivateKey: testPK})
	dup := strings.Replace(benchTatumTx, `"value":"1"`, `"value":"1","value":"1000000000000000000"`, 1)
	if _, err := evm.ETH.ParseTx(dup); err != nil {
		t.Fatalf("the EVM parser refuses the duplicate itself, so this tests nothing: %v", err)
	}
	api.add(PendingTx{ID: txID(1), Chain: "ETH", SerializedTransaction: dup, Hashes: []string{sigPK}})
	api.add(PendingTx{ID: txID(2), Chain: "ETH", SerializedTransaction: strings.Replace(benchTatumTx, `"value"`, `"vaule"`, 1), Hashes: []string{sigPK}})
	api.add(PendingTx{ID: txID(3), Chain: "ETH", SerializedTransaction: benchTatumTx, Hashes: []string{sigPK}})
	d, err := New(Config{Chains: []string{"ETH"}, Testnet: true, LedgerPath: filepath.Join(t.TempDir(), "l.db")}, api.client(), keys)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sum, err := d.RunOnce(t.Context())
	if err != nil || sum.Rejected != 1 || sum.Failed != 1 || sum.Submitted != 1 || len(api.submitted(txID(1))) != 0 {
		t.Fatalf("%+v %v", sum, err)
	}
	for _, r := range api.errorsReported() {
		switch r.SignatureID {
		case txID(1):
			if !r.Refused || r.Error != `refused by the signer: serializedTransaction: ambiguous JSON (duplicate or case-variant key): JSON object has a duplicate or case-variant key: "value" appears twice` {
				t.Errorf("report %+v", r)
			}
		case txID(2):
			if r.Refused || !strings.HasPrefix(r.Error, "decode: invalid transaction:") || !strings.Contains(r.Error, `unknown field "vaule"`) {
				t.Errorf("report %+v", r)
			}
		default:
			t.Errorf("report %+v", r)
		}
	}
	if n := len(api.errorsReported()); n != 2 {
		t.Errorf("%d reports, want 2", n)
	}
}

// benchTatumTx is the whole-process harness's transaction (bench/process):
// a legacy ETH transfer in Tatum's JSON form with every field given.
const benchTatumTx = `{"chainId":11155111,"gasLimit":21000,"gasPrice":"20000000000","nonce":0,"to":"0x8e2a1ab44092f1cd399665c160e61d44d145a61f","value":"1"}`

// BenchmarkTxDecodeSign is the daemon's work on one pending ETH transfer
// from the API's answer to its signature, without the network, the ledger
// and the key look-up: parsing the answer's element, ordering the run
// (sequence), the last check before deciding, the intent the guard decides
// on, and the signature.
func BenchmarkTxDecodeSign(b *testing.B) {
	for _, bc := range []struct{ name, serialized string }{
		{"tatum", benchTatumTx},
		{"native", unsignedEIP1559(11155111, 0, [20]byte{0xee})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			raw, err := json.Marshal(PendingTx{ID: txID(1), Chain: "ETH", SerializedTransaction: bc.serialized, Hashes: []string{sigPK}})
			if err != nil {
				b.Fatal(err)
			}
			d := &Daemon{cfg: Config{Testnet: true}}
			sc := signingChain{c: evm.ETH, signer: evm.ETH}
			keys := []string{testPK}
			b.ReportAllocs()
			for b.Loop() {
				tx, err := parsePending(raw, false)
				if err != nil {
					b.Fatal(err)
				}
				txs, _ := inSequence(sc.c, true, []PendingTx{tx}, nil)
				tx = txs[0]
				dec, err := tx.decode(sc.c)
				if err != nil {
					b.Fatal(err)
				}
				s, err := d.subject(sc, tx, dec)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := sc.signer.Sign(b.Context(), chain.SignRequest{Serialized: s.Tx.SerializedTransaction, Testnet: true, Keys: keys,
					Decoded: s.decodedTx}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The API client leaves the JSON check of a whole transaction's
// serializedTransaction to the reading that decodes it, but still refuses
// an ambiguous one of a transaction it would skip as incomplete.
func TestClientChecksSerializedWhereItDecodes(t *testing.T) {
	const ambiguous = `"serializedTransaction":"{\"value\":\"1\",\"Value\":\"2\"}"`
	whole := `{"id":"` + txID(1) + `","chain":"ETH",` + ambiguous + `,"hashes":["a"]}`
	tx, err := parsePending([]byte(whole), false)
	if err != nil || tx.bad != nil {
		t.Fatalf("whole: %v %v", err, tx.bad)
	}
	if _, err := tx.decode(evm.ETH); !errors.Is(err, ErrAmbiguousJSON) {
		t.Fatalf("whole, decoded: %v", err)
	}
	if _, err := ParsePendingTx([]byte(whole)); !errors.Is(err, ErrAmbiguousJSON) {
		t.Fatalf("ParsePendingTx: %v", err)
	}
	incomplete := `{"id":"` + txID(1) + `","chain":"ETH",` + ambiguous + `}`
	if tx, err := parsePending([]byte(incomplete), false); !errors.Is(err, ErrAmbiguousJSON) || tx.ID != txID(1) || tx.bad == nil {
		t.Fatalf("incomplete: %v %+v", err, tx)
	}
}

// BenchmarkPendingAnswer is the daemon's reading of a start's claim: the
// API's answer with 3,000 ETH transfers (bench/process), from its bytes to
// the parsed transactions, as Client.Pending reads it.
func BenchmarkPendingAnswer(b *testing.B) {
	txs := make([]PendingTx, 3000)
	for i := range txs {
		txs[i] = PendingTx{ID: txID(i), Chain: "ETH", SerializedTransaction: benchTatumTx, Hashes: []string{sigPK}}
	}
	body, err := json.Marshal(txs)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var raw pendingAnswer
		if err := json.Unmarshal(body, &raw); err != nil {
			b.Fatal(err)
		}
		for i, r := range raw.txs {
			tx, err := parsePending(r, false)
			if err != nil || tx.ID != txs[i].ID {
				b.Fatalf("%d: %v", i, err)
			}
		}
	}
}
