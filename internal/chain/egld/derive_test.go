package egld

import (
	"errors"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
)

func TestDerivationVectors(t *testing.T) {
	chaintest.Derivations(t, "EGLD", EGLD)
}

func TestKeys(t *testing.T) {
	chaintest.Keys(t, EGLD, []string{
		"", "0eb89d816d68610683f209074af218d121a7c7db45d861fbdd959ec662b6404",
		"0eb89d816d68610683f209074af218d121a7c7db45d861fbdd959ec662b6404b00",
		"0xb89d816d68610683f209074af218d121a7c7db45d861fbdd959ec662b6404b",
		"zeb89d816d68610683f209074af218d121a7c7db45d861fbdd959ec662b6404b",
	})
}

func TestAddressRoundTrip(t *testing.T) {
	const a = "erd1sqhjrtmsn5yjk6w85099p8v0ly0g8z9pxeqe5dvu5rlf2n7vq3vqytny9g"
	pub, err := DecodeAddress(a)
	if err != nil || Address(pub) != a {
		t.Fatalf("round trip: %v", err)
	}
	for _, bad := range []string{"", "erd1", a[:len(a)-1] + "h", "bnb1z3muqpe032xmhan5744ws2xpk0530263dajv2l"} {
		if _, err := DecodeAddress(bad); err == nil {
			t.Errorf("DecodeAddress(%q) accepted", bad)
		}
	}
}

// A key string comes from users (storemanagedprivatekey, imports): parse, never panic.
func FuzzAddressFromPrivateKey(f *testing.F) {
	f.Add("0eb89d816d68610683f209074af218d121a7c7db45d861fbdd959ec662b6404b")
	f.Add("")
	f.Add("0x00")
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := EGLD.AddressFromPrivateKey(s, false); err != nil && !errors.Is(err, chain.ErrInvalidKey) {
			t.Fatalf("error %v does not wrap ErrInvalidKey", err)
		}
	})
}
