// Package e2e holds the end-to-end tests of Custos: a transaction queued
// through the real HTTP API (SQLite store), signed by the real daemon (wallet
// store, ledger), broadcast by the server through the real EVM node client to
// a running chain — the embedded dev chain, or a ganache process started by
// scripts/test — and checked on the chain. The package has no code of its own.
package e2e
