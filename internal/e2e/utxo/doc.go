// Package utxo holds the end-to-end tests of the UTXO chains against real
// regtest nodes: btcd (BTC), bchd (BCH) and litecoind (LTC), started by the
// tests on loopback. Each test runs the whole path of docs/design.md §3 with
// the product's own parts — the API over a SQLite file, the wallet store, the
// signer daemon and the node client — and checks the node's view of the result.
//
// The nodes are found through CUSTOS_BTCD, CUSTOS_BCHD and CUSTOS_LITECOIND
// (scripts/setup.d/utxo-nodes.sh installs them and sets these), else on PATH.
// Without them the tests skip, except under CI=true, where they fail.
package utxo
