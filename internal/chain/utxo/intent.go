package utxo

import (
	"encoding/hex"
	"slices"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Intender = (*Chain)(nil)

// Intent implements chain.Intender for the three serialized forms, decoded by
// parse, the parser Sign uses, so it refuses (with chain.ErrInvalidTx) what
// Sign refuses before it looks at keys. Sign's fee cap is not applied: it is
// the signer's configuration (WithMaxFee), and the intent shows the fee for
// a policy to bound.
//
// Signers are the addresses of the outputs the inputs spend, in input order
// without repeats, where the transaction names those outputs' scripts (bitcore
// JSON, PSBT). Tatum's BCH "<hex>:<amounts>" form does not: there the keys
// decide and Signers is empty.
//
// Transfers are the outputs in order: the address each pays, spelled as the
// chain's wallets are on the network (bech32 or base58, CashAddr on BCH),
// and its amount in satoshis; Change marks an output paying one of the
// Signers. An output whose script has no address is shown as "script:" and
// its hex. An OP_RETURN output adds its pushed data, in hex, to Memo (several
// are separated by spaces) and is a transfer only when it burns coins.
// Fee.Max is inputs minus outputs: every form gives the inputs' amounts.
// Inputs are the spent outpoints, "txid:vout".
func (c *Chain) Intent(serialized string, testnet bool, _ ...uint64) (intent.Intent, error) {
	u, err := c.parse(serialized)
	if err != nil {
		return intent.Intent{}, err
	}
	if spendsTwice(u.tx) {
		return intent.Intent{}, invalid("an outpoint is spent twice")
	}
	n := netOf(testnet)
	in := intent.Intent{Chain: c.info.Code, Network: chain.NetworkName(testnet), Signers: []string{}, Transfers: []intent.Transfer{}}
	var fee int64
	for i, s := range u.scripts {
		fee += u.amounts[i]
		if s == nil {
			continue
		}
		if a := c.scriptAddress(s, n); a != "" && !slices.Contains(in.Signers, a) {
			in.Signers = append(in.Signers, a)
		}
	}
	for _, o := range u.tx.TxOut {
		fee -= o.Value
	}
	c.describe(&in, u.tx, n)
	in.Fee = &intent.Fee{Max: strconv.FormatInt(fee, 10)}
	return in, nil
}

// describe fills in what tx spends and pays, by the conventions Intent
// documents, once in.Signers are known (they mark the change):
// SignedIntent describes a signed transaction with it, so that both intents
// of one transaction are comparable field by field.
func (c *Chain) describe(in *intent.Intent, tx *wire.MsgTx, n Network) {
	var memos []string
	for _, o := range tx.TxOut {
		if len(o.PkScript) > 0 && o.PkScript[0] == txscript.OP_RETURN {
			memos = append(memos, opReturnData(o.PkScript))
			if o.Value == 0 {
				continue
			}
		}
		to := c.scriptAddress(o.PkScript, n)
		change := to != "" && slices.Contains(in.Signers, to)
		if to == "" {
			to = "script:" + hex.EncodeToString(o.PkScript)
		}
		in.Transfers = append(in.Transfers, intent.Transfer{To: to, Amount: strconv.FormatInt(o.Value, 10), Change: change})
	}
	in.Memo = strings.Join(memos, " ")
	for _, i := range tx.TxIn {
		in.Inputs = append(in.Inputs, i.PreviousOutPoint.String())
	}
}

// spendsTwice reports whether two inputs of tx spend the same outpoint.
func spendsTwice(tx *wire.MsgTx) bool {
	seen := make(map[wire.OutPoint]bool, len(tx.TxIn))
	for _, in := range tx.TxIn {
		if seen[in.PreviousOutPoint] {
			return true
		}
		seen[in.PreviousOutPoint] = true
	}
	return false
}

// scriptAddress is the address script pays to on network n, spelled as the
// chain spells its wallets' addresses, or "" when the script has none on this
// chain (a bare public key or multisig, a witness program where the chain has
// no segregated witness).
func (c *Chain) scriptAddress(script []byte, n Network) string {
	if c.style == styleCashAddr {
		switch {
		case isP2PKH(script):
			return cashEncode(c.cashPrefix[n], cashP2PKH, script[3:23])
		case isP2SH(script):
			return cashEncode(c.cashPrefix[n], cashP2SH, script[2:22])
		}
		return ""
	}
	class, addrs, _, err := txscript.ExtractPkScriptAddrs(script, c.params[n])
	if err != nil || len(addrs) != 1 {
		return ""
	}
	switch class {
	case txscript.PubKeyHashTy, txscript.ScriptHashTy:
	case txscript.WitnessV0PubKeyHashTy, txscript.WitnessV0ScriptHashTy, txscript.WitnessV1TaprootTy:
		if !c.segwit {
			return ""
		}
	default:
		return ""
	}
	return addrs[0].EncodeAddress()
}

// opReturnData is the data an OP_RETURN script pushes, in hex; the script
// after OP_RETURN as it stands when that is not pushes only.
func opReturnData(script []byte) string {
	rest := script[1:]
	if !txscript.IsPushOnlyScript(rest) {
		return hex.EncodeToString(rest)
	}
	pushes, err := txscript.PushedData(rest)
	if err != nil {
		return hex.EncodeToString(rest)
	}
	return hex.EncodeToString(slices.Concat(pushes...))
}
