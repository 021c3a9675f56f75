package tron

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"strconv"
	"testing"

	"github.com/btcsuite/btcd/btcutil/base58"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

// base58Of is a hex 41… address of the vectors' JSON in the T… form.
func base58Of(t *testing.T, h string) string {
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 21 {
		t.Fatalf("address %q", h)
	}
	return base58.CheckEncode(b[1:], b[0])
}

// Each TRON vector's intent is its JSON raw_data: a TransferContract's
// to_address and amount, or a TriggerSmartContract's TRC-20 transfer read off
// its data (recipient word, amount word) with the contract as asset, and
// fee_limit.
func TestIntentVectors(t *testing.T) {
	chaintest.IntentVectors(t, "TRON", TRON, nil, nil, func(t *testing.T, r vectors.Signing, got intent.Intent) {
		var tx struct {
			RawData struct {
				Contract []struct {
					Type      string
					Parameter struct {
						Value struct {
							Amount          uint64
							OwnerAddress    string `json:"owner_address"`
							ToAddress       string `json:"to_address"`
							ContractAddress string `json:"contract_address"`
							Data            string
						}
					}
				}
				FeeLimit uint64 `json:"fee_limit"`
			} `json:"raw_data"`
		}
		if err := json.Unmarshal([]byte(r.PendingTransaction.SerializedTransaction), &tx); err != nil {
			t.Fatal(err)
		}
		name := r.PendingTransaction.ID
		v := tx.RawData.Contract[0].Parameter.Value
		switch tx.RawData.Contract[0].Type {
		case "TransferContract":
			chaintest.WantTransfers(t, name, got.Transfers, []intent.Transfer{{To: base58Of(t, v.ToAddress), Amount: strconv.FormatUint(v.Amount, 10)}})
			if got.Fee != nil || len(got.Calls) != 0 {
				t.Errorf("%s: fee %+v calls %+v", name, got.Fee, got.Calls)
			}
		case "TriggerSmartContract":
			amount, _ := new(big.Int).SetString(v.Data[72:136], 16)
			contract := base58Of(t, v.ContractAddress)
			chaintest.WantTransfers(t, name, got.Transfers, []intent.Transfer{{To: base58Of(t, "41"+v.Data[32:72]), Amount: amount.String(), Asset: contract}})
			chaintest.WantFee(t, name, got.Fee, intent.Fee{Max: strconv.FormatUint(tx.RawData.FeeLimit, 10)})
			if len(got.Calls) != 1 || got.Calls[0] != (intent.Call{Contract: contract, Method: "0x" + v.Data[:8], Data: v.Data}) {
				t.Errorf("%s: calls %+v", name, got.Calls)
			}
		default:
			t.Fatalf("%s: contract type %s", name, tx.RawData.Contract[0].Type)
		}
		if len(got.Signers) != 1 || got.Signers[0] != base58Of(t, v.OwnerAddress) {
			t.Errorf("%s: signers %q", name, got.Signers)
		}
	})
}

// trc10 is a TransferAssetContract of the first vector's owner, as raw_data_hex only.
func trc10(t *testing.T) (ser, owner, to string) {
	r := rows(t)[0]
	var tx struct {
		RawData struct {
			Contract []struct {
				Parameter struct {
					Value struct {
						OwnerAddress string `json:"owner_address"`
						ToAddress    string `json:"to_address"`
					}
				}
			}
		} `json:"raw_data"`
	}
	if err := json.Unmarshal([]byte(r.PendingTransaction.SerializedTransaction), &tx); err != nil {
		t.Fatal(err)
	}
	v := tx.RawData.Contract[0].Parameter.Value
	ob, _ := hex.DecodeString(v.OwnerAddress)
	tb, _ := hex.DecodeString(v.ToAddress)
	var msg []byte
	msg = protowire.AppendTag(msg, 1, protowire.BytesType)
	msg = protowire.AppendBytes(msg, []byte("1002000"))
	msg = protowire.AppendTag(msg, 2, protowire.BytesType)
	msg = protowire.AppendBytes(msg, ob)
	msg = protowire.AppendTag(msg, 3, protowire.BytesType)
	msg = protowire.AppendBytes(msg, tb)
	msg = protowire.AppendTag(msg, 4, protowire.VarintType)
	msg = protowire.AppendVarint(msg, 42)
	var anyMsg []byte
	anyMsg = protowire.AppendTag(anyMsg, 1, protowire.BytesType)
	anyMsg = protowire.AppendBytes(anyMsg, []byte("type.googleapis.com/protocol.TransferAssetContract"))
	anyMsg = protowire.AppendTag(anyMsg, 2, protowire.BytesType)
	anyMsg = protowire.AppendBytes(anyMsg, msg)
	var ct []byte
	ct = protowire.AppendTag(ct, 1, protowire.VarintType)
	ct = protowire.AppendVarint(ct, 2)
	ct = protowire.AppendTag(ct, 2, protowire.BytesType)
	ct = protowire.AppendBytes(ct, anyMsg)
	var raw []byte
	raw = protowire.AppendTag(raw, 1, protowire.BytesType)
	raw = protowire.AppendBytes(raw, []byte{0xd1, 0x2e})
	raw = protowire.AppendTag(raw, 4, protowire.BytesType)
	raw = protowire.AppendBytes(raw, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	raw = protowire.AppendTag(raw, 8, protowire.VarintType)
	raw = protowire.AppendVarint(raw, 1900000060001)
	raw = protowire.AppendTag(raw, 10, protowire.BytesType)
	raw = protowire.AppendBytes(raw, []byte("invoice 7"))
	raw = protowire.AppendTag(raw, 11, protowire.BytesType)
	raw = protowire.AppendBytes(raw, ct)
	id := sha256.Sum256(raw)
	return `{"txID":"` + hex.EncodeToString(id[:]) + `","raw_data_hex":"` + hex.EncodeToString(raw) + `"}`,
		base58Of(t, v.OwnerAddress), base58Of(t, v.ToAddress)
}

// A TRC-10 transfer names its owner in field 2 (field 1 is the asset):
// Intent shows the owner, the token id and the memo, and Sign signs it
// with the owner's key.
func TestIntentTRC10(t *testing.T) {
	ser, owner, to := trc10(t)
	got, err := TRON.Intent(ser, false)
	if err != nil {
		t.Fatal(err)
	}
	chaintest.WantTransfers(t, "trc10", got.Transfers, []intent.Transfer{{To: to, Amount: "42", Asset: "1002000"}})
	if len(got.Signers) != 1 || got.Signers[0] != owner || got.Memo != "invoice 7" {
		t.Errorf("signers %q memo %q", got.Signers, got.Memo)
	}
	if _, err := sign(ser, key(rows(t)[0])); err != nil {
		t.Errorf("Sign of the owner's TRC-10 transfer: %v", err)
	}
}

func FuzzIntent(f *testing.F) { chaintest.FuzzIntent(f, TRON, chaintest.Seeds("TRON")...) }
