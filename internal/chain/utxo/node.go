package utxo

import "context"

// Unspent is an output a transfer may spend, as the node reports it.
type Unspent struct {
	TxID string // the funding transaction's id, hex as nodes spell it
	Vout uint32
	// Value is in base units (satoshis), converted exactly from the node's
	// decimal coin amount.
	Value  int64
	Script []byte
	// Coinbase marks a block reward, spendable only once it has matured
	// (Confirmations ≥ the chain's coinbase maturity).
	Coinbase      bool
	Confirmations int64
}

// UnspentLister is a node that finds an address's unspent outputs: the
// source of the fromAddress form. The broadcast package's UTXO client
// implements it with what the node serves: the Core family's scantxoutset
// (bitcoind, litecoind; the chain state, so confirmed outputs only; not
// dogecoind 1.14) or, where the node has no such method, btcd's and bchd's address
// index (searchrawtransactions; the node must run with --addrindex; mempool
// included). address is as the request spells it, script is what it pays.
type UnspentLister interface {
	Unspent(ctx context.Context, address string, script []byte) ([]Unspent, error)
}

// OutputReader is a node that reads one output of the UTXO set, mempool
// included (gettxout): the source of the fromUTXO form's amounts and
// scripts. It returns nil for an output that is spent or unknown.
type OutputReader interface {
	Output(ctx context.Context, txid string, vout uint32) (*Unspent, error)
}

// FeeRater is a node that estimates the fee rate, in base units per 1000
// virtual bytes, for a transaction to confirm within blocks: its
// estimatesmartfee (btcd's estimatefee), never below its relay fee, which is
// the answer when the node has no estimate (a fresh regtest chain).
type FeeRater interface {
	FeeRate(ctx context.Context, blocks int) (int64, error)
}
