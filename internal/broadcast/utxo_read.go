package broadcast

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/custoskms/custos/internal/chain/utxo"
)

var (
	_ utxo.UnspentLister = (*UTXOClient)(nil)
	_ utxo.OutputReader  = (*UTXOClient)(nil)
	_ utxo.FeeRater      = (*UTXOClient)(nil)
)

// codeMethodNotFound is JSON-RPC's "method not found": how a node says it
// has no such method (btcd has no scantxoutset, bitcoind no
// searchrawtransactions).
const codeMethodNotFound = -32601

// baseUnits converts a node's decimal coin amount exactly: the JSON number's
// digits are read as a rational, never as a float64, and btcd's exponent
// form for small amounts (1e-07) is read too.
func baseUnits(method string, n json.Number) (int64, error) {
	r, err := satoshis(method, n)
	if err != nil {
		return 0, err
	}
	if !r.IsInt() {
		return 0, fmt.Errorf("%w: %s: amount %q is not a whole number of base units", ErrUnavailable, method, n)
	}
	return r.Num().Int64(), nil
}

// rateUnits converts a node's fee rate in coins per 1000 virtual bytes to
// base units, rounded up: btcd's estimate has more digits than a satoshi.
func rateUnits(method string, n json.Number) (int64, error) {
	r, err := satoshis(method, n)
	if err != nil {
		return 0, err
	}
	return ceil(r).Int64(), nil
}

