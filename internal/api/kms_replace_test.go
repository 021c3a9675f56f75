package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
	"github.com/ethereum/go-ethereum/common"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/chain/evm"
	"github.com/custoskms/custos/internal/devchain"
	"github.com/custoskms/custos/internal/pending"
)

// broadcastAs stores serialized for tenant as a transaction signed with
// fillKey and completed with its txId, as a broadcast leaves it (the
// node is not asked: nothing here needs it mined).
func (e *env) broadcastAs(tenant, code, serialized string) string {
	e.t.Helper()
	ctx := e.t.Context()
	ids, err := e.store.Create(ctx, tenant, pending.NewTx{Chain: code, SerializedTransaction: serialized, Hashes: []string{sigA}})
	if err != nil {
		e.t.Fatal(err)
	}
	txID := "0x" + strings.Repeat("ab", 32)
	if code == "ETH" {
		signed, err := evm.ETH.Sign(ctx, chain.SignRequest{Serialized: serialized, Testnet: true, Keys: []string{fillKey},
			ExtraChainIDs: []uint64{devchain.ChainID}})
		if err != nil {
			e.t.Fatal(err)
		}
		if err := e.store.SetTxData(ctx, tenant, ids[0], signed.TxData); err != nil {
			e.t.Fatal(err)
		}
		txID = signed.TxID
	}
	if err := e.store.Complete(ctx, tenant, ids[0], txID); err != nil {
		e.t.Fatal(err)
	}
	return ids[0]
}

// replacement reads the queued replacement a 200 answer names.
func (e *env) replacement(key string, r resp) *evm.Tx {
	e.t.Helper()
	var out struct{ ID string }
	r.want(e.t, 200, &out)
	var tx pending.Tx
	e.do("GET", "/v3/kms/"+out.ID, key, nil).want(e.t, 200, &tx)
	if len(tx.Hashes) != 1 || tx.Hashes[0] != sigA {
		e.t.Fatalf("replacement for hashes %v, want the original's", tx.Hashes)
	}
	parsed, err := evm.ETH.ParseTx(tx.SerializedTransaction)
	if err != nil {
		e.t.Fatal(err)
	}
	return parsed
}

