package utxo

import (
	"bytes"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
)

var _ chain.SignedIntender = (*Chain)(nil)

// SignedIntent implements chain.SignedIntender for the hex of a signed
// transaction, as Sign produces it and the chain's node takes it (with
// witnesses where the chain has segregated witness). Transfers, Memo and
// Inputs are what Intent gives for the same transaction (describe).
//
// A signed transaction does not carry what its inputs spend, so Fee is nil:
// the spent outpoints (Inputs) and the outputs fix it. Signers are the
// addresses of the public keys the inputs reveal, in input order without
// repeats: a P2PKH scriptSig's key, a P2WPKH witness's key, and the P2SH
// address of a P2SH-P2WPKH redeem script. A taproot key-path spend shows no
// key and adds none. The network is not visible in the bytes; testnet only
// decides how addresses are spelled.
func (c *Chain) SignedIntent(txData string, testnet bool, _ ...uint64) (intent.Intent, error) {
	s := strings.TrimSpace(txData)
	if len(s) > 2*maxSerialized {
		return intent.Intent{}, invalid("signed transaction is larger than %d bytes", maxSerialized)
	}
	raw, err := hex.DecodeString(s)
	if err != nil || len(raw) == 0 {
		return intent.Intent{}, invalid("signed transaction: want the hex of a signed transaction")
	}
	tx := new(wire.MsgTx)
	r := bytes.NewReader(raw)
	decode := tx.Deserialize
	if !c.segwit {
		decode = tx.DeserializeNoWitness
	}
	if err := decode(r); err != nil {
		return intent.Intent{}, invalid("signed transaction: %v", err)
	}
	switch {
	case r.Len() != 0:
		return intent.Intent{}, invalid("signed transaction: %d trailing bytes", r.Len())
	case len(tx.TxIn) == 0 || len(tx.TxOut) == 0:
		return intent.Intent{}, invalid("signed transaction: needs at least one input and one output")
	case len(tx.TxIn) > maxInputs || len(tx.TxOut) > maxOutputs:
		return intent.Intent{}, invalid("signed transaction: too many inputs or outputs")
	case spendsTwice(tx):
		return intent.Intent{}, invalid("an outpoint is spent twice")
	}
	if _, err := c.outputsTotal(tx); err != nil {
		return intent.Intent{}, err
	}
	n := netOf(testnet)
	in := intent.Intent{Chain: c.info.Code, Network: chain.NetworkName(testnet), Signers: []string{}, Transfers: []intent.Transfer{}}
	for _, txIn := range tx.TxIn {
		if a := c.inputSigner(txIn, n); a != "" && !slices.Contains(in.Signers, a) {
			in.Signers = append(in.Signers, a)
		}
	}
	c.describe(&in, tx, n)
	return in, nil
}

// inputSigner is the address of the output a signed input spends, where its
// scriptSig and witness show it: the script a P2PKH, P2WPKH or P2SH-P2WPKH
// spend of the revealed key satisfies, spelled by scriptAddress. "" when the
// input shows no key (a taproot key path, an unsigned input) or the chain
// has no such output type.
func (c *Chain) inputSigner(in *wire.TxIn, n Network) string {
	var script []byte
	switch {
	case len(in.Witness) == 2 && isPubKey(in.Witness[1]):
		program := p2wpkhScript(btcutil.Hash160(in.Witness[1]))
		switch pushes := pushesOf(in.SignatureScript); {
		case len(in.SignatureScript) == 0:
			script = program
		case len(pushes) == 1 && bytes.Equal(pushes[0], program):
			h := btcutil.Hash160(program)
			script = append(append([]byte{txscript.OP_HASH160, txscript.OP_DATA_20}, h...), txscript.OP_EQUAL)
		}
	case len(in.Witness) == 0:
		if pushes := pushesOf(in.SignatureScript); len(pushes) == 2 && isPubKey(pushes[1]) {
			script = p2pkhScript(btcutil.Hash160(pushes[1]))
		}
	}
	if script == nil {
		return ""
	}
	return c.scriptAddress(script, n)
}

// pushesOf is the data a push-only script pushes, nil for any other script.
func pushesOf(script []byte) [][]byte {
	if len(script) == 0 || !txscript.IsPushOnlyScript(script) {
		return nil
	}
	pushes, err := txscript.PushedData(script)
	if err != nil {
		return nil
	}
	return pushes
}

// isPubKey reports whether b has the shape of a SEC public key (compressed,
// or uncompressed as old P2PKH wallets reveal it).
func isPubKey(b []byte) bool {
	return len(b) == 33 && (b[0] == 2 || b[0] == 3) || len(b) == 65 && b[0] == 4
}
