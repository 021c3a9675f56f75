package tron

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/fbsobreira/gotron-sdk/pkg/address"
	"github.com/fbsobreira/gotron-sdk/pkg/proto/core"
	"google.golang.org/protobuf/proto"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

type expected struct {
	Signed   string `json:"signed"`
	TxID     string `json:"txId"`
	From     string `json:"from"`
	SignedV1 string `json:"signed_v1"`
}

func rows(t testing.TB) []vectors.Signing { return chaintest.SigningRows(t, "TRON") }

// key is the private key a vector's wallet resolves to (a mnemonic wallet's key at its index).
func key(r vectors.Signing) string { return chaintest.VectorKey(r) }

func sign(ser string, keys ...string) (chain.Signed, error) {
	return TRON.Sign(context.Background(), chain.SignRequest{Serialized: ser, Keys: keys})
}

// Every TRON signing vector (Tatum and native forms are the same JSON), byte
// for byte; then gotron-sdk's protobuf types read raw_data_hex and name the
// same owner, and the signature recovers (go-ethereum's secp256k1, which
// gotron-sdk signs with) to the wallet's address in gotron-sdk's encoding.
func TestSignVectors(t *testing.T) {
	for _, r := range rows(t) {
		var e expected
		if err := json.Unmarshal(r.Expected, &e); err != nil {
			t.Fatal(err)
		}
		got, err := sign(r.PendingTransaction.SerializedTransaction, key(r))
		if err != nil {
			t.Fatalf("%s: %v", r.PendingTransaction.ID, err)
		}
		if got.TxData != e.Signed || got.TxID != e.TxID {
			t.Errorf("%s %s:\ngot  %s %s\nwant %s %s", r.Format, r.PendingTransaction.ID, got.TxData, got.TxID, e.Signed, e.TxID)
		}

		var out struct {
			TxID       string   `json:"txID"`
			RawDataHex string   `json:"raw_data_hex"`
			Signature  []string `json:"signature"`
		}
		if err := json.Unmarshal([]byte(got.TxData), &out); err != nil || len(out.Signature) != 1 {
			t.Fatalf("output: %v", err)
		}
		raw, _ := hex.DecodeString(out.RawDataHex)
		var rd core.TransactionRaw
		if err := proto.Unmarshal(raw, &rd); err != nil {
			t.Fatalf("gotron-sdk cannot read raw_data_hex: %v", err)
		}
		var owner []byte
		switch c := rd.GetContract()[0]; c.GetType() {
		case core.Transaction_Contract_TransferContract:
			var m core.TransferContract
			if err := c.GetParameter().UnmarshalTo(&m); err != nil {
				t.Fatal(err)
			}
			owner = m.GetOwnerAddress()
		case core.Transaction_Contract_TriggerSmartContract:
			var m core.TriggerSmartContract
			if err := c.GetParameter().UnmarshalTo(&m); err != nil {
				t.Fatal(err)
			}
			owner = m.GetOwnerAddress()
		default:
			t.Fatalf("unexpected contract type %v", c.GetType())
		}
		if address.Address(owner).String() != e.From {
			t.Errorf("owner %s, want %s", address.Address(owner), e.From)
		}
		id := sha256.Sum256(raw)
		sig, _ := hex.DecodeString(out.Signature[0])
		sig[64] -= 27
		pub, err := crypto.SigToPub(id[:], sig)
		if err != nil || address.PubkeyToAddress(*pub).String() != e.From {
			t.Errorf("signature recovers to %v (%v), want %s", pub, err, e.From)
		}
		// TronWeb 3 (Tatum 1.x) signed the same id with the high s; both recover to the wallet.
		if e.SignedV1 != "" && !strings.Contains(e.SignedV1, out.Signature[0][:64]) {
			t.Errorf("r differs from Tatum 1.x's signature")
		}
	}
}

