package chains

import (
	"testing"

	"github.com/custoskms/custos/internal/chain"
)

// TestIntentComplete requires the account chains outside the EVM and UTXO
// families to decode intents: the signer daemon's policy and approval read
// a transaction's intent, and a chain without one is signed undecoded.
func TestIntentComplete(t *testing.T) {
	for _, code := range []string{"SOL", "XLM", "XRP", "TRON", "VET", "FLOW", "EGLD", "BNB"} {
		c, err := Lookup(code)
		if err != nil {
			t.Errorf("%s: %v", code, err)
			continue
		}
		if _, ok := c.(chain.Intender); !ok {
			t.Errorf("%s: no Intender", code)
		}
	}
}
