package vet

import (
	"testing"

	"github.com/custoskms/custos/internal/chain/chaintest"
)

func TestDerivationVectors(t *testing.T) {
	chaintest.Derivations(t, "VET", VET)
}

func TestKeys(t *testing.T) {
	chaintest.Keys(t, VET, []string{
		"", "0x", "0xzz", "0x307f098332f41fe361243bcfb6b5605bf7c31052c3cde7a57434cd3199c7f6",
		"0x307f098332f41fe361243bcfb6b5605bf7c31052c3cde7a57434cd3199c7f6c0aa",
		"0x0000000000000000000000000000000000000000000000000000000000000000",
	})
}

func BenchmarkAddressFromXPub(b *testing.B) {
	const xpub = "xpub6EV2C29DE2vifLG7VfDz3SrnW9ZJCGFXyi8sB4VaTDicJThQSm2LCftd54R7PgaHdr9izo7GnVH1FKj678DU3vrimvZRJuiBDj4dTBDXuLK"
	var i uint32
	for b.Loop() {
		if _, err := VET.AddressFromXPub(xpub, i, false); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
