package daemon

import (
	"encoding/json"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/evm"
)

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
				tx, err := parsePending(raw)
				if err != nil {
					b.Fatal(err)
				}
				txs, _ := inSequence(sc.c, true, []PendingTx{tx}, nil)
				tx = txs[0]
				if err := tx.check(); err != nil {
					b.Fatal(err)
				}
				s, err := d.subject(sc, tx)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := sc.signer.Sign(b.Context(), chain.SignRequest{Serialized: s.Tx.SerializedTransaction, Testnet: true, Keys: keys}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
