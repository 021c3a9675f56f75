package xlm

import (
	"errors"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
)

const secret = "SB7VJ5UFVLU5BLJ3ACZOXXDI553MXRWE3CKEGGEROFX5VQ3VDL7PNA3I"

func TestDerivationVectors(t *testing.T) {
	chaintest.Derivations(t, "XLM", XLM)
	chaintest.KeypairMnemonic(t, XLM)
}

func TestKeys(t *testing.T) {
	flipped := []byte(secret)
	flipped[10] = 'A'
	chaintest.Keys(t, XLM, []string{
		"", secret[:55], secret + "A", string(flipped),
		"GB6MXC2EIYWRGHQ67K5C2LPITFCHBTR2E6WYKDKKMZP2KLMQHN2SIKQK", // an address, not a secret
		"sb7vj5ufvlu5blj3aczoxxdi553mxrwe3ckeggerofx5vq3vdl7pna3i",
		"SB7VJ5UFVLU5BLJ3ACZOXXDI553MXRWE3CKEGGEROFX5VQ3VDL7PNA3=",
	})
}

func TestAddressRoundTrip(t *testing.T) {
	const a = "GB6MXC2EIYWRGHQ67K5C2LPITFCHBTR2E6WYKDKKMZP2KLMQHN2SIKQK"
	pub, err := DecodeAddress(a)
	if err != nil || Address(pub) != a {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := DecodeAddress(secret); err == nil {
		t.Fatal("a secret decoded as an address")
	}
}

// A key string comes from users (storemanagedprivatekey, imports): parse, never panic.
func FuzzAddressFromPrivateKey(f *testing.F) {
	f.Add("SB7VJ5UFVLU5BLJ3ACZOXXDI553MXRWE3CKEGGEROFX5VQ3VDL7PNA3I")
	f.Add("")
	f.Add("0x00")
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := XLM.AddressFromPrivateKey(s, false); err != nil && !errors.Is(err, chain.ErrInvalidKey) {
			t.Fatalf("error %v does not wrap ErrInvalidKey", err)
		}
	})
}
