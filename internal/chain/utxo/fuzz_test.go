package utxo

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/vectors"
)

// fuzzOne feeds one serializedTransaction to every chain's validator and, when
// it is accepted, to the signer: neither may panic, and a refusal must be a
// chain.ErrInvalidTx (or, from Sign, a key/fee refusal).
func fuzzOne(t *testing.T, s string, keys map[bool][]string) {
	for _, c := range all {
		for _, testnet := range []bool{false, true} {
			err := c.ValidateTx(s, testnet)
			if err != nil {
				if !errors.Is(err, chain.ErrInvalidTx) {
					t.Fatalf("%s: refusal is not ErrInvalidTx: %v", c.Info().Code, err)
				}
				continue
			}
			_, err = c.Sign(context.Background(), chain.SignRequest{Serialized: s, Testnet: testnet, Keys: keys[testnet]})
			if err != nil && !errors.Is(err, ErrKeyNotFound) && !errors.Is(err, ErrFeeTooHigh) && !errors.Is(err, chain.ErrInvalidTx) && !errors.Is(err, chain.ErrInvalidKey) {
				t.Fatalf("%s: unexpected Sign error: %v", c.Info().Code, err)
			}
		}
	}
}

func seedVectors(f *testing.F, keep func(string) bool) {
	for _, code := range []string{"BTC", "LTC", "DOGE", "BCH"} {
		for _, v := range vectors.SigningFor(code) {
			if s := v.PendingTransaction.SerializedTransaction; keep(s) {
				f.Add(s)
			}
		}
	}
}

func fuzzKeys(f *testing.F) map[bool][]string {
	return map[bool][]string{false: {wifAt(f, BTC, 0, false)}, true: {wifAt(f, BTC, 0, true)}}
}

func FuzzParsePSBT(f *testing.F) {
	seedVectors(f, func(s string) bool { return strings.HasPrefix(s, psbtMagicB64) })
	f.Add(psbtMagicB64 + "AAAA")
	keys := fuzzKeys(f)
	f.Fuzz(func(t *testing.T, s string) { fuzzOne(t, s, keys) })
}

func FuzzParseBitcore(f *testing.F) {
	seedVectors(f, func(s string) bool { return strings.HasPrefix(s, "{") })
	f.Add(`{"version":1,"inputs":[{}],"outputs":[{}]}`)
	keys := fuzzKeys(f)
	f.Fuzz(func(t *testing.T, s string) { fuzzOne(t, s, keys) })
}

func FuzzParseBCH(f *testing.F) {
	seedVectors(f, func(s string) bool { return strings.Contains(s, ":[") })
	f.Add("00:[]")
	keys := fuzzKeys(f)
	f.Fuzz(func(t *testing.T, s string) { fuzzOne(t, s, keys) })
}
