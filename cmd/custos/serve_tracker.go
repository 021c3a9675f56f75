package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/config"
	"github.com/custoskms/custos/internal/tracker"
)

// confirmationFlags collects --confirmations CODE=N values.
type confirmationFlags []string

func (f *confirmationFlags) add(b *config.Binder) {
	config.StringArray(b, (*[]string)(f), config.Setting[[]string]{Flag: "confirmations",
		Help: "confirmation depth at which a broadcast transaction is final, CODE=N (repeatable; defaults per chain, e.g. ETH=12, BTC=6)"})
}

// depths returns the chain table's default depths with the flags' on top.
func (f confirmationFlags) depths() (map[string]uint64, error) {
	out := chains.Confirmations()
	for _, v := range f {
		code, n, ok := strings.Cut(v, "=")
		depth, err := strconv.ParseUint(strings.TrimSpace(n), 10, 32)
		if !ok || err != nil || depth < 1 {
			return nil, fmt.Errorf("--confirmations %q: want CODE=N with N at least 1, e.g. ETH=12", v)
		}
		c, err := chains.Lookup(strings.TrimSpace(code))
		if err != nil {
			return nil, fmt.Errorf("--confirmations %q: %w", v, err)
		}
		out[c.Info().Code] = depth
	}
	return out, nil
}

// allDepths sets every chain's depth to n (`custos dev`: 1, so that the
// walk-through shows a transaction confirmed at once).
func allDepths(n uint64) map[string]uint64 {
	out := map[string]uint64{}
	for _, code := range chains.Codes() {
		out[code] = n
	}
	return out
}

// startTracker runs the outcome tracker until the returned stop is called;
// stop waits for the check in progress, so call it before closing the store.
func startTracker(ctx context.Context, cfg tracker.Config, log *slog.Logger) (stop func()) {
	cfg.Logger = log
	return inBackground(ctx, tracker.New(cfg).Run)
}
