package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain"
)

// Command-line values are untrusted input: an INDEX argument either reads as
// a number in range, the same number strconv reads, or is refused.
func FuzzParseIndex(f *testing.F) {
	for _, s := range []string{"0", " 7 ", "2147483647", "2147483648", "-1", "0x10", "", "1e3", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseIndex(s)
		if err != nil {
			return
		}
		want, perr := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if perr != nil || uint64(n) != want || want > chain.MaxIndex {
			t.Fatalf("parseIndex(%q) = %d, want refusal or %d", s, n, want)
		}
	})
}

// FuzzChainIDFlags: a --chain-id value gives a non-zero id for a known chain
// code, or an error; never a panic.
func FuzzChainIDFlags(f *testing.F) {
	for _, s := range []string{"ETH:testnet=1337", "ETH=5", "BSC:mainnet=56", "ETH:devnet=1", "ETH=0", "NOPE=1", "=", ":", "ETH:testnet="} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, testnet bool) {
		ids, err := chainIDFlags{s}.extraChainIDs(testnet)
		if err != nil {
			return
		}
		for code, list := range ids {
			if code == "" || len(list) == 0 {
				t.Fatalf("%q gave %v", s, ids)
			}
			for _, id := range list {
				if id == 0 {
					t.Fatalf("%q gave chain id 0", s)
				}
			}
		}
	})
}
