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

// CountRows, which the suites compare their row counts with, agrees with the
// typed rows: per chain, and in total.
func TestCountRows(t *testing.T) {
	for file, rows := range map[string][]string{
		"derivation": chainsOf(Derivations(), func(d Derivation) string { return d.Chain }),
		"signing":    chainsOf(Signings(), func(s Signing) string { return s.Chain }),
	} {
		per := map[string]int{}
		for _, c := range rows {
			per[c]++
		}
		total := 0
		for c, n := range per {
			if got := CountRows(file, c); got != n {
				t.Errorf("CountRows(%s, %s) = %d, want %d", file, c, got, n)
			}
			total += n
		}
		if total != len(rows) || CountRows(file, "NOCHAIN") != 0 {
			t.Errorf("%s: %d rows counted of %d", file, total, len(rows))
		}
	}
}

func chainsOf[T any](rows []T, chain func(T) string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = chain(r)
	}
	return out
}
