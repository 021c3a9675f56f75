package utxo

import (
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"

	utxochain "github.com/custoskms/custos/internal/chain/utxo"
	"github.com/custoskms/custos/internal/e2e/tatumsdk"
	"github.com/custoskms/custos/internal/walletstore"
)

// LTC on litecoind regtest, set up as the LTC testnet node: P2PKH (Tatum's LTC
// address) in Tatum's bitcore JSON, P2WPKH (rltc1) in a PSBT, and two wallets'
// inputs in one transaction named in signatures[]. The wallets are funded with
// generatetoaddress.
func TestLTCRegtestEndToEnd(t *testing.T) {
	t.Parallel()
	bin := nodeBinary(t, "CUSTOS_LITECOIND", "litecoind")
	ltc, reg := utxochain.LTC, utxochain.LTC.Params(utxochain.Regtest)

	p2pkh := func(mnemonic string, index uint32) (string, []byte) {
		a, err := ltc.Address(walletKey(t, ltc, mnemonic, index), utxochain.Regtest)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := btcutil.DecodeAddress(a, reg)
		if err != nil {
			t.Fatalf("regtest address %s: %v", a, err)
		}
		return a, script(t, dec)
	}
	a0, sA0 := p2pkh(mnemonicA, 0)
	b0, sB0 := p2pkh(mnemonicB, 0)
	sink, _ := p2pkh(mnemonicB, 1)
	segA1, err := btcutil.NewAddressWitnessPubKeyHash(hash160(walletKey(t, ltc, mnemonicA, 1)), reg)
	if err != nil || segA1.EncodeAddress()[:6] != "rltc1q" {
		t.Fatalf("regtest segwit address %v: %v", segA1, err)
	}
	sA1 := script(t, segA1)

	n := startNode(t, litecoind, bin)
	s := newStack(t, "LTC", n.URL, mnemonicA, mnemonicB)
	walletA, walletB := s.wallets[0], s.wallets[1]

	cA0 := []coin{n.coinbase(t, n.mine(t, 1, a0)[0]), n.coinbase(t, n.mine(t, 1, a0)[0])}
	cB0 := n.coinbase(t, n.mine(t, 1, b0)[0])
	cA1 := n.coinbase(t, n.mine(t, 1, segA1.EncodeAddress())[0])
	a2, sA2 := p2pkh(mnemonicA, 2) // a private-key wallet's address, for Tatum's SDK
	sdkA0, sdkA2 := n.coinbase(t, n.mine(t, 1, a0)[0]), n.coinbase(t, n.mine(t, 1, a2)[0])
	n.mine(t, 100, sink) // coinbase maturity
	const fee = 10_000

	var spends []spend
	{ // P2PKH in Tatum's bitcore JSON: a payment and change.
		in := []coin{cA0[0]}
		tx := newTx(in, wire.NewTxOut(100_000_000, sB0), wire.NewTxOut(total(in)-100_000_000-fee, sA0))
		spends = append(spends, spend{name: "P2PKH bitcore JSON", coins: in, vout: 0, script: sB0, value: 100_000_000,
			body: map[string]any{"chain": "LTC", "serializedTransaction": bitcoreJSON(t, tx, in), "hashes": []string{walletA}, "index": 0}})
	}
	{ // P2WPKH in a PSBT.
		in := []coin{cA1}
		tx := newTx(in, wire.NewTxOut(total(in)-fee, sA0))
		spends = append(spends, spend{name: "P2WPKH PSBT", coins: in, txid: tx.TxHash().String(), vout: 0, script: sA0, value: total(in) - fee,
			body: map[string]any{"chain": "LTC", "serializedTransaction": psbtBase64(t, tx, in, true), "hashes": []string{walletA}, "index": 1}})
	}
	{ // Two wallets' inputs, each named with its index in signatures[].
		in := []coin{cA0[1], cB0}
		tx := newTx(in, wire.NewTxOut(total(in)-fee, sA1))
		spends = append(spends, spend{name: "two wallets, signatures[]", coins: in, vout: 0, script: sA1, value: total(in) - fee,
			body: map[string]any{"chain": "LTC", "serializedTransaction": bitcoreJSON(t, tx, in), "hashes": []string{},
				"signatures": []map[string]any{{"id": walletB, "index": 0}, {"id": walletA, "index": 0}}}})
	}
	run(t, n, s, sink, spends, s.sign)

	// Tatum's signer on the same node: one poll of Tatum KMS's daemon with
	// Tatum's SDK v1 signs what Tatum's API queues for LTC (bitcore JSON) and
	// broadcasts it through the server: a P2PKH payment of the mnemonic wallet
	// named in signatures[], and a spend of a private-key wallet named in
	// hashes. The SDK derives testnet keys; on regtest they pay the same
	// scripts.
	t.Run("TatumSDK", func(t *testing.T) {
		s := s.in(t)
		pkID := walletstore.NewID()
		wallets := []tatumsdk.Wallet{{SignatureID: walletA, Chain: "LTC", Mnemonic: mnemonicA},
			{SignatureID: pkID, Chain: "LTC", PrivateKey: walletWIF(t, ltc, mnemonicA, 2)}}
		var spends []spend
		{
			in := []coin{sdkA0}
			tx := newTx(in, wire.NewTxOut(50_000_000, sB0), wire.NewTxOut(total(in)-50_000_000-fee, sA0))
			spends = append(spends, spend{name: "SDK: P2PKH, signatures[]", coins: in, vout: 0, script: sB0, value: 50_000_000,
				body: map[string]any{"chain": "LTC", "serializedTransaction": bitcoreJSON(t, tx, in), "hashes": []string{},
					"signatures": []map[string]any{{"id": walletA, "index": 0}}}})
		}
		{
			in := []coin{sdkA2}
			tx := newTx(in, wire.NewTxOut(total(in)-fee, sA2))
			spends = append(spends, spend{name: "SDK: private-key wallet", coins: in, vout: 0, script: sA2, value: total(in) - fee,
				body: map[string]any{"chain": "LTC", "serializedTransaction": bitcoreJSON(t, tx, in), "hashes": []string{pkID}}})
		}
		run(t, n, s, sink, spends, s.tatumSigner("LTC", wallets))
	})
}
