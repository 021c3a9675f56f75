package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/custoskms/custos/internal/config"
	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/webhook"
)

// webhookFlags are `serve`'s settings of webhook delivery.
type webhookFlags struct {
	allowPrivate bool
	attempts     int
	concurrency  int
}

func (f *webhookFlags) add(b *config.Binder) {
	config.Bool(b, &f.allowPrivate, config.Setting[bool]{Flag: "webhook-allow-private", Env: []string{"CUSTOS_WEBHOOK_ALLOW_PRIVATE"},
		Help: "let webhook subscriptions reach private, loopback and link-local addresses (tenants choose the URLs: only on a trusted network)"})
	positive := func(n int) error {
		if n < 1 {
			return errors.New("must be at least 1")
		}
		return nil
	}
	config.Int(b, &f.attempts, config.Setting[int]{Flag: "webhook-attempts", Env: []string{"CUSTOS_WEBHOOK_ATTEMPTS"},
		Default: webhook.DefaultMaxAttempts, Check: positive, Help: "attempts per webhook delivery before it is dead-lettered"})
	config.Int(b, &f.concurrency, config.Setting[int]{Flag: "webhook-concurrency", Env: []string{"CUSTOS_WEBHOOK_CONCURRENCY"},
		Default: webhook.DefaultConcurrency, Check: positive, Help: "webhook deliveries in flight per replica"})
}

// startWebhooks runs the delivery worker until the returned stop is called;
// stop waits for the deliveries in flight, so call it before closing store.
func startWebhooks(ctx context.Context, cfg webhook.Config, store pending.Store, log *slog.Logger) (stop func()) {
	cfg.Store, cfg.Logger = store, log
	return inBackground(ctx, webhook.New(cfg).Run)
}

// inBackground runs run in a goroutine until the returned stop is called;
// stop cancels run's context and waits for it to return.
func inBackground(ctx context.Context, run func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}
