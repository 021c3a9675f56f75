package utxo

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/custoskms/custos/internal/chain"
)

// signingKey is one of the request's keys with the hashes inputs are matched on.
type signingKey struct {
	priv       *btcec.PrivateKey
	pub        []byte // as its WIF says: compressed or not
	compressed bool
	pkh        []byte // hash160(pub): P2PKH, P2WPKH
	nestedSH   []byte // hash160(0014‖pkh): P2SH-P2WPKH
}

func (c *Chain) signingKeys(keys []string, testnet bool) ([]*signingKey, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no signing key given", chain.ErrInvalidKey)
	}
	out := make([]*signingKey, len(keys))
	for i, k := range keys {
		priv, compressed, err := c.decodeWIF(k, testnet)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
		sk := &signingKey{priv: priv, compressed: compressed, pub: serializePub(priv.PubKey(), compressed)}
		sk.pkh = btcutil.Hash160(sk.pub)
		if compressed {
			sk.nestedSH = btcutil.Hash160(p2wpkhScript(sk.pkh))
		}
		out[i] = sk
	}
	return out, nil
}

func p2wpkhScript(pkh []byte) []byte {
	return append([]byte{txscript.OP_0, txscript.OP_DATA_20}, pkh...)
}

func p2pkhScript(pkh []byte) []byte {
	s := append([]byte{txscript.OP_DUP, txscript.OP_HASH160, txscript.OP_DATA_20}, pkh...)
	return append(s, txscript.OP_EQUALVERIFY, txscript.OP_CHECKSIG)
}

// match finds the key that controls a script. Uncompressed keys only match
// P2PKH: a witness program of an uncompressed key is unspendable.
func match(keys []*signingKey, script, tapRoot []byte) *signingKey {
	for _, k := range keys {
		switch {
		case isP2PKH(script) && bytes.Equal(script[3:23], k.pkh):
			return k
		case isP2WPKH(script) && k.compressed && bytes.Equal(script[2:], k.pkh):
			return k
		case isP2SH(script) && k.compressed && bytes.Equal(script[2:22], k.nestedSH):
			return k
		case isP2TR(script) && k.compressed:
			out := txscript.ComputeTaprootOutputKey(k.priv.PubKey(), tapRoot)
			if bytes.Equal(schnorr.SerializePubKey(out), script[2:]) {
				return k
			}
		}
	}
	return nil
}

// Sign implements chain.Signer for the three serialized forms:
//
//   - bitcore JSON (BTC, LTC, DOGE) and PSBT: each input is signed by the given
//     key whose public key (hash) its spent script names, whatever the order of
//     Keys — as bitcore tries every key on every input. An input no key
//     controls is refused (ErrKeyNotFound).
//   - Tatum BCH "<hex>:<amounts>": the spent scripts are not in the data, so,
//     as Tatum does, key i signs input i as P2PKH (one key for every input when
//     a single key is given), with BCH Schnorr signatures.
//
// Before signing it refuses outputs above inputs (ErrOutputsExceedInputs) and
// a fee above the chain's cap (ErrFeeTooHigh, see WithMaxFee); after signing
// every input is verified: by btcd's script engine for BTC, LTC and DOGE, by
// the FORKID digest and signature checks for BCH.
func (c *Chain) Sign(ctx context.Context, req chain.SignRequest) (chain.Signed, error) {
	if err := ctx.Err(); err != nil {
		return chain.Signed{}, err
	}
	u, err := c.parse(req.Serialized)
	if err != nil {
		return chain.Signed{}, err
	}
	keys, err := c.signingKeys(req.Keys, req.Testnet)
	if err != nil {
		return chain.Signed{}, err
	}
	if err := c.checkFee(u); err != nil {
		return chain.Signed{}, err
	}
	tx := u.tx
	signers := make([]*signingKey, len(tx.TxIn))
	if u.format == formatBCH {
		if len(keys) != 1 && len(keys) != len(tx.TxIn) {
			return chain.Signed{}, fmt.Errorf("%w: %d keys for %d inputs: BCH signs input i with key i (or every input with one key)", ErrKeyNotFound, len(keys), len(tx.TxIn))
		}
		for i := range signers {
			signers[i] = keys[min(i, len(keys)-1)]
			u.scripts[i] = p2pkhScript(signers[i].pkh)
		}
	} else {
		var missing []string
		for i := range signers {
			if signers[i] = match(keys, u.scripts[i], u.tapRoots[i]); signers[i] == nil {
				missing = append(missing, fmt.Sprint(i))
			}
		}
		if len(missing) > 0 {
			return chain.Signed{}, fmt.Errorf("%w: input(s) %s spend outputs none of the %d given keys controls", ErrKeyNotFound, strings.Join(missing, ", "), len(keys))
		}
	}

	if spendsTwice(tx) {
		return chain.Signed{}, invalid("an outpoint is spent twice")
	}
	prevs := make(map[wire.OutPoint]*wire.TxOut, len(tx.TxIn))
	for i, in := range tx.TxIn {
		prevs[in.PreviousOutPoint] = wire.NewTxOut(u.amounts[i], u.scripts[i])
	}
	fetcher := txscript.NewMultiPrevOutFetcher(prevs)
	sigHashes := txscript.NewTxSigHashes(tx, fetcher)

	for i, in := range tx.TxIn {
		if err := ctx.Err(); err != nil {
			return chain.Signed{}, err
		}
		if err := c.signInput(u, i, in, signers[i], sigHashes); err != nil {
			return chain.Signed{}, fmt.Errorf("input %d: %w", i, err)
		}
	}
	if err := c.verify(u, sigHashes, fetcher, signers); err != nil {
		return chain.Signed{}, err
	}
	var buf bytes.Buffer
	buf.Grow(tx.SerializeSize())
	if err := tx.Serialize(&buf); err != nil {
		return chain.Signed{}, err
	}
	return chain.Signed{TxData: hex.EncodeToString(buf.Bytes()), TxID: tx.TxHash().String()}, nil
}

