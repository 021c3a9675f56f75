package chain

import (
	"errors"
	"math/big"
	"strings"
	"testing"
)

// Written from the units' definitions, as TestParseAmount's table; every
// case must also read back through ParseAmount.
func TestFormatAmount(t *testing.T) {
	for _, c := range []struct {
		base     string
		decimals int
		want     string
	}{
		{"500000000000000000", 18, "0.5"},
		{"1", 18, "0.000000000000000001"},
		{"5000", 18, "0.000000000000005"},
		{"1000000000000000000", 18, "1"},
		{"123456789123456789123456789", 18, "123456789.123456789123456789"},
		{"12300000", 6, "12.3"},
		{"30000000", 8, "0.3"},
		{"2100000000000000", 8, "21000000"},
		{"0", 8, "0"},
		{"42", 0, "42"},
		{"115792089237316195423570985008687907853269984665640564039457584007913129639935", 18,
			"115792089237316195423570985008687907853269984665640564039457.584007913129639935"},
		{"-1500", 3, "-1.5"},
	} {
		v, _ := new(big.Int).SetString(c.base, 10)
		got := FormatAmount(v, c.decimals)
		if got != c.want {
			t.Errorf("FormatAmount(%s, %d) = %q, want %q", c.base, c.decimals, got, c.want)
			continue
		}
		if v.Sign() < 0 {
			continue
		}
		if back, err := ParseAmount("amount", got, c.decimals); err != nil || back.Cmp(v) != 0 {
			t.Errorf("ParseAmount(FormatAmount(%s)) = %v, %v", c.base, back, err)
		}
	}
}

// The table is written from the units' definitions (1 ETH = 10^18 wei,
// 1 BTC = 10^8 sat, 1 USDT = 10^6, an asset without decimals), not from
// the parser's output.
func TestParseAmount(t *testing.T) {
	ok := []struct {
		in       string
		decimals int
		want     string
	}{
		{"1", 18, "1000000000000000000"},
		{"0.1", 18, "100000000000000000"},
		{"0.000000000000000001", 18, "1"},
		{"123456789.123456789123456789", 18, "123456789123456789123456789"},
		{"+2.5", 18, "2500000000000000000"},
		{"1.", 8, "100000000"},
		{".5", 8, "50000000"},
		{"0.00000001", 8, "1"},
		{"21000000", 8, "2100000000000000"},
		{"0.3", 8, "30000000"}, // 0.3 has no exact binary float
		{"1.000001", 6, "1000001"},
		{"007.50", 6, "7500000"},
		{"42", 0, "42"},
		{"0", 0, "0"},
		{"0.0", 6, "0"},
		{"115792089237316195423570985008687907853269984665640564039457584007913129639935", 0,
			"115792089237316195423570985008687907853269984665640564039457584007913129639935"},
	}
	for _, c := range ok {
		got, err := ParseAmount("amount", c.in, c.decimals)
		if err != nil || got.String() != c.want {
			t.Errorf("ParseAmount(%q, %d) = %v, %v; want %s", c.in, c.decimals, got, err, c.want)
		}
	}
	bad := []struct {
		in       string
		decimals int
		why      string
	}{
		{"", 18, "decimal number"},
		{".", 18, "decimal number"},
		{"-1", 18, "non-negative"},
		{"1e18", 18, "non-negative"},
		{"0x10", 18, "non-negative"},
		{" 1", 18, "non-negative"},
		{"1,5", 18, "non-negative"},
		{"1.2.3", 18, "non-negative"},
		{"++1", 18, "non-negative"},
		{"NaN", 18, "non-negative"},
		{"١", 18, "non-negative"}, // a non-ASCII digit
		{"0.0000000000000000001", 18, "more than the asset's 18 decimals"},
		{"0.000000001", 8, "more than the asset's 8 decimals"},
		{"1.0000001", 6, "more than the asset's 6 decimals"},
		{"1.5", 0, "more than the asset's 0 decimals"},
		{"115792089237316195423570985008687907853269984665640564039457584007913129639936", 0, "too large"},
		{strings.Repeat("9", 100000), 0, "too large"},
	}
	for _, c := range bad {
		_, err := ParseAmount("amount", c.in, c.decimals)
		var fe FieldErrors
		if !errors.As(err, &fe) || len(fe) != 1 || !strings.HasPrefix(fe[0], "amount: ") || !strings.Contains(fe[0], c.why) {
			t.Errorf("ParseAmount(%q, %d) error = %v; want a FieldErrors about %q", c.in, c.decimals, err, c.why)
		}
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"1", "0.1", "+.5", "1.", "-1", "1e9", "9999999999999999999999"} {
		f.Add(s, 18)
	}
	f.Fuzz(func(t *testing.T, s string, decimals int) {
		decimals = max(0, decimals%40)
		v, err := ParseAmount("amount", s, decimals)
		if err != nil {
			return
		}
		if v.Sign() < 0 || v.BitLen() > 256 {
			t.Fatalf("ParseAmount(%q) = %v", s, v)
		}
	})
}
