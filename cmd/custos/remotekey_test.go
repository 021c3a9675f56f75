package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/ethereum/go-ethereum/common"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/remotekey/awskms"
	"github.com/custoskms/custos/internal/remotekey/awskms/kmstest"
)

// storemanagedkey --aws-kms registers a KMS key: the address is the key's,
// the store holds where the key is and no secret, and no private key can be
// printed. A key of another curve stores nothing.
func TestStoreManagedKeyAWSKMS(t *testing.T) {
	ep := kmstest.Endpoint(t)
	id := kmstest.CreateKey(t, ep, types.KeySpecEccSecgP256k1)
	k := newKeyCLI(t)
	var out sigOut
	k.ok(&out, nil, "storemanagedkey", "ETH", "--aws-kms", id, "--aws-region", kmstest.Region, "--aws-endpoint", ep)
	key, err := awskms.New(context.Background(), awskms.Config{KeyID: id, Region: kmstest.Region, Endpoint: ep})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := key.PublicKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := common.Address(chain.KeccakAddress(pub)).Hex()
	if out.SignatureID == "" || !strings.EqualFold(out.Address, want) {
		t.Fatalf("stored %+v, want the key's address %s", out, want)
	}
	var addr struct{ Address string }
	k.ok(&addr, nil, "getaddress", out.SignatureID, "0")
	if addr.Address != out.Address {
		t.Errorf("getaddress %s, want %s", addr.Address, out.Address)
	}
	stored, _, _ := k.run(nil, "getmanagedwallet", out.SignatureID)
	if !strings.Contains(stored, `"keyId":"`+id+`"`) || strings.Contains(stored, "privateKey") || strings.Contains(stored, "mnemonic") {
		t.Errorf("getmanagedwallet printed %s", stored)
	}
	k.fails("no private key", nil, "getprivatekey", out.SignatureID, "0")
	report, _, _ := k.run(nil, "report", out.SignatureID)
	if !strings.Contains(report, `"type":"aws-kms"`) || !strings.Contains(report, `"keyId":"`+id+`"`) {
		t.Errorf("report says %s", report)
	}
	k.fails(awskms.ErrKeySpec.Error(), nil, "storemanagedkey", "ETH", "--aws-kms", kmstest.CreateKey(t, ep, types.KeySpecEccNistP256),
		"--aws-region", kmstest.Region, "--aws-endpoint", ep)
	k.fails("cannot sign with a key held outside", nil, "storemanagedkey", "TRON", "--aws-kms", id,
		"--aws-region", kmstest.Region, "--aws-endpoint", ep)
}
