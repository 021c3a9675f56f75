package sol

import (
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
)

func TestDerivationVectors(t *testing.T) {
	chaintest.Derivations(t, "SOL", SOL)
}

func TestKeys(t *testing.T) {
	good := base58.Decode("bR49hEqkMcQu1n4MVVHU8kcwf94fTNS5bhkqLuXNXQaYdimkDAhxvsH8n2Byz6dczPsVxNfLc4t1s9CZzZDJGez")
	mismatched := append([]byte(nil), good...)
	mismatched[63] ^= 1
	chaintest.Keys(t, SOL, []string{
		"", "0OIl", base58.Encode(good[:32]), base58.Encode(good[:63]), base58.Encode(append(good, 0)),
		base58.Encode(mismatched),
	})
}

// A key string comes from users (storemanagedprivatekey, imports): parse, never panic.
func FuzzAddressFromPrivateKey(f *testing.F) {
	f.Add("bR49hEqkMcQu1n4MVVHU8kcwf94fTNS5bhkqLuXNXQaYdimkDAhxvsH8n2Byz6dczPsVxNfLc4t1s9CZzZDJGez")
	f.Add("")
	f.Add("0x00")
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := SOL.AddressFromPrivateKey(s, false); err != nil && !errors.Is(err, chain.ErrInvalidKey) {
			t.Fatalf("error %v does not wrap ErrInvalidKey", err)
		}
	})
}
