package utxo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"

	"github.com/custoskms/custos/internal/broadcast"
	utxochain "github.com/custoskms/custos/internal/chain/utxo"
)

// transfer is POST /v3/{slug}/transaction; it returns the pending id.
func (s *stack) transfer(slug string, body map[string]any) string {
	s.t.Helper()
	status, data := s.call(http.MethodPost, "/v3/"+slug+"/transaction", body)
	var r struct{ SignatureID string }
	if status != http.StatusOK || json.Unmarshal(data, &r) != nil || len(r.SignatureID) != 24 {
		s.t.Fatalf("POST /v3/%s/transaction: HTTP %d %s", slug, status, data)
	}
	return r.SignatureID
}

// refused requires a 400 whose message holds want.
func (s *stack) refused(slug string, body map[string]any, want string) {
	s.t.Helper()
	status, data := s.call(http.MethodPost, "/v3/"+slug+"/transaction", body)
	if status != http.StatusBadRequest || !strings.Contains(string(data), want) {
		s.t.Fatalf("POST /v3/%s/transaction: HTTP %d %s; want 400 with %q", slug, status, data, want)
	}
}

// minedTransfer signs the queued transfer id with the daemon, mines a
// block (to sink on litecoind) and returns the mined transaction.
func minedTransfer(t *testing.T, n *node, s *stack, id, sink string) *wire.MsgTx {
	t.Helper()
	s.sign([]string{id})
	txid := s.get(id).TxID
	block := n.mine(t, 1, sink)[0]
	if !slices.Contains(n.blockTxIDs(t, block), txid) {
		t.Fatalf("transfer %s (%s) is not in the mined block", id, txid)
	}
	return n.rawTx(t, txid, block)
}

// wallet address of a test: the address as Tatum shows it, its script, and
// the wallet and index that sign for it.
type walletAddr struct {
	addr   string
	script []byte
	wallet string
	index  int
}

func regtestAddr(t *testing.T, c *utxochain.Chain, mnemonic string, index uint32) (string, []byte) {
	t.Helper()
	a, err := c.Address(walletKey(t, c, mnemonic, index), utxochain.Regtest)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := btcutil.DecodeAddress(a, c.Params(utxochain.Regtest))
	if err != nil {
		t.Fatalf("regtest address %s: %v", a, err)
	}
	return a, script(t, dec)
}

func fromAddress(ws ...walletAddr) []map[string]any {
	var out []map[string]any
	for _, w := range ws {
		out = append(out, map[string]any{"address": w.addr, "signatureId": w.wallet, "index": w.index})
	}
	return out
}

// spendableTotal is what the node reports spendable at addr: the amount the
// builder may select from.
func spendableTotal(t *testing.T, n *node, w walletAddr) int64 {
	t.Helper()
	c, err := broadcast.DialUTXO(n.URL)
	if err != nil {
		t.Fatal(err)
	}
	us, err := c.Unspent(t.Context(), w.addr, w.script)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, u := range us {
		if !u.Coinbase || u.Confirmations >= 100 {
			sum += u.Value
		}
	}
	return sum
}

