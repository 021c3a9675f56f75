package vectors

import "testing"

func TestLoad(t *testing.T) {
	if n := len(Derivations()); n != 80 {
		t.Fatalf("derivation rows = %d, want 80", n)
	}
	if n := len(Signings()); n != 83 {
		t.Fatalf("signing rows = %d, want 83", n)
	}
	if Tatum().Password == "" || len(Tatum().Wallets) != 4 || len(TatumWalletDat) == 0 {
		t.Fatal("tatum wallet sample not loaded")
	}
}
