package egld

import (
	"errors"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

const (
	a1 = "erd1sqhjrtmsn5yjk6w85099p8v0ly0g8z9pxeqe5dvu5rlf2n7vq3vqytny9g"
	a2 = "erd1xkrttq324elvla4kk83r6wns35cjyqw7vg5tmdfn7qmrc2drd7qswlwt6z"
)

func garbage() []string {
	native := `{"nonce":3,"value":"1","receiver":"` + a1 + `","sender":"` + a2 + `","gasPrice":1000000000,"gasLimit":50000,"chainID":"1","version":2}`
	return append([]string{
		`{"to":"` + a1 + `"}`,
		`{"to":"` + a1 + `","value":"1,5"}`,
		`{"to":"` + a1 + `","value":"-1"}`,
		`{"to":"erd1x","value":"1"}`,
		`{"to":"` + a1 + `","value":"1","data":7}`,
		strings.Replace(native, `"value":"1"`, `"value":"0.5"`, 1),
		strings.Replace(native, `"nonce":3`, `"nonce":-3`, 1),
		strings.Replace(native, `"sender":"`+a2+`"`, `"sender":"bnb1z3muqpe032xmhan5744ws2xpk0530263dajv2l"`, 1),
		strings.Replace(native, `"version":2}`, `"version":2,"data":"%%%"}`, 1),
		strings.Replace(native, `,"chainID":"1"`, ``, 1),
	}, chaintest.CommonGarbage...)
}

func TestValidateTx(t *testing.T) {
	chaintest.Validator(t, "EGLD", EGLD, garbage())
	native := `{"nonce":3,"value":"1","receiver":"` + a1 + `","sender":"` + a2 + `","gasPrice":1000000000,"gasLimit":50000,"chainID":"1","version":2}`
	if err := EGLD.ValidateTx(native, true); !errors.Is(err, chain.ErrWrongNetwork) {
		t.Errorf("mainnet chainID on testnet: %v", err)
	}
	if err := EGLD.ValidateTx(strings.Replace(native, `"chainID":"1"`, `"chainID":"T"`, 1), false); !errors.Is(err, chain.ErrWrongNetwork) {
		t.Errorf("testnet chainID on mainnet: %v", err)
	}
}

func FuzzValidateTx(f *testing.F) {
	for _, r := range vectors.SigningFor("EGLD") {
		f.Add(r.PendingTransaction.SerializedTransaction, r.Testnet)
	}
	for _, g := range garbage() {
		f.Add(g, false)
	}
	f.Fuzz(func(t *testing.T, s string, testnet bool) { _ = EGLD.ValidateTx(s, testnet) })
}
