package vet

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

type expected = chaintest.Expected

func key(r vectors.Signing) string { return chaintest.VectorKey(r) }

// Every VET signing vector (thorify through Tatum's SDK, and thor-devkit for
// the native RLP) is reproduced byte for byte, and the signature is checked a
// second way: go-ethereum's secp256k1 recovery over blake2b(body) gives the sender.
func TestSignVectors(t *testing.T) {
	chaintest.SignVectors(t, "VET", VET, chaintest.AsGiven, nil, func(t *testing.T, _ vectors.Signing, req chain.SignRequest, want chaintest.Expected, got chain.Signed) {
		raw, _ := hex.DecodeString(strings.TrimPrefix(got.TxData, "0x"))
		id, origin, err := DecodeSigned(raw)
		if err != nil || id != want.TxID || origin != want.From {
			t.Errorf("DecodeSigned: %s %s %v", id, origin, err)
		}
		// Independent route: go-ethereum's Ecrecover on the signing hash.
		var s signedBody
		if err := rlpDecode(raw, &s); err != nil {
			t.Fatal(err)
		}
		h, _ := SigningHash(&body{s.ChainTag, s.BlockRef, s.Expiration, s.Clauses, s.GasPriceCoef, s.Gas, s.DependsOn, s.Nonce, s.Reserved})
		pub, err := crypto.SigToPub(h[:], s.Signature)
		if err != nil || !strings.EqualFold(crypto.PubkeyToAddress(*pub).Hex(), want.From) {
			t.Errorf("go-ethereum recovery: %v", err)
		}
		again, _ := VET.Sign(context.Background(), req)
		if again != got {
			t.Error("signing twice gave different bytes")
		}
	})
}

func TestSignRefusals(t *testing.T) {
	rows := vectors.SigningFor("VET")
	ctx := context.Background()
	for _, r := range rows {
		req := chain.SignRequest{Serialized: r.PendingTransaction.SerializedTransaction, Testnet: !r.Testnet, Keys: []string{key(r)}}
		if _, err := VET.Sign(ctx, req); !errors.Is(err, chain.ErrWrongNetwork) {
			t.Errorf("%s on the other network: %v", r.PendingTransaction.ID, err)
		}
	}
	tatum := rows[0]
	for _, r := range rows {
		if r.Format == "tatum" && !r.Testnet {
			tatum = r
		}
	}
	k := key(tatum)
	other := "0x" + strings.Repeat("11", 32)
	s := tatum.PendingTransaction.SerializedTransaction
	cases := map[string]struct {
		ser  string
		keys []string
		want error
	}{
		"from is another address": {strings.Replace(s, `"from":0`, `"from":"0x16a57717cfce5988acf581e58fbc48273f63f6e6"`, 1), []string{k}, chain.ErrWrongSigner},
		"no nonce":                {strings.Replace(s, `,"nonce":77777`, ``, 1), []string{k}, chain.ErrInvalidTx},
		"no blockRef":             {strings.Replace(s, `"blockRef":"0x0123456789abcdef",`, ``, 1), []string{k}, chain.ErrInvalidTx},
		"gas beyond 64 bits":      {strings.Replace(s, `"gas":21000`, `"gas":"0x10000000000000000"`, 1), []string{k}, chain.ErrInvalidTx},
		"two keys":                {s, []string{k, other}, chain.ErrInvalidKey},
		"bad key":                 {s, []string{"0x12"}, chain.ErrInvalidKey},
		"delegated":               {"0xf8394a884239f371fcde06898202d0e0df949b429c72a5f8acb9f15e6a60274a323ed68e1fc5880429d069189e000080408252088083bc614fc101", []string{k}, chain.ErrInvalidTx},
		"non-canonical":           {"0xf8394a884239f371fcde06898202d0e0df949b429c72a5f8acb9f15e6a60274a323ed68e1fc5880429d069189e00008040830052088083bc614fc0", []string{k}, chain.ErrInvalidTx},
	}
	for name, c := range cases {
		_, err := VET.Sign(ctx, chain.SignRequest{Serialized: c.ser, Keys: c.keys})
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", name, err, c.want)
		}
	}
	if _, err := VET.Sign(ctx, chain.SignRequest{Serialized: cases["delegated"].ser, Keys: []string{k}}); err == nil || !strings.Contains(err.Error(), "fee delegation") {
		t.Errorf("delegated transaction: %v", err)
	}
	// The managed wallet's own address as from is fine.
	own := strings.Replace(s, `"from":0`, `"from":"0xDB62FE39887B1B3B80A05E16596150CCDB12199E"`, 1)
	if _, err := VET.Sign(ctx, chain.SignRequest{Serialized: own, Keys: []string{k}}); err != nil {
		t.Errorf("own address as from: %v", err)
	}
}

func FuzzDecodeSigned(f *testing.F) {
	for _, r := range vectors.SigningFor("VET") {
		var want expected
		_ = json.Unmarshal(r.Expected, &want)
		raw, _ := hex.DecodeString(strings.TrimPrefix(want.Signed, "0x"))
		f.Add(raw)
	}
	f.Add([]byte{0xc0})
	f.Fuzz(func(t *testing.T, raw []byte) { _, _, _ = DecodeSigned(raw) })
}

func FuzzSign(f *testing.F) {
	for _, r := range vectors.SigningFor("VET") {
		f.Add(r.PendingTransaction.SerializedTransaction, r.Testnet)
	}
	k := "0x307f098332f41fe361243bcfb6b5605bf7c31052c3cde7a57434cd3199c7f6c0"
	f.Fuzz(func(t *testing.T, s string, testnet bool) {
		_, err := VET.Sign(context.Background(), chain.SignRequest{Serialized: s, Testnet: testnet, Keys: []string{k}})
		if err != nil && !errors.Is(err, chain.ErrInvalidTx) && !errors.Is(err, chain.ErrWrongNetwork) && !errors.Is(err, chain.ErrWrongSigner) {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}

func rlpDecode(raw []byte, v any) error { return rlp.DecodeBytes(raw, v) }

func BenchmarkSign(b *testing.B) {
	r := vectors.SigningFor("VET")[2]
	req := chain.SignRequest{Serialized: r.PendingTransaction.SerializedTransaction, Testnet: r.Testnet, Keys: []string{key(r)}}
	for b.Loop() {
		if _, err := VET.Sign(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