func TestReplaceQueuesSpeedUpAndCancel(t *testing.T) {
	e, dc, _ := fillEnv(t)
	key, k := e.newKey("replacer", true)
	stuck := `{"from":"` + fillFrom + `","to":"` + fillRecipient + `","value":"5","gasPrice":"1","gas":30000,"nonce":"0x4","chainId":1337}`
	id := e.broadcastAs(k.ID, "ETH", stuck)
	market, err := dc.Client().SuggestGasPrice(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	fast := e.replacement(key, e.do("POST", "/v3/kms/speedup/"+id, key, nil))
	if fast.GasPrice.Cmp(market) != 0 || *fast.Nonce != 4 || *fast.Gas != 30000 || fast.Value.Int64() != 5 ||
		*fast.To != common.HexToAddress(fillRecipient) {
		t.Fatalf("speed-up %+v, want the same transfer at nonce 4 paying the node's %s", fast, market)
	}
	asked := new(big.Int).Add(market, big.NewInt(7))
	more := e.replacement(key, e.do("POST", "/v3/kms/speedup/"+id, key, map[string]string{"gasPrice": asked.String()}))
	if more.GasPrice.Cmp(asked) != 0 {
		t.Fatalf("speed-up asking %s pays %s", asked, more.GasPrice)
	}
	cancel := e.replacement(key, e.do("POST", "/v3/kms/cancel/"+id, key, nil))
	if *cancel.To != common.HexToAddress(fillFrom) || cancel.Value.Sign() != 0 || len(cancel.Data) != 0 || *cancel.Nonce != 4 ||
		cancel.Gas == nil || *cancel.Gas != 21000 {
		t.Fatalf("cancel %+v, want a zero-value self-transfer at nonce 4 with the node's gas estimate", cancel)
	}

	for _, tc := range []struct {
		name   string
		path   string
		body   any
		status int
		code   string
		data   string
	}{
		{"a fee below the replacement minimum", "/v3/kms/speedup/" + id, map[string]string{"gasPrice": "1"}, 400, CodeValidation, "below the node's replacement minimum of 2"},
		{"a fee of the other type", "/v3/kms/speedup/" + id, map[string]string{"maxFeePerGas": "5000000000"}, 400, CodeValidation, "fees are gasPrice"},
		{"a fee that is no number", "/v3/kms/cancel/" + id, map[string]string{"gasPrice": "0x10"}, 400, CodeValidation, "gasPrice: must be a positive decimal"},
		{"a fee that is not a string", "/v3/kms/cancel/" + id, map[string]int{"gasPrice": 10}, 400, CodeValidation, ""},
		{"a malformed id", "/v3/kms/speedup/short", nil, 400, CodeValidation, "id:"},
		{"an unknown id", "/v3/kms/speedup/aaaaaaaaaaaaaaaaaaaaaaaa", nil, 403, CodeTxNotFound, ""},
	} {
		er := e.do("POST", tc.path, key, tc.body).wantError(t, tc.status, tc.code)
		if tc.data != "" && !strings.Contains(strings.Join(er.Data, "; "), tc.data) {
			t.Errorf("%s: data %v, want %q", tc.name, er.Data, tc.data)
		}
	}
	// Another tenant's transaction is unknown to this key.
	e.do("POST", "/v3/kms/speedup/"+id, e.keyTest, nil).wantError(t, 403, CodeTxNotFound)

	// Only a broadcast transaction that is not final can be replaced.
	var queued struct{ ID string }
	e.do("POST", "/v3/kms", key, map[string]any{"chain": "ETH", "serializedTransaction": stuck, "hashes": []string{sigA}}).want(t, 200, &queued)
	if er := e.do("POST", "/v3/kms/cancel/"+queued.ID, key, nil).wantError(t, 403, CodeTxNotReplaceable); !strings.Contains(er.Message, "queued") {
		t.Errorf("not broadcast: %s", er.Message)
	}
	xrp := e.broadcastAs(k.ID, "XRP", `{"TransactionType":"AccountSet"}`)
	e.do("POST", "/v3/kms/speedup/"+xrp, key, nil).wantError(t, 403, CodeTxNotReplaceable)

	// Every replacement joined the original's group of rivals.
	ctx := t.Context()
	pend, err := e.store.Pending(ctx, pending.PendingQuery{Tenant: k.ID, Chain: "ETH"})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pend {
		if p.ID == queued.ID {
			continue
		}
		if err := e.store.Complete(ctx, k.ID, p.ID, "0xrival"+strings.Repeat("0", i+4)); err != nil {
			t.Fatal(err)
		}
	}
	if rivals, err := e.store.Rivals(ctx, k.ID, id); err != nil || len(rivals) != 3 {
		t.Fatalf("rivals of the original %+v, %v; want its 3 replacements", rivals, err)
	}

	// A final transaction has nothing left to replace.
	if _, err := e.store.ClaimTracking(ctx, pending.TrackClaim{Owner: "t", Lease: time.Minute, Max: 100}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.RecordOutcome(ctx, "t", pending.OutcomeUpdate{Tenant: k.ID, ID: id, State: pending.StateConfirmed}); err != nil {
		t.Fatal(err)
	}
	if er := e.do("POST", "/v3/kms/speedup/"+id, key, nil).wantError(t, 403, CodeTxNotReplaceable); !strings.Contains(er.Message, "final (confirmed)") {
		t.Errorf("final: %s", er.Message)
	}
}

func TestReplaceBoundsAndNode(t *testing.T) {
	stuck := `{"from":"` + fillFrom + `","to":"` + fillRecipient + `","value":"5","gasPrice":"1000","gas":21000,"nonce":"0x4","chainId":1337}`
	e := newEnv(t, func(c *Config) {
		c.ExtraChainIDs = map[bool]map[string][]uint64{true: {"ETH": {devchain.ChainID}}}
		c.MaxGasPrice = map[string]*big.Int{"ETH": big.NewInt(1050)}
	})
	e.srv.lookupChain = chains.Lookup
	key, k := e.newKey("replacer", true)
	id := e.broadcastAs(k.ID, "ETH", stuck)

	// No node: nothing can be completed or outbid.
	e.do("POST", "/v3/kms/speedup/"+id, key, nil).wantError(t, 403, CodeNoNode)
	down, err := broadcast.DialEVM("http://127.0.0.1:1/rpc")
	if err != nil {
		t.Fatal(err)
	}
	e.nodes.Set("ETH", true, down)
	for _, route := range []string{"speedup", "cancel"} {
		e.do("POST", "/v3/kms/"+route+"/"+id, key, nil).wantError(t, 502, CodeNodeUnavailable)
	}

	// The minimum bump (1100) is above the ceiling of 1050.
	e.nodes.Set("ETH", true, fixedPrice{})
	er := e.do("POST", "/v3/kms/cancel/"+id, key, nil).wantError(t, 400, CodeValidation)
	if !strings.Contains(strings.Join(er.Data, ""), "above the server's ceiling of 1050 wei") {
		t.Fatalf("data %v", er.Data)
	}
}

// fixedPrice is a node that answers a low gas price and nothing else.
type fixedPrice struct{ broadcast.Client }

func (fixedPrice) SuggestGasPrice(context.Context) (*big.Int, error) { return big.NewInt(1), nil }

// A BTC transfer that signals replacement is sped up from its queued PSBT:
// the replacement pays the fee asked out of the change, for the same
// wallet, in the original's group; cancel and a fee the change cannot pay
// are refused.
func TestReplaceUTXO(t *testing.T) {
	e := newEnv(t)
	e.srv.lookupChain = chains.Lookup
	key, k := e.newKey("rbf", true)
	e.nodes.Set("BTC", true, &fakeNode{})
	sender := append([]byte{0x00, 0x14}, bytes.Repeat([]byte{0x11}, 20)...)
	recipient := append([]byte{0x00, 0x14}, bytes.Repeat([]byte{0x22}, 20)...)
	tx := wire.NewMsgTx(2)
	in := wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{1}, 0), nil, nil)
	in.Sequence = wire.MaxTxInSequenceNum - 2
	tx.AddTxIn(in)
	tx.AddTxOut(wire.NewTxOut(30_000, recipient))
	tx.AddTxOut(wire.NewTxOut(69_000, sender))
	p, err := psbt.NewFromUnsignedTx(tx)
	if err != nil {
		t.Fatal(err)
	}
	p.Inputs[0].WitnessUtxo = wire.NewTxOut(100_000, sender)
	var buf bytes.Buffer
	if err := p.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	id := e.broadcastAs(k.ID, "BTC", base64.StdEncoding.EncodeToString(buf.Bytes()))

	var out struct{ ID string }
	e.do("POST", "/v3/kms/speedup/"+id, key, map[string]string{"fee": "5000"}).want(t, 200, &out)
	var got pending.Tx
	e.do("GET", "/v3/kms/"+out.ID, key, nil).want(t, 200, &got)
	raw, err := base64.StdEncoding.DecodeString(got.SerializedTransaction)
	if err != nil {
		t.Fatal(err)
	}
	rp, err := psbt.NewFromRawBytes(bytes.NewReader(raw), false)
	if err != nil {
		t.Fatal(err)
	}
	if o := rp.UnsignedTx.TxOut; len(o) != 2 || o[0].Value != 30_000 || o[1].Value != 65_000 || len(got.Hashes) != 1 || got.Hashes[0] != sigA {
		t.Fatalf("replacement %+v for %v, want the change lowered to 65000 for the original's wallet", rp.UnsignedTx, got.Hashes)
	}
	if rivals, err := e.store.Rivals(t.Context(), k.ID, id); err != nil || len(rivals) != 0 {
		t.Fatalf("rivals before the replacement is broadcast: %v, %v", rivals, err)
	}
	if err := e.store.Complete(t.Context(), k.ID, out.ID, strings.Repeat("cd", 32)); err != nil {
		t.Fatal(err)
	}
	if rivals, err := e.store.Rivals(t.Context(), k.ID, id); err != nil || len(rivals) != 1 || rivals[0].ID != out.ID {
		t.Fatalf("rivals of the original %v, %v; want the replacement", rivals, err)
	}
	e.do("POST", "/v3/kms/cancel/"+id, key, nil).wantError(t, 400, CodeValidation)
	e.do("POST", "/v3/kms/speedup/"+id, key, map[string]string{"fee": "70000"}).wantError(t, 400, CodeValidation)
}
