package utxo

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/wire"

	utxochain "github.com/custoskms/custos/internal/chain/utxo"
	"github.com/custoskms/custos/internal/e2e/tatumsdk"
	"github.com/custoskms/custos/internal/walletstore"
)

// BCH on bchd regtest, set up as the BCH testnet node: Tatum's
// "<hex>:<amounts>" form (BCH Schnorr signatures with SIGHASH_FORKID), a PSBT,
// and two wallets' inputs in one transaction named in signatures[]. The
// wallets are funded by mining to their CashAddr (bchreg:) addresses.
func TestBCHRegtestEndToEnd(t *testing.T) {
	t.Parallel()
	bin := nodeBinary(t, "CUSTOS_BCHD", "bchd")
	bch, reg := utxochain.BCH, utxochain.BCH.Params(utxochain.Regtest)

	type wallet struct {
		cash   string
		script []byte
	}
	addr := func(mnemonic string, index uint32) wallet {
		pub := walletKey(t, bch, mnemonic, index)
		cash, err := bch.Address(pub, utxochain.Regtest)
		if err != nil || !strings.HasPrefix(cash, "bchreg:q") {
			t.Fatalf("regtest address %s: %v", cash, err)
		}
		legacy, _ := btcutil.NewAddressPubKeyHash(hash160(pub), reg)
		return wallet{cash, script(t, legacy)}
	}
	a0, a1, b0 := addr(mnemonicA, 0), addr(mnemonicA, 1), addr(mnemonicB, 0)

	n := startNode(t, bchd, bin, a0.cash, a1.cash, b0.cash)
	s := newStack(t, "BCH", n.URL, mnemonicA, mnemonicB)
	walletA, walletB := s.wallets[0], s.wallets[1]

	found := n.coinbases(t, n.mine(t, 200, ""), map[string]int{
		hex.EncodeToString(a0.script): 3, hex.EncodeToString(a1.script): 2, hex.EncodeToString(b0.script): 2})
	coins := func(w wallet, i int) coin { return found[hex.EncodeToString(w.script)][i] }
	const fee = 10_000

	var spends []spend
	{ // Tatum's form: a payment and change.
		in := []coin{coins(a0, 0)}
		tx := newTx(in, wire.NewTxOut(100_000_000, b0.script), wire.NewTxOut(total(in)-100_000_000-fee, a0.script))
		spends = append(spends, spend{name: "Tatum hex:amounts", coins: in, vout: 0, script: b0.script, value: 100_000_000,
			body: map[string]any{"chain": "BCH", "serializedTransaction": bchTatum(t, tx, in), "hashes": []string{walletA}, "index": 0}})
	}
	{ // A PSBT: signed with SIGHASH_ALL|FORKID.
		in := []coin{coins(a1, 0)}
		tx := newTx(in, wire.NewTxOut(total(in)-fee, b0.script))
		spends = append(spends, spend{name: "PSBT", coins: in, vout: 0, script: b0.script, value: total(in) - fee,
			body: map[string]any{"chain": "BCH", "serializedTransaction": psbtBase64(t, tx, in, false), "hashes": []string{walletA}, "index": 1}})
	}
	{ // Two wallets: in Tatum's form, signatures[i] signs input i.
		in := []coin{coins(a0, 1), coins(b0, 0)}
		tx := newTx(in, wire.NewTxOut(total(in)-fee, a1.script))
		spends = append(spends, spend{name: "two wallets, signatures[]", coins: in, vout: 0, script: a1.script, value: total(in) - fee,
			body: map[string]any{"chain": "BCH", "serializedTransaction": bchTatum(t, tx, in), "hashes": []string{},
				"signatures": []map[string]any{{"id": walletA, "index": 0}, {"id": walletB, "index": 0}}}})
	}
	run(t, n, s, "", spends, s.sign)

	// Tatum's signer on the same node: one poll of Tatum KMS's daemon with
	// Tatum's SDK v1 signs what Tatum's API queues for BCH (its hex:amounts
	// form) and broadcasts it through the server. Tatum KMS signs BCH with the
	// private keys of the wallets in hashes, input i with wallet i, so these
	// are private-key wallets: two in one transaction, and one alone. The SDK
	// reads the keys with BCH's testnet parameters; on regtest they pay the
	// same scripts.
	t.Run("TatumSDK", func(t *testing.T) {
		s := s.in(t)
		pkA0, pkA1, pkB0 := walletstore.NewID(), walletstore.NewID(), walletstore.NewID()
		wallets := []tatumsdk.Wallet{{SignatureID: pkA0, Chain: "BCH", PrivateKey: walletWIF(t, bch, mnemonicA, 0)},
			{SignatureID: pkA1, Chain: "BCH", PrivateKey: walletWIF(t, bch, mnemonicA, 1)},
			{SignatureID: pkB0, Chain: "BCH", PrivateKey: walletWIF(t, bch, mnemonicB, 0)}}
		var spends []spend
		{
			in := []coin{coins(a0, 2), coins(b0, 1)}
			tx := newTx(in, wire.NewTxOut(100_000_000, a1.script), wire.NewTxOut(total(in)-100_000_000-fee, b0.script))
			spends = append(spends, spend{name: "SDK: two private-key wallets", coins: in, vout: 0, script: a1.script, value: 100_000_000,
				body: map[string]any{"chain": "BCH", "serializedTransaction": bchTatum(t, tx, in), "hashes": []string{pkA0, pkB0}}})
		}
		{
			in := []coin{coins(a1, 1)}
			tx := newTx(in, wire.NewTxOut(total(in)-fee, a0.script))
			spends = append(spends, spend{name: "SDK: one private-key wallet", coins: in, vout: 0, script: a0.script, value: total(in) - fee,
				body: map[string]any{"chain": "BCH", "serializedTransaction": bchTatum(t, tx, in), "hashes": []string{pkA1}}})
		}
		run(t, n, s, "", spends, s.tatumSigner("BCH", wallets))
	})
}
