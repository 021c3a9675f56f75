package remotekey

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/custoskms/custos/internal/remotekey/awskms/kmstest"
)

func TestOpenPinsTheRegisteredKey(t *testing.T) {
	ep := kmstest.Endpoint(t)
	ctx := context.Background()
	ref := Ref{Backend: AWSKMS, KeyID: kmstest.CreateKey(t, ep, types.KeySpecEccSecgP256k1), Region: kmstest.Region, Endpoint: ep}
	ref, pub, err := Register(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	k, err := Open(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k.PublicKey(ctx); err != nil || !got.IsEqual(pub) {
		t.Fatalf("public key %v, %v", got, err)
	}
	// The same record pointing at another key: what an alias moved to
	// another key looks like.
	moved := ref
	moved.KeyID = kmstest.CreateKey(t, ep, types.KeySpecEccSecgP256k1)
	k, err = Open(ctx, moved)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.PublicKey(ctx); !errors.Is(err, ErrKeyChanged) {
		t.Fatalf("another key: err %v, want ErrKeyChanged", err)
	}
}

func TestOpenRefusesBadRefs(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, Ref{Backend: "hsm", KeyID: "x", PublicKey: "02"}); err == nil {
		t.Error("a ref without a valid public key opened")
	}
	good := "02" + "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
	if _, err := Open(ctx, Ref{Backend: "hsm", KeyID: "x", PublicKey: good}); !errors.Is(err, ErrUnknownBackend) {
		t.Errorf("unknown backend: err %v", err)
	}
}