// The transfer endpoints end to end on btcd regtest (BTC testnet node,
// address index): fromAddress over three addresses of two wallets for more
// than either wallet holds, so inputs of both are selected, each signed by
// its wallet, change to the first sender, mined; fromUTXO of that payment's
// output with a fixed fee and changeAddress, mined; an insufficient balance
// and a dust output refused with 400s naming them; the fee estimate.
func TestBTCTransferEndToEnd(t *testing.T) {
	t.Parallel()
	bin := nodeBinary(t, "CUSTOS_BTCD", "btcd")
	btc := utxochain.BTC
	n0, s0 := regtestAddr(t, btc, mnemonicA, 0)
	n1, s1 := regtestAddr(t, btc, mnemonicA, 1)
	nb, sb := regtestAddr(t, btc, mnemonicB, 0)
	n := startNode(t, btcd, bin, n0, n1, nb)
	s := newStack(t, "BTC", n.URL, mnemonicA, mnemonicB)
	a0 := walletAddr{n0, s0, s.wallets[0], 0}
	a1 := walletAddr{n1, s1, s.wallets[0], 1}
	b0 := walletAddr{nb, sb, s.wallets[1], 0}
	xAddr, xScript := regtestAddr(t, btc, mnemonicA, 5)
	x := walletAddr{xAddr, xScript, s.wallets[0], 5}
	// Maturity and segwit, active from height 432 on regtest.
	n.mine(t, 440, "")

	walletA, walletB := spendableTotal(t, n, a0)+spendableTotal(t, n, a1), spendableTotal(t, n, b0)
	pay := max(walletA, walletB) + 100_000_000
	id := s.transfer("bitcoin", map[string]any{"fromAddress": fromAddress(a0, a1, b0),
		"to": []map[string]any{{"address": x.addr, "value": json.Number(btcAmount(pay))}}})
	pending := s.get(id)
	var signers []string
	for _, sg := range pending.Signatures {
		signers = append(signers, sg.ID)
	}
	if !slices.Contains(signers, s.wallets[0]) || !slices.Contains(signers, s.wallets[1]) || len(pending.Hashes) != 0 {
		t.Fatalf("pending transfer names signatures %+v, hashes %v; want both wallets", pending.Signatures, pending.Hashes)
	}
	tx := minedTransfer(t, n, s, id, "")
	if len(tx.TxIn) < 2 || len(tx.TxOut) != 2 || tx.TxOut[0].Value != pay || !bytes.Equal(tx.TxOut[0].PkScript, x.script) ||
		!bytes.Equal(tx.TxOut[1].PkScript, a0.script) || tx.TxOut[1].Value <= 0 {
		t.Fatalf("mined %d inputs, outputs %+v; want %d sat to x and change to a0", len(tx.TxIn), tx.TxOut, pay)
	}

	t.Run("FromUTXO", func(t *testing.T) {
		s := s.in(t)
		paid := tx.TxHash().String()
		id := s.transfer("bitcoin", map[string]any{
			"fromUTXO":      []map[string]any{{"txHash": paid, "index": 0, "signatureId": x.wallet, "signatureIdIndex": x.index}},
			"to":            []map[string]any{{"address": b0.addr, "value": 1}},
			"fee":           "0.0001",
			"changeAddress": a1.addr,
		})
		tx := minedTransfer(t, n, s, id, "")
		if len(tx.TxIn) != 1 || tx.TxIn[0].PreviousOutPoint.String() != paid+":0" || len(tx.TxOut) != 2 ||
			tx.TxOut[0].Value != 100_000_000 || !bytes.Equal(tx.TxOut[1].PkScript, a1.script) || tx.TxOut[1].Value != pay-100_000_000-10_000 {
			t.Fatalf("mined %v → %+v", tx.TxIn, tx.TxOut)
		}
	})

	t.Run("Refused", func(t *testing.T) {
		s := s.in(t)
		// x's only output is spent by now: nothing to select.
		s.refused("bitcoin", map[string]any{"fromAddress": fromAddress(x), "to": []map[string]any{{"address": b0.addr, "value": 1}}},
			"fromAddress: insufficient funds: the outputs and fee need 1.")
		s.refused("bitcoin", map[string]any{"fromAddress": fromAddress(a1), "to": []map[string]any{{"address": b0.addr, "value": "0.00000293"}}},
			"below the dust threshold of 0.00000294 BTC")
	})

	t.Run("Estimate", func(t *testing.T) {
		s := s.in(t)
		status, data := s.call(http.MethodPost, "/v3/blockchain/estimate", map[string]any{"chain": "BTC", "type": "TRANSFER",
			"fromAddress": []string{a1.addr}, "to": []map[string]any{{"address": b0.addr, "value": 0.5}}})
		var fees map[string]string
		if status != http.StatusOK || json.Unmarshal(data, &fees) != nil || len(fees) != 3 || fees["fast"] == "" || fees["slow"] == "" {
			t.Fatalf("estimate: HTTP %d %s", status, data)
		}
	})
}

// btcAmount writes satoshis as a decimal coin amount.
func btcAmount(sat int64) string { return fmt.Sprintf("%d.%08d", sat/1e8, sat%1e8) }