// ceil rounds a non-negative rational up to an integer: a fee rate is never
// rounded below what was estimated.
func ceil(r *big.Rat) *big.Int {
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

func satoshis(method string, n json.Number) (*big.Rat, error) {
	r, ok := new(big.Rat).SetString(n.String())
	if !ok || len(n) > 40 || r.Sign() < 0 {
		return nil, fmt.Errorf("%w: %s: %q is not a coin amount", ErrUnavailable, method, n)
	}
	r.Mul(r, big.NewRat(1e8, 1))
	if !new(big.Int).Quo(r.Num(), r.Denom()).IsInt64() {
		return nil, fmt.Errorf("%w: %s: %q is out of range", ErrUnavailable, method, n)
	}
	return r, nil
}

// Unspent implements utxo.UnspentLister: scantxoutset over the script (the
// Core family: bitcoind, litecoind), or, on a node without it,
// the address index of btcd and bchd (searchrawtransactions, which needs
// --addrindex).
func (c *UTXOClient) Unspent(ctx context.Context, address string, script []byte) (_ []utxo.Unspent, err error) {
	if c.esplora != nil {
		return c.esplora.Unspent(ctx, address, script)
	}
	defer scrub(&err, c.node.raw)
	var scan struct {
		Height   int64 `json:"height"`
		Unspents []struct {
			TxID     string      `json:"txid"`
			Vout     uint32      `json:"vout"`
			Script   string      `json:"scriptPubKey"`
			Amount   json.Number `json:"amount"`
			Height   int64       `json:"height"`
			Coinbase *bool       `json:"coinbase"`
		} `json:"unspents"`
	}
	// raw(<script>) names the output script whatever the address encoding
	// the node's version understands.
	desc := "raw(" + hex.EncodeToString(script) + ")"
	code, msg, err := c.call(ctx, "scantxoutset", []any{"start", []string{desc}}, &scan)
	switch {
	case err != nil:
		return nil, err
	case code == codeMethodNotFound:
		return c.searchUnspent(ctx, address, script)
	case msg != "":
		return nil, fmt.Errorf("%w: scantxoutset: %s (code %d)", ErrUnavailable, msg, code)
	}
	out := make([]utxo.Unspent, 0, len(scan.Unspents))
	for _, u := range scan.Unspents {
		v, err := baseUnits("scantxoutset", u.Amount)
		if err != nil {
			return nil, err
		}
		s, err := hex.DecodeString(u.Script)
		if err != nil {
			return nil, fmt.Errorf("%w: scantxoutset: scriptPubKey is not hex", ErrUnavailable)
		}
		un := utxo.Unspent{TxID: u.TxID, Vout: u.Vout, Value: v, Script: s, Confirmations: scan.Height - u.Height + 1}
		switch {
		case u.Coinbase != nil:
			un.Coinbase = *u.Coinbase
		case un.Confirmations < 240:
			// Versions before 22 do not say which outputs are block
			// rewards; only young ones matter, and gettxout tells.
			o, err := c.Output(ctx, u.TxID, u.Vout)
			if err != nil {
				return nil, err
			}
			if o == nil {
				continue
			}
			un.Coinbase = o.Coinbase
		}
		out = append(out, un)
	}
	return out, nil
}

// searchPage is how many transactions one searchrawtransactions call asks for.
const searchPage = 1000

// searchUnspent lists the address's outputs from btcd's or bchd's address
// index: every transaction paying or spending the address, mempool
// included, page by page; an output is unspent when none of them spends it.
// Each transaction is read from its raw bytes ("hex"), so amounts are exact
// and the answer does not depend on how the node spells its verbose fields
// (bchd leaves them out for a CashAddr filter).
func (c *UTXOClient) searchUnspent(ctx context.Context, address string, script []byte) ([]utxo.Unspent, error) {
	type found struct {
		Hex           string `json:"hex"`
		Confirmations int64  `json:"confirmations"`
	}
	spent := map[wire.OutPoint]bool{}
	var out []utxo.Unspent
	for skip := 0; ; {
		var page []found
		code, msg, err := c.call(ctx, "searchrawtransactions", []any{address, 1, skip, searchPage}, &page)
		switch {
		case err != nil:
			return nil, err
		case code == codeNoTx: // no (more) transactions touch the address
		case msg != "":
			return nil, fmt.Errorf("%w: searchrawtransactions (the node needs an address index: btcd and bchd run with --addrindex): %s (code %d)", ErrUnavailable, msg, code)
		}
		for _, f := range page {
			raw, err := hex.DecodeString(f.Hex)
			tx := new(wire.MsgTx)
			if err != nil || tx.Deserialize(bytes.NewReader(raw)) != nil {
				return nil, fmt.Errorf("%w: searchrawtransactions: a transaction's hex does not decode", ErrUnavailable)
			}
			prev := tx.TxIn[0].PreviousOutPoint
			coinbase := len(tx.TxIn) == 1 && prev.Index == wire.MaxPrevOutIndex && prev.Hash == (chainhash.Hash{})
			if !coinbase {
				for _, in := range tx.TxIn {
					spent[in.PreviousOutPoint] = true
				}
			}
			id := tx.TxHash().String()
			for i, o := range tx.TxOut {
				if bytes.Equal(o.PkScript, script) {
					out = append(out, utxo.Unspent{TxID: id, Vout: uint32(i), Value: o.Value, Script: script, Coinbase: coinbase, Confirmations: f.Confirmations})
				}
			}
		}
		if len(page) == 0 {
			break
		}
		skip += len(page)
	}
	unspent := out[:0]
	for _, u := range out {
		h, err := chainhash.NewHashFromStr(u.TxID)
		if err == nil && !spent[wire.OutPoint{Hash: *h, Index: u.Vout}] {
			unspent = append(unspent, u)
		}
	}
	return unspent, nil
}

// Output implements utxo.OutputReader with gettxout, mempool included: its
// value, script, confirmations and whether it is a block reward; nil when
// the output is spent or unknown.
func (c *UTXOClient) Output(ctx context.Context, txid string, vout uint32) (_ *utxo.Unspent, err error) {
	if c.esplora != nil {
		return c.esplora.Output(ctx, txid, vout)
	}
	defer scrub(&err, c.node.raw)
	var out *struct {
		Confirmations int64       `json:"confirmations"`
		Value         json.Number `json:"value"`
		Coinbase      bool        `json:"coinbase"`
		ScriptPubKey  struct {
			Hex string `json:"hex"`
		} `json:"scriptPubKey"`
	}
	code, msg, err := c.call(ctx, "gettxout", []any{txid, vout, true}, &out)
	switch {
	case err != nil:
		return nil, err
	case code == codeNoTx: // btcd: a transaction it does not know
		return nil, nil
	case msg != "":
		return nil, fmt.Errorf("%w: gettxout: %s (code %d)", ErrUnavailable, msg, code)
	case out == nil:
		return nil, nil
	}
	v, err := baseUnits("gettxout", out.Value)
	if err != nil {
		return nil, err
	}
	s, err := hex.DecodeString(out.ScriptPubKey.Hex)
	if err != nil {
		return nil, fmt.Errorf("%w: gettxout: scriptPubKey is not hex", ErrUnavailable)
	}
	return &utxo.Unspent{TxID: txid, Vout: vout, Value: v, Script: s, Coinbase: out.Coinbase, Confirmations: out.Confirmations}, nil
}

// FeeRate implements utxo.FeeRater: estimatesmartfee (btcd: estimatefee),
// in base units per 1000 virtual bytes, never below the node's relay fee
// (getnetworkinfo, else btcd's and bchd's getinfo), which answers alone when
// the node has no estimate yet.
func (c *UTXOClient) FeeRate(ctx context.Context, blocks int) (_ int64, err error) {
	if c.esplora != nil {
		return c.esplora.FeeRate(ctx, blocks)
	}
	defer scrub(&err, c.node.raw)
	relay, err := c.relayFee(ctx)
	if err != nil {
		return 0, err
	}
	var smart struct {
		FeeRate *json.Number `json:"feerate"`
	}
	_, msg, err := c.call(ctx, "estimatesmartfee", []any{blocks}, &smart)
	var est *json.Number
	switch {
	case err != nil:
		return 0, err
	case msg != "":
		// btcd and bchd: no estimatesmartfee (not found, or listed as
		// unimplemented); their estimatefee answers in the same unit.
		var n json.Number
		_, msg, err = c.call(ctx, "estimatefee", []any{blocks}, &n)
		switch {
		case err != nil:
			return 0, err
		case msg == "" && n != "" && n[0] != '-': // -1: no estimate
			est = &n
		}
	default:
		est = smart.FeeRate // absent with "errors" when the node has no data
	}
	if est == nil {
		return relay, nil
	}
	v, err := rateUnits("estimatesmartfee", *est)
	if err != nil {
		return 0, err
	}
	return max(v, relay), nil
}

func (c *UTXOClient) relayFee(ctx context.Context) (int64, error) {
	var info struct {
		RelayFee json.Number `json:"relayfee"`
	}
	method := "getnetworkinfo"
	code, msg, err := c.call(ctx, method, []any{}, &info)
	if err == nil && msg != "" {
		// btcd and bchd list getnetworkinfo as unimplemented; their
		// getinfo gives the relay fee.
		method = "getinfo"
		code, msg, err = c.call(ctx, method, []any{}, &info)
	}
	switch {
	case err != nil:
		return 0, err
	case msg != "":
		return 0, fmt.Errorf("%w: %s: %s (code %d)", ErrUnavailable, method, msg, code)
	case info.RelayFee == "":
		return 0, fmt.Errorf("%w: %s: no relayfee", ErrUnavailable, method)
	}
	return rateUnits(method, info.RelayFee)
}
