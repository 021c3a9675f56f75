package utxo

import (
	"context"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	utxochain "github.com/custoskms/custos/internal/chain/utxo"
	"github.com/custoskms/custos/internal/e2e/tatumsdk"
	"github.com/custoskms/custos/internal/tracker"
	"github.com/custoskms/custos/internal/walletstore"
	"github.com/custoskms/custos/internal/webhook"
)

// script is the output script paying addr.
func script(t *testing.T, addr btcutil.Address) []byte {
	t.Helper()
	s, err := txscript.PayToAddrScript(addr)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hash160(pub *btcec.PublicKey) []byte { return btcutil.Hash160(pub.SerializeCompressed()) }

// BTC on btcd regtest, set up as the BTC testnet node: every input type the
// signer handles, from managed wallets funded by mining to their addresses —
// P2WPKH (Tatum's BTC address, bitcore JSON), P2PKH (PSBT), one transaction
// spending two wallets' inputs named in signatures[] (bitcore JSON), and
// P2SH-P2WPKH and P2TR key-path (PSBT).
func TestBTCRegtestEndToEnd(t *testing.T) {
	t.Parallel()
	bin := nodeBinary(t, "CUSTOS_BTCD", "btcd")
	btc, reg := utxochain.BTC, utxochain.BTC.Params(utxochain.Regtest)

	a0, a1, a2, a3 := walletKey(t, btc, mnemonicA, 0), walletKey(t, btc, mnemonicA, 1), walletKey(t, btc, mnemonicA, 2), walletKey(t, btc, mnemonicA, 3)
	b0 := walletKey(t, btc, mnemonicB, 0)
	tatumAddr := func(pub *btcec.PublicKey) btcutil.Address {
		s, err := btc.Address(pub, utxochain.Regtest)
		if err != nil {
			t.Fatal(err)
		}
		a, err := btcutil.DecodeAddress(s, reg)
		if err != nil || s[:6] != "bcrt1q" {
			t.Fatalf("regtest address %s: %v", s, err)
		}
		return a
	}
	p2wpkhA0, p2wpkhB0 := tatumAddr(a0), tatumAddr(b0)
	p2pkhA1, _ := btcutil.NewAddressPubKeyHash(hash160(a1), reg)
	nestedA2, _ := btcutil.NewAddressScriptHash(script(t, tatumAddr(a2)), reg)
	p2trA3, _ := btcutil.NewAddressTaproot(schnorr.SerializePubKey(txscript.ComputeTaprootKeyNoScript(a3)), reg)
	sA0, sB0, sA1, sA2, sA3 := script(t, p2wpkhA0), script(t, p2wpkhB0), script(t, p2pkhA1), script(t, nestedA2), script(t, p2trA3)

	n := startNode(t, btcd, bin, p2wpkhA0.EncodeAddress(), p2wpkhB0.EncodeAddress(), p2pkhA1.EncodeAddress(),
		nestedA2.EncodeAddress(), p2trA3.EncodeAddress())
	s := newStack(t, "BTC", n.URL, mnemonicA, mnemonicB)
	walletA, walletB := s.wallets[0], s.wallets[1]

	// 440 blocks: coinbase maturity (100) and segwit and taproot, which
	// activate through version bits at height 432 on regtest.
	found := n.coinbases(t, n.mine(t, 440, ""), map[string]int{
		hex.EncodeToString(sA0): 4, hex.EncodeToString(sB0): 2, hex.EncodeToString(sA1): 3,
		hex.EncodeToString(sA2): 3, hex.EncodeToString(sA3): 1})
	coins := func(s []byte, i int) coin { return found[hex.EncodeToString(s)][i] }
	const fee = 10_000

	var spends []spend
	{ // P2WPKH in Tatum's bitcore JSON: a payment and change.
		in := []coin{coins(sA0, 0)}
		tx := newTx(in, wire.NewTxOut(100_000_000, sB0), wire.NewTxOut(total(in)-100_000_000-fee, sA0))
		spends = append(spends, spend{name: "P2WPKH bitcore JSON", coins: in, txid: tx.TxHash().String(),
			vout: 0, script: sB0, value: 100_000_000,
			body: map[string]any{"chain": "BTC", "serializedTransaction": bitcoreJSON(t, tx, in), "hashes": []string{walletA}, "index": 0}})
	}
	{ // P2PKH in a PSBT.
		in := []coin{coins(sA1, 0)}
		tx := newTx(in, wire.NewTxOut(total(in)-fee, sB0))
		spends = append(spends, spend{name: "P2PKH PSBT", coins: in, vout: 0, script: sB0, value: total(in) - fee,
			body: map[string]any{"chain": "BTC", "serializedTransaction": psbtBase64(t, tx, in, false), "hashes": []string{walletA}, "index": 1}})
	}
	{ // Two wallets' inputs in one transaction, each named with its index in signatures[].
		in := []coin{coins(sA0, 1), coins(sB0, 0)}
		tx := newTx(in, wire.NewTxOut(total(in)-fee, sA1))
		spends = append(spends, spend{name: "two wallets, signatures[]", coins: in, txid: tx.TxHash().String(),
			vout: 0, script: sA1, value: total(in) - fee,
			body: map[string]any{"chain": "BTC", "serializedTransaction": bitcoreJSON(t, tx, in), "hashes": []string{},
				"signatures": []map[string]any{{"id": walletB, "index": 0}, {"id": walletA, "index": 0}}}})
	}
	{ // P2SH-P2WPKH in a PSBT (the redeem script in scriptSig changes the txid).
		in := []coin{coins(sA2, 0)}
		tx := newTx(in, wire.NewTxOut(total(in)-fee, sA2))
		spends = append(spends, spend{name: "P2SH-P2WPKH PSBT", coins: in,
			vout: 0, script: sA2, value: total(in) - fee,
			body: map[string]any{"chain": "BTC", "serializedTransaction": psbtBase64(t, tx, in, true), "hashes": []string{walletA}, "index": 2}})
	}
	{ // P2TR key path (BIP 86 tweak) in a PSBT.
		in := []coin{coins(sA3, 0)}
		tx := newTx(in, wire.NewTxOut(total(in)-fee, sA0))
		spends = append(spends, spend{name: "P2TR PSBT", coins: in, txid: tx.TxHash().String(),
			vout: 0, script: sA0, value: total(in) - fee,
			body: map[string]any{"chain": "BTC", "serializedTransaction": psbtBase64(t, tx, in, true), "hashes": []string{walletA}, "index": 3}})
	}
	run(t, n, s, "", spends, s.sign)

	// Tatum's signer on the same node: one poll of Tatum KMS's daemon with
	// Tatum's SDK v1 signs what Tatum's API queues for BTC (bitcore JSON) and
	// broadcasts it through the server: a P2WPKH payment of the mnemonic
	// wallet named in signatures[], two mnemonic wallets' inputs in one
	// transaction, and a P2PKH spend of a private-key wallet named in hashes.
	// The SDK derives testnet keys; on regtest they pay the same scripts.
	t.Run("TatumSDK", func(t *testing.T) {
		s := s.in(t)
		pkID := walletstore.NewID()
		wallets := []tatumsdk.Wallet{{SignatureID: walletA, Chain: "BTC", Mnemonic: mnemonicA},
			{SignatureID: walletB, Chain: "BTC", Mnemonic: mnemonicB},
			{SignatureID: pkID, Chain: "BTC", PrivateKey: walletWIF(t, btc, mnemonicA, 1)}}
		var spends []spend
		{
			in := []coin{coins(sA0, 2)}
			tx := newTx(in, wire.NewTxOut(50_000_000, sB0), wire.NewTxOut(total(in)-50_000_000-fee, sA0))
			spends = append(spends, spend{name: "SDK: P2WPKH, signatures[]", coins: in, txid: tx.TxHash().String(),
				vout: 0, script: sB0, value: 50_000_000,
				body: map[string]any{"chain": "BTC", "serializedTransaction": bitcoreJSON(t, tx, in), "hashes": []string{},
					"signatures": []map[string]any{{"id": walletA, "index": 0}}}})
		}
		{
			in := []coin{coins(sA0, 3), coins(sB0, 1)}
			tx := newTx(in, wire.NewTxOut(total(in)-fee, sA1))
			spends = append(spends, spend{name: "SDK: two wallets, signatures[]", coins: in, txid: tx.TxHash().String(),
				vout: 0, script: sA1, value: total(in) - fee,
				body: map[string]any{"chain": "BTC", "serializedTransaction": bitcoreJSON(t, tx, in), "hashes": []string{},
					"signatures": []map[string]any{{"id": walletA, "index": 0}, {"id": walletB, "index": 0}}}})
		}
		{
			in := []coin{coins(sA1, 2)}
			tx := newTx(in, wire.NewTxOut(total(in)-fee, sB0))
			spends = append(spends, spend{name: "SDK: P2PKH private-key wallet", coins: in, vout: 0, script: sB0, value: total(in) - fee,
				body: map[string]any{"chain": "BTC", "serializedTransaction": bitcoreJSON(t, tx, in), "hashes": []string{pkID}}})
		}
		run(t, n, s, "", spends, s.tatumSigner("BTC", wallets))
	})

	// Refusals, end to end. The node refuses a double spend of the first
	// payment's input: the signer signs it, the submission fails with the
	// node's reason, and the transaction stays pending without a txId. The
	// signer refuses a fee above the cap: nothing reaches the node.
	double := newTx(spends[0].coins, wire.NewTxOut(total(spends[0].coins)-2*fee, sA1))
	doubleID := s.queue(map[string]any{"chain": "BTC", "serializedTransaction": bitcoreJSON(t, double, spends[0].coins),
		"hashes": []string{walletA}, "index": 0})
	in := []coin{coins(sA1, 1)}
	greedy := newTx(in, wire.NewTxOut(total(in)-utxochain.BTC.MaxFee()-1, sA1))
	greedyID := s.queue(map[string]any{"chain": "BTC", "serializedTransaction": psbtBase64(t, greedy, in, false),
		"hashes": []string{walletA}, "index": 1})
	sum, err := s.daemon.RunOnce(t.Context())
	if err != nil || sum.Pending != 2 || sum.Signed != 1 || sum.Submitted != 0 || sum.Failed != 2 {
		t.Fatalf("signer run over a double spend and a fee above the cap: %+v, %v", sum, err)
	}
	for _, id := range []string{doubleID, greedyID} {
		if got := s.get(id); got.TxID != "" {
			t.Errorf("refused transaction %s completed with txId %s", id, got.TxID)
		}
	}
	if pool := n.mempool(t); len(pool) != 0 {
		t.Errorf("the node's mempool holds %v after the refusals", pool)
	}

	// Outcome tracking at a depth of 3: a spend stays broadcast, its
	// confirmations counted, until the third block holds it down.
	t.Run("Tracked", func(t *testing.T) {
		s := s.in(t)
		ctx, cancel := context.WithCancel(t.Context())
		tr := tracker.New(tracker.Config{Store: s.pstore, Nodes: s.nodes, Depth: map[string]uint64{"BTC": 3},
			Poll: 20 * time.Millisecond, BaseDelay: 20 * time.Millisecond, MaxDelay: 100 * time.Millisecond})
		done := make(chan struct{})
		go func() { defer close(done); tr.Run(ctx) }()
		defer func() { cancel(); <-done }()
		in := []coin{coins(sA2, 1)}
		tx := newTx(in, wire.NewTxOut(total(in)-fee, sB0))
		id := s.queue(map[string]any{"chain": "BTC", "serializedTransaction": psbtBase64(t, tx, in, true), "hashes": []string{walletA}, "index": 2})
		// The refused double spend above is still pending: the run signs more than this one.
		if _, err := s.daemon.RunOnce(t.Context()); err != nil || s.get(id).TxID == "" {
			t.Fatalf("signer run: %v; txId %q", err, s.get(id).TxID)
		}
		var got struct {
			Status        string  `json:"status"`
			BlockNumber   *uint64 `json:"blockNumber"`
			Confirmations *uint64 `json:"confirmations"`
		}
		await := func(what string, ok func() bool) {
			t.Helper()
			for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				s.request(http.MethodGet, "/v3/kms/"+id, nil, &got)
				if ok() {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: GET /v3/kms/%s status %s, confirmations %v", what, id, got.Status, got.Confirmations)
				}
			}
		}
		block := n.mine(t, 2, "")[0]
		await("two blocks", func() bool { return got.Confirmations != nil && *got.Confirmations == 2 })
		var header struct{ Height uint64 }
		n.must(t, "getblockheader", &header, block, true)
		if got.Status != "broadcast" || got.BlockNumber == nil || *got.BlockNumber != header.Height {
			t.Fatalf("after two blocks: status %s, block %v; want broadcast in block %d", got.Status, got.BlockNumber, header.Height)
		}
		n.mine(t, 1, "")
		await("three blocks", func() bool { return got.Status == "confirmed" })
		if *got.Confirmations != 3 {
			t.Fatalf("confirmed with %d confirmations, want 3", *got.Confirmations)
		}
	})

	// A double spend that wins: a spend signalling replacement (BIP 125) is
	// broadcast and tracked, then a second one of the same coin paying a
	// higher fee replaces it in the node's mempool and is mined. The first
	// is dropped (the node no longer knows it and its input is spent
	// elsewhere), announced as KMS_TX_DROPPED; the winner is confirmed at
	// the configured depth of 2 and announced as KMS_TX_CONFIRMED.
	t.Run("DoubleSpendDropped", func(t *testing.T) {
		s := s.in(t)
		hooks := s.receiver("KMS_TX_DROPPED", "KMS_TX_CONFIRMED")
		ctx, cancel := context.WithCancel(t.Context())
		hookWorker := webhook.New(webhook.Config{Store: s.pstore, Guard: webhook.Guard{AllowLoopback: true}, Poll: 20 * time.Millisecond})
		tr := tracker.New(tracker.Config{Store: s.pstore, Nodes: s.nodes, Depth: map[string]uint64{"BTC": 2},
			Poll: 20 * time.Millisecond, BaseDelay: 20 * time.Millisecond, MaxDelay: 100 * time.Millisecond})
		var wg sync.WaitGroup
		wg.Go(func() { hookWorker.Run(ctx) })
		wg.Go(func() { tr.Run(ctx) })
		defer func() { cancel(); wg.Wait() }()

		in := []coin{coins(sA2, 2)}
		loser := newTx(in, wire.NewTxOut(total(in)-fee, sB0))
		loser.TxIn[0].Sequence = wire.MaxTxInSequenceNum - 2 // signals replaceability
		loserID := s.queue(map[string]any{"chain": "BTC", "serializedTransaction": psbtBase64(t, loser, in, true), "hashes": []string{walletA}, "index": 2})
		if _, err := s.daemon.RunOnce(t.Context()); err != nil || s.get(loserID).TxID == "" {
			t.Fatalf("signer run: %v; txId %q", err, s.get(loserID).TxID)
		}
		loserTx := s.get(loserID).TxID
		winner := newTx(in, wire.NewTxOut(total(in)-3*fee, sA1))
		winnerID := s.queue(map[string]any{"chain": "BTC", "serializedTransaction": psbtBase64(t, winner, in, true), "hashes": []string{walletA}, "index": 2})
		if _, err := s.daemon.RunOnce(t.Context()); err != nil || s.get(winnerID).TxID == "" {
			t.Fatalf("signer run over the replacement: %v; txId %q", err, s.get(winnerID).TxID)
		}
		if pool := n.mempool(t); slices.Contains(pool, loserTx) || !slices.Contains(pool, s.get(winnerID).TxID) {
			t.Fatalf("mempool %v after the replacement: want %s, not %s", pool, s.get(winnerID).TxID, loserTx)
		}
		n.mine(t, 2, "")

		// The two transactions' events come in either order.
		evs := awaitHooks(t, hooks, hookWant{loserID, "KMS_TX_DROPPED"}, hookWant{winnerID, "KMS_TX_CONFIRMED"})
		dropped, confirmed := evs[0], evs[1]
		if dropped.TxID != loserTx || dropped.Status != "dropped" || !strings.Contains(dropped.Error, "spent by another transaction") {
			t.Fatalf("KMS_TX_DROPPED %+v, want txId %s, status dropped and the spent input", dropped, loserTx)
		}
		if confirmed.TxID != s.get(winnerID).TxID || confirmed.Status != "confirmed" {
			t.Fatalf("KMS_TX_CONFIRMED %+v", confirmed)
		}
		var state struct{ Status, Error string }
		if s.request(http.MethodGet, "/v3/kms/"+loserID, nil, &state); state.Status != "dropped" || state.Error != dropped.Error {
			t.Fatalf("GET /v3/kms/%s: %+v, want dropped with %q", loserID, state, dropped.Error)
		}
	})
}
