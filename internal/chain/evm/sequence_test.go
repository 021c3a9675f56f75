package evm

import (
	"errors"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain"
)

func TestSequence(t *testing.T) {
	const from = "0xB157E208264FF9EDEBBCB1D36E66D156DF8AFA6C"
	sender, seq, err := ETH.Sequence(`{"to":"`+from+`","value":"1","from":"`+from+`"}`, true)
	if err != nil || sender != strings.ToLower(from) || seq != nil {
		t.Fatalf("no nonce: %q %v %v", sender, seq, err)
	}
	if _, seq, err := ETH.Sequence(`{"to":"`+from+`","value":"1","nonce":"0x1f"}`, true); err != nil || seq == nil || *seq != 31 {
		t.Fatalf("given nonce: %v %v", seq, err)
	}
	if _, _, err := ETH.Sequence(`{"to":"`+from+`","value":"1"}`, true); !errors.Is(err, chain.ErrInvalidTx) || !strings.Contains(err.Error(), "from") {
		t.Fatalf("neither nonce nor from: %v", err)
	}

	in := `{"value": 1.5e18, "to":"` + from + `","from":"` + from + `","gas":21000}`
	out, err := ETH.WithSequence(in, 31)
	if err != nil || !strings.Contains(out, `"nonce":"0x1f"`) || !strings.Contains(out, `"value":1.5e18`) || !strings.Contains(out, `"gas":21000`) {
		t.Fatalf("WithSequence = %s, %v", out, err)
	}
	if _, err := ETH.WithSequence("0xe3", 1); !errors.Is(err, chain.ErrInvalidTx) {
		t.Fatalf("WithSequence of a native transaction: %v", err)
	}

	f, err := ETH.Filler(strings.ToLower(from), 7)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := ETH.ParseTx(f)
	if err != nil || *tx.Nonce != 7 || tx.Value.Sign() != 0 || *tx.To != *tx.From || !strings.EqualFold(tx.From.Hex(), from) {
		t.Fatalf("filler %s: %v", f, err)
	}
}