func TestSignRefusesOtherOwner(t *testing.T) {
	r := rows(t)[0]
	other := rows(t)[len(rows(t))-1] // index 1 of the same mnemonic: another owner
	if key(other) == key(r) {
		t.Fatal("vector layout changed")
	}
	if _, err := sign(r.PendingTransaction.SerializedTransaction, key(other)); !errors.Is(err, chain.ErrWrongSigner) {
		t.Errorf("foreign key: err %v", err)
	}
	ser := r.PendingTransaction.SerializedTransaction
	// The JSON names another owner than the signed bytes.
	var v map[string]any
	_ = json.Unmarshal([]byte(ser), &v)
	rdJSON := v["raw_data"].(map[string]any)
	val := rdJSON["contract"].([]any)[0].(map[string]any)["parameter"].(map[string]any)["value"].(map[string]any)
	val["owner_address"] = "41b6e708a39781c96bd399c7657780ff9fe9f052a8"
	forged, _ := json.Marshal(v)
	if _, err := sign(string(forged), key(r)); !errors.Is(err, chain.ErrWrongSigner) {
		t.Errorf("JSON owner differs from raw_data_hex: err %v", err)
	}
	for name, s := range map[string]string{
		"no raw_data_hex":    strings.Replace(ser, `"raw_data_hex"`, `"raw_data_hex_"`, 1),
		"expiration differs": strings.Replace(ser, `"expiration":1900000060001`, `"expiration":1900000060002`, 1),
		"timestamp differs":  strings.Replace(ser, `"timestamp":1900000000001`, `"timestamp":1900000000002`, 1),
		"already signed":     strings.TrimSuffix(ser, "}") + `,"signature":["00"]}`,
		"repeated member":    strings.TrimSuffix(ser, "}") + `,"visible":true}`,
	} {
		if s == ser {
			t.Fatalf("%s: vector layout changed", name)
		}
		if _, err := sign(s, key(r)); !errors.Is(err, chain.ErrInvalidTx) {
			t.Errorf("%s: err %v", name, err)
		}
	}
	// An empty signature list is replaced by the signature.
	withEmpty := strings.Replace(ser, `{"visible":false,`, `{"signature":[],"visible":false,`, 1)
	want, _ := sign(ser, key(r))
	if got, err := sign(withEmpty, key(r)); err != nil || got.TxID != want.TxID || len(got.TxData) != len(want.TxData) {
		t.Errorf("empty signature list: %v", err)
	}
	// Whitespace in the input does not change the output.
	var pretty bytes.Buffer
	_ = json.Indent(&pretty, []byte(ser), "", "  ")
	if got, err := sign(pretty.String(), key(r)); err != nil || got != want {
		t.Errorf("indented input: %v", err)
	}
	for _, bad := range []string{"", "00", "zz", key(r) + "00"} {
		if _, err := sign(ser, bad); !errors.Is(err, chain.ErrInvalidKey) {
			t.Errorf("bad key: err %v", err)
		}
	}
	if _, err := sign(ser, key(r), key(r)); !errors.Is(err, chain.ErrInvalidKey) {
		t.Errorf("two keys: err %v", err)
	}
}

// parseRaw against gotron-sdk's generated decoder on the vectors' raw data.
func TestParseRaw(t *testing.T) {
	for _, r := range rows(t) {
		var tx struct {
			RawDataHex string `json:"raw_data_hex"`
		}
		_ = json.Unmarshal([]byte(r.PendingTransaction.SerializedTransaction), &tx)
		raw, _ := hex.DecodeString(tx.RawDataHex)
		got, err := parseRaw(raw)
		if err != nil {
			t.Fatal(err)
		}
		var ref core.TransactionRaw
		if err := proto.Unmarshal(raw, &ref); err != nil {
			t.Fatal(err)
		}
		if got.expiration != ref.GetExpiration() || got.timestamp != ref.GetTimestamp() ||
			hex.EncodeToString(got.refBlockHash) != hex.EncodeToString(ref.GetRefBlockHash()) ||
			len(got.contracts) != len(ref.GetContract()) || got.contracts[0].typ != uint64(ref.GetContract()[0].GetType()) {
			t.Errorf("parseRaw disagrees with gotron-sdk")
		}
	}
	for _, bad := range [][]byte{{0x0a}, {0x0a, 0x05, 1}, {0x5a, 0x00}, {0x5a, 0x02, 0x12, 0x00}, {0x0f}, {0x40}} {
		if _, err := parseRaw(bad); err == nil {
			t.Errorf("parseRaw(%x) accepted", bad)
		}
	}
}

func FuzzSign(f *testing.F) {
	for _, r := range rows(f) {
		f.Add(r.PendingTransaction.SerializedTransaction)
	}
	for _, g := range garbage() {
		f.Add(g)
	}
	k := key(rows(f)[0])
	f.Fuzz(func(t *testing.T, s string) {
		got, err := sign(s, k)
		if err == nil {
			if !json.Valid([]byte(got.TxData)) {
				t.Fatal("signed output is not JSON")
			}
			return
		}
		if !errors.Is(err, chain.ErrInvalidTx) && !errors.Is(err, chain.ErrWrongSigner) {
			t.Fatalf("error %v wraps neither ErrInvalidTx nor ErrWrongSigner", err)
		}
	})
}

func FuzzParseRaw(f *testing.F) {
	for _, r := range rows(f) {
		var tx struct {
			RawDataHex string `json:"raw_data_hex"`
		}
		_ = json.Unmarshal([]byte(r.PendingTransaction.SerializedTransaction), &tx)
		raw, _ := hex.DecodeString(tx.RawDataHex)
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = parseRaw(b) })
}
