package egld

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

type expected = chaintest.Expected

// completed is a Tatum-format vector's transaction with the values the node
// answered (node_answers) added, as the server completes it at creation.
func completed(t testing.TB, r vectors.Signing) string {
	if r.Format != "tatum" {
		return r.PendingTransaction.SerializedTransaction
	}
	var answers []struct {
		Request string `json:"request"`
		Result  struct {
			Data struct {
				Config struct {
					ChainID    string `json:"erd_chain_id"`
					MinGas     uint64 `json:"erd_min_gas_price"`
					MinVersion uint32 `json:"erd_min_transaction_version"`
				} `json:"config"`
				Nonce      *uint64 `json:"nonce"`
				TxGasUnits *uint64 `json:"txGasUnits"`
			} `json:"data"`
		} `json:"result"`
	}
	if err := json.Unmarshal(r.NodeAnswers, &answers); err != nil {
		t.Fatal(err)
	}
	var o map[string]any
	if err := json.Unmarshal([]byte(r.PendingTransaction.SerializedTransaction), &o); err != nil {
		t.Fatal(err)
	}
	for _, a := range answers {
		d := a.Result.Data
		switch {
		case strings.Contains(a.Request, "/network/config"):
			o["chainID"], o["gasPrice"], o["version"] = d.Config.ChainID, d.Config.MinGas, d.Config.MinVersion
		case d.Nonce != nil:
			o["nonce"] = *d.Nonce
		case d.TxGasUnits != nil:
			o["gasLimit"] = *d.TxGasUnits
		}
	}
	b, _ := json.Marshal(o)
	return string(b)
}

func key(r vectors.Signing) string { return chaintest.VectorKey(r) }

// Every EGLD vector (erdjs through Tatum's SDK; @multiversx/sdk-core for the
// native form) is reproduced byte for byte, txId included (sdk-core's
// protobuf hash), and the signature verifies with ed25519 over the signing JSON.
func TestSignVectors(t *testing.T) {
	serialized := func(r vectors.Signing) string { return completed(t, r) }
	chaintest.SignVectors(t, "EGLD", EGLD, serialized, nil, func(t *testing.T, _ vectors.Signing, _ chain.SignRequest, want chaintest.Expected, got chain.Signed) {
		tx, err := ParseSigned(got.TxData)
		if err != nil || tx.Hash() != want.TxID || tx.Sender != want.From {
			t.Errorf("ParseSigned: %v", err)
			return
		}
		pub, _ := DecodeAddress(want.From)
		if !ed25519.Verify(pub, tx.SigningBytes(), tx.Signature) {
			t.Error("signature does not verify")
		}
	})
}

func TestSignRefusals(t *testing.T) {
	ctx := context.Background()
	for _, r := range vectors.SigningFor("EGLD") {
		req := chain.SignRequest{Serialized: completed(t, r), Testnet: !r.Testnet, Keys: []string{key(r)}}
		if _, err := EGLD.Sign(ctx, req); !errors.Is(err, chain.ErrWrongNetwork) {
			t.Errorf("%s on the other network: %v", r.PendingTransaction.ID, err)
		}
		other := "00" + strings.Repeat("11", 31)
		req.Testnet, req.Keys = r.Testnet, []string{other}
		if _, err := EGLD.Sign(ctx, req); !errors.Is(err, chain.ErrWrongSigner) {
			t.Errorf("%s with another key: %v", r.PendingTransaction.ID, err)
		}
		if r.Format == "tatum" {
			req.Serialized, req.Keys = r.PendingTransaction.SerializedTransaction, []string{key(r)}
			_, err := EGLD.Sign(ctx, req)
			if !errors.Is(err, chain.ErrInvalidTx) || !strings.Contains(err.Error(), "nonce") {
				t.Errorf("incomplete Tatum transaction: %v", err)
			}
		}
	}
	native := vectors.SigningFor("EGLD")[2]
	k := key(native)
	s := native.PendingTransaction.SerializedTransaction
	for name, ser := range map[string]string{
		"guarded":    strings.Replace(s, `"version":2}`, `"version":2,"options":2}`, 1),
		"version 3":  strings.Replace(s, `"version":2}`, `"version":3}`, 1),
		"chainID":    strings.Replace(s, `"chainID":"1"`, `"chainID":"1\u003c"`, 1),
		"signed":     strings.Replace(s, `"version":2}`, `"version":2,"signature":"00"}`, 1),
		"value frac": strings.Replace(s, `"value":"200000000000000000"`, `"value":"0.2"`, 1),
	} {
		if _, err := EGLD.Sign(ctx, chain.SignRequest{Serialized: ser, Keys: []string{k}}); !errors.Is(err, chain.ErrInvalidTx) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Golden values of the EGLD amount conversion (Tatum gives EGLD, the chain wants 10^-18).
func TestParseEGLD(t *testing.T) {
	for in, want := range map[string]string{"0": "0", "1": "1000000000000000000", "0.5": "500000000000000000",
		"1.25": "1250000000000000000", "0.000000000000000001": "1", "123456789.123456789123456789": "123456789123456789123456789"} {
		if got, err := parseEGLD(in); err != nil || got.String() != want {
			t.Errorf("parseEGLD(%s) = %v %v, want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", ".5", "1.", "1.0000000000000000001", "-1", "1e18"} {
		if _, err := parseEGLD(bad); err == nil {
			t.Errorf("parseEGLD(%q) accepted", bad)
		}
	}
}

func FuzzParseSigned(f *testing.F) {
	for _, r := range vectors.SigningFor("EGLD") {
		var want expected
		_ = json.Unmarshal(r.Expected, &want)
		f.Add(want.Signed)
	}
	f.Add(`{"signature":"` + hex.EncodeToString(make([]byte, 64)) + `"}`)
	f.Fuzz(func(t *testing.T, s string) {
		if tx, err := ParseSigned(s); err == nil {
			_ = tx.Hash()
		}
	})
}

func FuzzSign(f *testing.F) {
	for _, r := range vectors.SigningFor("EGLD") {
		f.Add(completed(f, r), r.Testnet)
		f.Add(r.PendingTransaction.SerializedTransaction, r.Testnet)
	}
	k := "0eb89d816d68610683f209074af218d121a7c7db45d861fbdd959ec662b6404b"
	f.Fuzz(func(t *testing.T, s string, testnet bool) {
		_, err := EGLD.Sign(context.Background(), chain.SignRequest{Serialized: s, Testnet: testnet, Keys: []string{k}})
		if err != nil && !errors.Is(err, chain.ErrInvalidTx) && !errors.Is(err, chain.ErrWrongNetwork) && !errors.Is(err, chain.ErrWrongSigner) {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}

func BenchmarkSign(b *testing.B) {
	r := vectors.SigningFor("EGLD")[2]
	req := chain.SignRequest{Serialized: r.PendingTransaction.SerializedTransaction, Testnet: r.Testnet, Keys: []string{key(r)}}
	for b.Loop() {
		if _, err := EGLD.Sign(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
