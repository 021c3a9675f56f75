package daemon

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/custoskms/custos/internal/vectors"
)

// While the key source is sealed the daemon fetches nothing and signs
// nothing; once unsealed, the same daemon signs the waiting transaction.
func TestDaemonSignsNothingWhileSealed(t *testing.T) {
	api := newFakeAPI(t)
	keys := newMemKeys()
	var txID string
	for _, v := range vectors.SigningFor("ETH") {
		if v.Testnet || len(v.NodeAnswers) > 0 && string(v.NodeAnswers) != "null" {
			continue
		}
		tx := pendingFromVector(t, v)
		api.add(tx)
		for _, w := range keysFromVector(v).wallets {
			keys.put(w)
		}
		txID = tx.ID
		break
	}
	if txID == "" {
		t.Fatal("no ETH signing vector")
	}
	sealed := &SealedKeys{}
	d, err := New(Config{Chains: []string{"ETH"}, LedgerPath: filepath.Join(t.TempDir(), "l.db")}, api.client(), sealed)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for range 2 {
		sum, err := d.RunOnce(t.Context())
		if !errors.Is(err, ErrSealed) || sum.Submitted != 0 {
			t.Fatalf("sealed run: %+v, %v", sum, err)
		}
	}
	if got := api.submitted(txID); len(got) != 0 {
		t.Fatalf("submitted while sealed: %v", got)
	}
	sealed.Unseal(keys)
	sum, err := d.RunOnce(t.Context())
	if err != nil || sum.Submitted != 1 {
		t.Fatalf("after unseal: %+v, %v", sum, err)
	}
	if got := api.submitted(txID); len(got) != 1 {
		t.Fatalf("after unseal submitted %v", got)
	}
}
