package daemon

import (
	"testing"
	"time"
)

// The oldest pending age counts from when a transaction was first served,
// per chain, and forgets transactions no longer served.
func TestPendingAges(t *testing.T) {
	p := newPendingAges()
	t0 := time.Unix(1000, 0)
	txs := func(ids ...string) []PendingTx {
		var out []PendingTx
		for _, id := range ids {
			out = append(out, PendingTx{ID: id})
		}
		return out
	}
	steps := []struct {
		chain string
		ids   []string
		at    time.Duration
		want  time.Duration
	}{
		{"ETH", []string{"a"}, 0, 0},
		{"BTC", []string{"x"}, 5 * time.Second, 0},
		{"ETH", []string{"a", "b"}, 10 * time.Second, 10 * time.Second},
		{"ETH", []string{"b"}, 30 * time.Second, 20 * time.Second}, // a done: b, seen at 10 s, is the oldest
		{"BTC", []string{"x"}, 65 * time.Second, 60 * time.Second}, // ETH's runs leave BTC's ages alone
		{"ETH", nil, 40 * time.Second, 0},
		{"ETH", []string{"b"}, 50 * time.Second, 0}, // b left and came back: seen anew
	}
	for i, s := range steps {
		if got := p.observe(s.chain, txs(s.ids...), t0.Add(s.at)); got != s.want {
			t.Fatalf("step %d (%s %v at %v): oldest %v, want %v", i, s.chain, s.ids, s.at, got, s.want)
		}
	}
}
