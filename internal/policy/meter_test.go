package policy

import (
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// daily.count and daily.volume on each family: the last transaction inside
// the limit is allowed, the next one refused; a released reservation gives
// its share back; spends leave the window after 24 hours.
func TestMeterDailyLimits(t *testing.T) {
	for _, f := range families {
		t.Run(f.name, func(t *testing.T) {
			clk := &clock{time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
			p := mustParse(t, wrap(`{"name":"d","match":{"chains":["`+f.chain+`"]},"action":"allow",
				"limits":{"daily":{"count":3,"volume":{"":"100"}}}}`))
			m := NewMeter(p, clk.now, nil)
			to := recipient(f)
			d1, r1 := m.Decide(f.in("60", to, "1", 0), "tx1")
			if !d1.Allow {
				t.Fatal(d1.Reason)
			}
			r1.Commit()
			d2, r2 := m.Decide(f.in("40", to, "1", 0), "tx2") // 100: just inside
			if !d2.Allow {
				t.Fatal(d2.Reason)
			}
			if d, _ := m.Decide(f.in("1", to, "1", 0), "tx3"); d.Allow || d.Reason !=
				`policy: rule "d": daily.volume: 1 of the native coin would make 101 in 24 hours, above 100` {
				t.Fatalf("just outside the volume: %+v", d)
			}
			r2.Release() // not signed after all: its 40 come back
			r2.Release()
			d4, r4 := m.Decide(f.in("40", to, "1", 0), "tx4")
			if !d4.Allow {
				t.Fatalf("after a release: %s", d4.Reason)
			}
			r4.Commit()
			r4.Release()                                     // after Commit: kept
			d5, r5 := m.Decide(f.in("0", to, "1", 0), "tx5") // third transaction: just inside the count
			if !d5.Allow {
				t.Fatal(d5.Reason)
			}
			r5.Commit()
			if d, _ := m.Decide(f.in("0", to, "1", 0), "tx6"); d.Allow || d.Reason !=
				`policy: rule "d": daily.count: 3 transactions in 24 hours already, the limit is 3` {
				t.Fatalf("just outside the count: %+v", d)
			}
			// A rolling window: a second before tx1 is 24 hours old, still full.
			clk.t = clk.t.Add(Window - time.Second)
			if d, _ := m.Decide(f.in("0", to, "1", 0), "tx7"); d.Allow {
				t.Fatal("allowed before the window moved on")
			}
			clk.t = clk.t.Add(2 * time.Second)
			if d, _ := m.Decide(f.in("60", to, "1", 0), "tx8"); !d.Allow {
				t.Fatalf("after 24 hours: %s", d.Reason)
			}
		})
	}
}

// What was persisted comes back: a meter built from the spends of a
// previous one (a restart) goes on counting from them.
func TestMeterRestartsFromSpends(t *testing.T) {
	clk := &clock{time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	p := mustParse(t, limits(`{"daily":{"count":2,"volume":{"":"10","0xab":"5"}}}`))
	m := NewMeter(p, clk.now, nil)
	in := families[0].in("7", evmTo, "1", 0)
	in.Intent.Transfers = append(in.Intent.Transfers, families[0].in("0", evmTo, "1", 0).Intent.Transfers[0])
	in.Intent.Transfers[1].Asset, in.Intent.Transfers[1].Amount = "0xAB", "5"
	d, r := m.Decide(in, "tx1")
	if !d.Allow {
		t.Fatal(d.Reason)
	}
	spends := r.Spends()
	if len(spends) != 2 || spends[0].Asset != "" || spends[0].Amount.Int64() != 7 || spends[1].Asset != "0xab" ||
		spends[1].Amount.Int64() != 5 || spends[0].TxID != "tx1" || spends[0].Rule != "r" || !spends[0].At.Equal(clk.t) {
		t.Fatalf("spends %+v", spends)
	}
	r.Commit()
	m2 := NewMeter(p, clk.now, spends)
	if d, _ := m2.Decide(families[0].in("4", evmTo, "1", 0), "tx2"); d.Allow {
		t.Fatal("the restarted meter forgot the volume")
	}
	if d, _ := m2.Decide(families[0].in("3", evmTo, "1", 0), "tx2"); !d.Allow {
		t.Fatalf("just inside after restart: %s", d.Reason)
	}
	if d, _ := m2.Decide(families[0].in("0", evmTo, "1", 0), "tx3"); d.Allow {
		t.Fatal("the restarted meter forgot the count")
	}
	// A rule without daily limits reserves nothing.
	if _, r := NewMeter(mustParse(t, limits(`{}`)), nil, nil).Decide(in, "tx"); r != nil || r.Spends() != nil {
		t.Fatalf("reserved %+v", r.Spends())
	}
}

// Transactions decided at once cannot together pass a limit.
func TestMeterConcurrentDecisions(t *testing.T) {
	p := mustParse(t, limits(`{"daily":{"count":50,"volume":{"":"1000"}}}`))
	m := NewMeter(p, nil, nil)
	var (
		wg      sync.WaitGroup
		allowed atomic.Int64
		volume  atomic.Int64
	)
	for i := range 200 {
		wg.Go(func() {
			amount := 1 + i%30
			d, r := m.Decide(families[2].in(fmt.Sprint(amount), xrpTo, "1", 0), fmt.Sprint(i))
			if !d.Allow {
				return
			}
			if i%7 == 0 {
				r.Release()
				return
			}
			allowed.Add(1)
			volume.Add(int64(amount))
			r.Commit()
		})
	}
	wg.Wait()
	if allowed.Load() > 50 || volume.Load() > 1000 || allowed.Load() == 0 {
		t.Fatalf("allowed %d transactions moving %d", allowed.Load(), volume.Load())
	}
	w := m.byRule["r"]
	if w.count != uint64(allowed.Load()) || w.volume[""].Cmp(big.NewInt(volume.Load())) != 0 {
		t.Fatalf("meter holds %d / %s, committed %d / %d", w.count, w.volume[""], allowed.Load(), volume.Load())
	}
}
