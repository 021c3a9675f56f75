package tron

import (
	"testing"

	"github.com/custoskms/custos/internal/chain/chaintest"
)

func TestDerivationVectors(t *testing.T) {
	chaintest.Derivations(t, "TRON", TRON)
}

func TestKeys(t *testing.T) {
	chaintest.Keys(t, TRON, []string{
		"", "0x", "zz", "b5a4cea271ff424d7c31dc12a3e43e401df7a40d7412a15750f3f0b6b5449a2",
		"b5a4cea271ff424d7c31dc12a3e43e401df7a40d7412a15750f3f0b6b5449a2800",
		"g5a4cea271ff424d7c31dc12a3e43e401df7a40d7412a15750f3f0b6b5449a28",
		"0000000000000000000000000000000000000000000000000000000000000000",
		"fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
	})
}

func BenchmarkAddressFromXPub(b *testing.B) {
	const xpub = "xpub6EuK4CZWW5urEHdwAVDdDw327danAtccFcrXYvgf1DHrPXRwErt36xStQ2PNhn4hpwzPbzJ8pJVpewgChRnSs59q5Ay61GCfQZKUe71gbLq"
	var i uint32
	for b.Loop() {
		if _, err := TRON.AddressFromXPub(xpub, i, false); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
