package egld

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
)

// A native transaction may leave its nonce to the server (the signer refuses
// it until then, naming it); a Tatum one without nonce must name its sender.
func TestSequenceLeftOut(t *testing.T) {
	var native string
	var key string
	for _, r := range chaintest.SigningRows(t, "EGLD") {
		if r.Format == "native" && !r.Testnet {
			native, key = r.PendingTransaction.SerializedTransaction, chaintest.VectorKey(r)
		}
	}
	noNonce := strings.Replace(native, `"nonce":3,`, ``, 1)
	if err := EGLD.ValidateTx(noNonce, false); err != nil {
		t.Fatalf("ValidateTx without nonce: %v", err)
	}
	if s, seq, err := EGLD.Sequence(noNonce, false); err != nil || seq != nil || !strings.HasPrefix(s, "erd1") {
		t.Errorf("Sequence = %s, %v, %v", s, seq, err)
	}
	if _, err := EGLD.Sign(context.Background(), chain.SignRequest{Serialized: noNonce, Keys: []string{key}}); !errors.Is(err, chain.ErrInvalidTx) || !strings.Contains(err.Error(), `"nonce"`) {
		t.Errorf("Sign without nonce: %v", err)
	}
	if _, seq, err := EGLD.Sequence(native, false); err != nil || seq == nil || *seq != 3 {
		t.Errorf("explicit nonce: %v, %v", seq, err)
	}
	if m, err := EGLD.MissingFields(noNonce); err != nil || m != nil {
		t.Errorf("MissingFields of the native form = %v, %v", m, err)
	}
	tatum := `{"to":"erd170pnxjx5a4xverafu2j2w6pfwffrpmgkdkpa9h8nv9mukz6jep0quau23r","value":"0.5"}`
	if _, _, err := EGLD.Sequence(tatum, true); !errors.Is(err, chain.ErrInvalidTx) || !strings.Contains(err.Error(), `"from"`) {
		t.Errorf("Tatum form without from: %v", err)
	}
}