func (c *Chain) checkFee(u *unsignedTx) error {
	var in, out int64
	for _, a := range u.amounts {
		in += a
	}
	for _, o := range u.tx.TxOut {
		out += o.Value
	}
	if fee := in - out; fee > c.maxFee {
		return fmt.Errorf("%w: fee %d exceeds the %s cap of %d (inputs %d, outputs %d)", ErrFeeTooHigh, fee, c.info.Code, c.maxFee, in, out)
	}
	return nil
}

func (c *Chain) signInput(u *unsignedTx, i int, in *wire.TxIn, k *signingKey, sigHashes *txscript.TxSigHashes) error {
	tx, script, amt, ht := u.tx, u.scripts[i], u.amounts[i], u.hashTypes[i]
	if c.forkID {
		digest, err := txscript.CalcWitnessSigHash(script, sigHashes, ht, tx, i, amt)
		if err != nil {
			return err
		}
		var sig []byte
		if u.format == formatBCH {
			sig = bchSchnorrSign(k.priv, digest) // what Tatum's BCH signer produces
		} else {
			sig = ecdsa.Sign(k.priv, digest).Serialize()
		}
		sig = append(sig, byte(ht))
		in.SignatureScript, err = txscript.NewScriptBuilder().AddData(sig).AddData(k.pub).Script()
		return err
	}
	switch {
	case isP2PKH(script):
		sig, err := txscript.RawTxInSignature(tx, i, script, ht, k.priv)
		if err != nil {
			return err
		}
		in.SignatureScript, err = txscript.NewScriptBuilder().AddData(sig).AddData(k.pub).Script()
		return err
	case isP2WPKH(script):
		sig, err := txscript.RawTxInWitnessSignature(tx, sigHashes, i, amt, script, ht, k.priv)
		if err != nil {
			return err
		}
		in.Witness = wire.TxWitness{sig, k.pub}
		return nil
	case isP2SH(script):
		redeem := p2wpkhScript(k.pkh)
		sig, err := txscript.RawTxInWitnessSignature(tx, sigHashes, i, amt, redeem, ht, k.priv)
		if err != nil {
			return err
		}
		in.Witness = wire.TxWitness{sig, k.pub}
		in.SignatureScript, err = txscript.NewScriptBuilder().AddData(redeem).Script()
		return err
	case isP2TR(script):
		sig, err := txscript.RawTxInTaprootSignature(tx, sigHashes, i, amt, script, u.tapRoots[i], ht, k.priv)
		if err != nil {
			return err
		}
		in.Witness = wire.TxWitness{sig}
		return nil
	}
	return ErrUnsupportedInput
}

// verify checks every signed input before the transaction leaves the signer.
func (c *Chain) verify(u *unsignedTx, sigHashes *txscript.TxSigHashes, fetcher txscript.PrevOutputFetcher, signers []*signingKey) error {
	tx := u.tx
	if c.forkID {
		for i, in := range tx.TxIn {
			digest, err := txscript.CalcWitnessSigHash(u.scripts[i], sigHashes, u.hashTypes[i], tx, i, u.amounts[i])
			if err != nil {
				return err
			}
			pushes, err := txscript.PushedData(in.SignatureScript)
			if err != nil || len(pushes) != 2 || len(pushes[0]) < 2 {
				return fmt.Errorf("input %d: signature script malformed", i)
			}
			sig := pushes[0][:len(pushes[0])-1]
			pub := signers[i].priv.PubKey()
			if len(sig) == 64 {
				err = bchSchnorrVerify(pub, digest, sig)
			} else if s, perr := ecdsa.ParseDERSignature(sig); perr != nil || !s.Verify(digest, pub) {
				err = fmt.Errorf("ECDSA signature does not verify")
			}
			if err != nil {
				return fmt.Errorf("input %d: %w", i, err)
			}
		}
		return nil
	}
	flags := txscript.StandardVerifyFlags
	if !c.segwit {
		// Dogecoin: no segregated witness, so no witness or taproot rules.
		flags = txscript.ScriptBip16 | txscript.ScriptVerifyDERSignatures | txscript.ScriptVerifyStrictEncoding |
			txscript.ScriptVerifyLowS | txscript.ScriptVerifyCheckLockTimeVerify | txscript.ScriptVerifyCheckSequenceVerify |
			txscript.ScriptVerifySigPushOnly | txscript.ScriptVerifyCleanStack | txscript.ScriptStrictMultiSig |
			txscript.ScriptDiscourageUpgradableNops
	}
	for i := range tx.TxIn {
		vm, err := txscript.NewEngine(u.scripts[i], tx, i, flags, nil, sigHashes, u.amounts[i], fetcher)
		if err == nil {
			err = vm.Execute()
		}
		if err != nil {
			return fmt.Errorf("input %d: signed script does not verify: %w", i, err)
		}
	}
	return nil
}
