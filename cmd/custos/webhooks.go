package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/custoskms/custos/internal/config"
	"github.com/custoskms/custos/internal/pending"
	"github.com/custoskms/custos/internal/webhook"
)

// webhookFlags are `serve`'s settings of webhook delivery.
type webhookFlags struct {
	allowPrivate bool
	attempts     int
	concurrency  int
	timeout      time.Duration
	retryDelay   time.Duration
	retryMax     time.Duration
}

func (f *webhookFlags) add(b *config.Binder) {
	config.Bool(b, &f.allowPrivate, config.Setting[bool]{Flag: "webhook-allow-private", Env: []string{"CUSTOS_WEBHOOK_ALLOW_PRIVATE"},
		Help: "let webhook subscriptions reach private, loopback and link-local addresses (tenants choose the URLs: only on a trusted network)"})
	config.Int(b, &f.attempts, config.Setting[int]{Flag: "webhook-attempts", Env: []string{"CUSTOS_WEBHOOK_ATTEMPTS"},
		Default: webhook.DefaultMaxAttempts, Check: atLeast(1), Help: "attempts per webhook delivery before it is dead-lettered"})
	config.Int(b, &f.concurrency, config.Setting[int]{Flag: "webhook-concurrency", Env: []string{"CUSTOS_WEBHOOK_CONCURRENCY"},
		Default: webhook.DefaultConcurrency, Check: atLeast(1), Help: "webhook deliveries in flight per replica"})
	config.Duration(b, &f.timeout, config.Setting[time.Duration]{Flag: "webhook-timeout", Env: []string{"CUSTOS_WEBHOOK_TIMEOUT"},
		Default: webhook.DefaultTimeout, Check: positive,
		Help: "time a webhook receiver has to answer; a claimed delivery is leased for twice this plus 10s"})
	config.Duration(b, &f.retryDelay, config.Setting[time.Duration]{Flag: "webhook-retry-delay", Env: []string{"CUSTOS_WEBHOOK_RETRY_DELAY"},
		Default: webhook.DefaultBaseDelay, Check: positive,
		Help: "wait before a failed webhook delivery's first retry; each further retry waits about twice as long"})
	config.Duration(b, &f.retryMax, config.Setting[time.Duration]{Flag: "webhook-retry-max", Env: []string{"CUSTOS_WEBHOOK_RETRY_MAX"},
		Default: webhook.DefaultMaxDelay, Check: positive, Help: "longest wait between two attempts of a webhook delivery"})
}

// config is the worker's configuration the flags set.
func (f *webhookFlags) config(guard webhook.Guard) webhook.Config {
	return webhook.Config{Guard: guard, MaxAttempts: f.attempts, Concurrency: f.concurrency,
		Timeout: f.timeout, BaseDelay: f.retryDelay, MaxDelay: f.retryMax}
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
