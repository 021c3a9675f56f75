package vet

import (
	"errors"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

const (
	nativeMain = "0xf8384a884239f371fcde06898202d0e0df949b429c72a5f8acb9f15e6a60274a323ed68e1fc5880429d069189e000080408252088083bc614fc0"
	tatumMain  = `{"from":0,"to":"0x16a57717cfce5988acf581e58fbc48273f63f6e6","value":"2500000000000000000","gas":21000,"chainTag":74,"blockRef":"0x0123456789abcdef","expiration":32,"gasPriceCoef":128,"nonce":77777}`
)

func garbage() []string {
	return append([]string{
		"0x", "0xzz", "0xc0", "f8384a", nativeMain[:len(nativeMain)-2], nativeMain + "00",
		strings.Replace(nativeMain, "e0df94", "e0de93", 1),                   // 19-byte recipient
		"0xf8" + "27" + "4a884239f371fcde06898202d0c1c0408252088083bc614fc0", // no clause
		strings.Replace(nativeMain, "83bc614fc0", "83bc614fc0c0", 1),         // ten fields
		strings.Replace(tatumMain, `"to":"0x16a5`, `"to":"16a5`, 1),          // no 0x
		strings.Replace(tatumMain, `"value":"2500000000000000000"`, `"value":"2.5"`, 1),
		strings.Replace(tatumMain, `"gas":21000`, `"gas":-1`, 1),
		strings.Replace(tatumMain, `"chainTag":74`, `"chainTag":300`, 1),
		strings.Replace(tatumMain, `"blockRef":"0x0123456789abcdef"`, `"blockRef":"0x0123456789abcdef00"`, 1),
		`{"value":"1"}`, `{"to":"0x16a57717cfce5988acf581e58fbc48273f63f6e6"}`,
	}, chaintest.CommonGarbage...)
}

func TestValidateTx(t *testing.T) {
	chaintest.Validator(t, "VET", VET, garbage())
	for _, s := range []string{nativeMain, tatumMain} {
		if err := VET.ValidateTx(s, true); !errors.Is(err, chain.ErrWrongNetwork) {
			t.Errorf("mainnet tag on testnet: %v", err)
		}
	}
}

func FuzzValidateTx(f *testing.F) {
	for _, r := range vectors.SigningFor("VET") {
		f.Add(r.PendingTransaction.SerializedTransaction, r.Testnet)
	}
	for _, g := range garbage() {
		f.Add(g, false)
	}
	f.Fuzz(func(t *testing.T, s string, testnet bool) { _ = VET.ValidateTx(s, testnet) })
}
