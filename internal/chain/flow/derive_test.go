package flow

import (
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

func TestDerivationVectors(t *testing.T) {
	chaintest.Derivations(t, "FLOW", FLOW)
}

// The vectors hold keys with a stripped leading zero; the padded form is the same key.
func TestShortKeys(t *testing.T) {
	short := 0
	for _, v := range vectors.Derivations() {
		if v.Chain != "FLOW" {
			continue
		}
		for _, ix := range v.Indices {
			if len(ix.PrivateKey) == 64 {
				continue
			}
			short++
			padded := strings.Repeat("0", 64-len(ix.PrivateKey)) + ix.PrivateKey
			if a, err := FLOW.AddressFromPrivateKey(padded, v.Testnet); err != nil || a != ix.Address {
				t.Errorf("padded key: %q %v", a, err)
			}
		}
	}
	if short == 0 {
		t.Fatal("no FLOW vector with a stripped key")
	}
}

func TestKeys(t *testing.T) {
	chaintest.Keys(t, FLOW, []string{
		"", "0", "000", "xyz", "807daec00be9867968c54a877849b89ed434720ebab6ff11d99643fd8c20bcf2aa",
		"fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
	})
}

func BenchmarkAddressFromXPub(b *testing.B) {
	const xpub = "xpub6EDAukRG7Hia96iXviZcwWG1hTUR96gairyQ7t2yvxFsaMsod5vi1ALTxvkU9iTBeQcwUUdoPwUVkpwJrR77to3TH4ohfE2eoQynEkvtyMr"
	var i uint32
	for b.Loop() {
		if _, err := FLOW.AddressFromXPub(xpub, i, false); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
