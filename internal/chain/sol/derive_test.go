package sol

import (
	"testing"

	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/custoskms/custos/internal/chain/chaintest"
)

func TestDerivationVectors(t *testing.T) {
	if n := chaintest.Derivations(t, "SOL", SOL); n == 0 {
		t.Fatal("no SOL vectors")
	}
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