// The transfer endpoint on litecoind regtest (LTC testnet node, the Core
// family's scantxoutset): three block rewards to two wallets' addresses pay
// more than any two hold, so every one is spent, change to changeAddress.
func TestLTCTransferEndToEnd(t *testing.T) {
	t.Parallel()
	bin := nodeBinary(t, "CUSTOS_LITECOIND", "litecoind")
	ltc := utxochain.LTC
	n := startNode(t, litecoind, bin)
	s := newStack(t, "LTC", n.URL, mnemonicA, mnemonicB)
	na, sa := regtestAddr(t, ltc, mnemonicA, 0)
	nb, sb := regtestAddr(t, ltc, mnemonicB, 0)
	sink, _ := regtestAddr(t, ltc, mnemonicB, 9)
	chAddr, chScript := regtestAddr(t, ltc, mnemonicA, 3)
	a0, b0 := walletAddr{na, sa, s.wallets[0], 0}, walletAddr{nb, sb, s.wallets[1], 0}
	n.mine(t, 2, a0.addr)
	n.mine(t, 1, b0.addr)
	n.mine(t, 100, sink)

	id := s.transfer("litecoin", map[string]any{"fromAddress": fromAddress(a0, b0), "changeAddress": chAddr,
		"to": []map[string]any{{"address": sink, "value": 120}}})
	tx := minedTransfer(t, n, s, id, sink)
	if len(tx.TxIn) != 3 || len(tx.TxOut) != 2 || tx.TxOut[0].Value != 120e8 || !bytes.Equal(tx.TxOut[1].PkScript, chScript) ||
		tx.TxOut[1].Value < 30e8-1e6 {
		t.Fatalf("mined %d inputs, outputs %+v; want the 3 rewards, 120 LTC and about 30 LTC change", len(tx.TxIn), tx.TxOut)
	}
	if sg := s.get(id).Signatures; len(sg) != 2 {
		t.Fatalf("signatures %+v, want both wallets", sg)
	}
	s.refused("litecoin", map[string]any{"fromAddress": fromAddress(a0), "to": []map[string]any{{"address": sink, "value": 1}}},
		"fromAddress: insufficient funds")
}

// The transfer endpoint on bchd regtest (BCH testnet node, address index):
// a CashAddr sender's block rewards pay more than one holds, the PSBT's
// FORKID signatures are accepted and mined, change back to the sender.
func TestBCHTransferEndToEnd(t *testing.T) {
	t.Parallel()
	bin := nodeBinary(t, "CUSTOS_BCHD", "bchd")
	bch := utxochain.BCH
	cash := func(mnemonic string, index uint32) (string, []byte) {
		pub := walletKey(t, bch, mnemonic, index)
		a, err := bch.Address(pub, utxochain.Regtest)
		if err != nil || !strings.HasPrefix(a, "bchreg:q") {
			t.Fatalf("regtest address %s: %v", a, err)
		}
		legacy, _ := btcutil.NewAddressPubKeyHash(hash160(pub), bch.Params(utxochain.Regtest))
		return a, script(t, legacy)
	}
	na, sa := cash(mnemonicA, 0)
	nb, sb := cash(mnemonicB, 0)
	n := startNode(t, bchd, bin, na)
	s := newStack(t, "BCH", n.URL, mnemonicA, mnemonicB)
	a0 := walletAddr{na, sa, s.wallets[0], 0}
	n.mine(t, 102, "")

	id := s.transfer("bcash", map[string]any{"fromAddress": fromAddress(a0), "to": []map[string]any{{"address": nb, "value": "60"}}})
	tx := minedTransfer(t, n, s, id, "")
	if len(tx.TxIn) != 2 || len(tx.TxOut) != 2 || tx.TxOut[0].Value != 60e8 || !bytes.Equal(tx.TxOut[0].PkScript, sb) ||
		!bytes.Equal(tx.TxOut[1].PkScript, a0.script) || tx.TxOut[1].Value < 40e8-1e6 {
		t.Fatalf("mined %d inputs, outputs %+v; want two rewards, 60 BCH and about 40 BCH change", len(tx.TxIn), tx.TxOut)
	}
}
