package utxo

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/custoskms/custos/internal/chain"
)

// format is the form a serializedTransaction came in.
type format int

const (
	formatBitcore format = iota // Tatum: JSON.stringify(bitcore Transaction)
	formatBCH                   // Tatum BCH: "<unsigned hex>:<JSON amounts>"
	formatPSBT                  // native: base64 BIP 174
)

func (f format) String() string {
	return [...]string{"bitcore JSON", "BCH hex:amounts", "PSBT"}[f]
}

// psbtMagicB64 is base64 of the PSBT magic "psbt\xff", which no JSON object
// and no hex string can start with: the three formats are told apart by
// their first bytes.
const psbtMagicB64 = "cHNidP8"

// unsignedTx is a parsed serializedTransaction: the transaction to sign and,
// per input, what it spends.
type unsignedTx struct {
	format format
	tx     *wire.MsgTx
	// amounts[i] is the value input i spends; scripts[i] its script, nil when
	// the format does not carry it (Tatum BCH: the signer's key implies P2PKH).
	amounts []int64
	scripts [][]byte
	// hashTypes[i] is the signature hash type input i must be signed with.
	hashTypes []txscript.SigHashType
	// tapRoots[i] is a PSBT's taproot merkle root for input i (key-path spend
	// of an output that also commits to scripts), nil for BIP-86 outputs.
	tapRoots [][]byte
}

// Limits that keep a hostile pending transaction from costing much memory or
// time; far above what a real payment needs.
const (
	maxSerialized = 4 << 20
	maxInputs     = 3_000 // a standard 400,000-weight transaction holds fewer; legacy sighash is quadratic in it
	maxOutputs    = 10_000
)

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", chain.ErrInvalidTx, fmt.Sprintf(format, a...))
}

// parse recognizes the format, decodes the transaction and checks everything
// that does not need keys: amounts, input script types for the chain, sighash
// types and that outputs do not exceed inputs.
func (c *Chain) parse(serialized string) (*unsignedTx, error) {
	if len(serialized) > maxSerialized {
		return nil, invalid("serializedTransaction is larger than %d bytes", maxSerialized)
	}
	s := strings.TrimSpace(serialized)
	var (
		u   *unsignedTx
		err error
	)
	switch {
	case strings.HasPrefix(s, psbtMagicB64):
		u, err = c.parsePSBT(s)
	case strings.HasPrefix(s, "{"):
		if c.forkID {
			return nil, invalid("BCH takes \"<unsigned tx hex>:<JSON array of input amounts>\" or a base64 PSBT, not bitcore JSON")
		}
		u, err = c.parseBitcore(s)
	case c.forkID && strings.Contains(s, ":"):
		u, err = c.parseBCH(s)
	default:
		if c.forkID {
			return nil, invalid("serializedTransaction is neither \"<unsigned tx hex>:<JSON array of input amounts>\" nor a base64 PSBT")
		}
		return nil, invalid("serializedTransaction is neither bitcore transaction JSON nor a base64 PSBT")
	}
	if err != nil {
		return nil, err
	}
	if err := c.check(u); err != nil {
		return nil, err
	}
	return u, nil
}

// ValidateTx implements chain.TxValidator. The network is not visible in a
// UTXO transaction (outputs are scripts), so testnet only matters at signing,
// where the keys' network is checked.
func (c *Chain) ValidateTx(serialized string, testnet bool, _ ...uint64) error {
	_, err := c.parse(serialized)
	return err
}

// bitcoreTx is the part of bitcore's Transaction.toObject() a signer needs.
// Fields are pointers so that a missing one is told from a zero.
type bitcoreTx struct {
	Hash    string `json:"hash"`
	Version *int32 `json:"version"`
	Inputs  []struct {
		PrevTxID       *string `json:"prevTxId"`
		OutputIndex    *uint32 `json:"outputIndex"`
		SequenceNumber *uint32 `json:"sequenceNumber"`
		Script         string  `json:"script"`
		Output         *struct {
			Satoshis *int64  `json:"satoshis"`
			Script   *string `json:"script"`
		} `json:"output"`
	} `json:"inputs"`
	Outputs []struct {
		Satoshis *int64  `json:"satoshis"`
		Script   *string `json:"script"`
	} `json:"outputs"`
	NLockTime *uint32 `json:"nLockTime"`
	Fee       *int64  `json:"fee"`
}

func (c *Chain) parseBitcore(s string) (*unsignedTx, error) {
	var b bitcoreTx
	if err := json.Unmarshal([]byte(s), &b); err != nil {
		return nil, invalid("bitcore JSON: %v", err)
	}
	if b.Version == nil {
		return nil, invalid("bitcore JSON: missing version")
	}
	if len(b.Inputs) == 0 || len(b.Outputs) == 0 {
		return nil, invalid("bitcore JSON: needs at least one input and one output")
	}
	if len(b.Inputs) > maxInputs || len(b.Outputs) > maxOutputs {
		return nil, invalid("bitcore JSON: too many inputs or outputs")
	}
	tx := wire.NewMsgTx(*b.Version)
	if b.NLockTime != nil {
		tx.LockTime = *b.NLockTime
	}
	u := &unsignedTx{format: formatBitcore, tx: tx}
	for i, in := range b.Inputs {
		if in.PrevTxID == nil || in.OutputIndex == nil {
			return nil, invalid("bitcore JSON: input %d: missing prevTxId or outputIndex", i)
		}
		h, err := chainhash.NewHashFromStr(*in.PrevTxID)
		if err != nil || len(*in.PrevTxID) != 64 {
			return nil, invalid("bitcore JSON: input %d: prevTxId is not a 64-hex transaction id", i)
		}
		if in.Output == nil || in.Output.Satoshis == nil || in.Output.Script == nil {
			return nil, invalid("bitcore JSON: input %d: missing output {satoshis, script} of the spent UTXO", i)
		}
		if in.Script != "" {
			return nil, invalid("bitcore JSON: input %d is already signed (non-empty script)", i)
		}
		script, err := hex.DecodeString(*in.Output.Script)
		if err != nil || len(script) == 0 {
			return nil, invalid("bitcore JSON: input %d: output.script is not a hex script", i)
		}
		seq := wire.MaxTxInSequenceNum
		if in.SequenceNumber != nil {
			seq = *in.SequenceNumber
		}
		txIn := wire.NewTxIn(wire.NewOutPoint(h, *in.OutputIndex), nil, nil)
		txIn.Sequence = seq
		tx.AddTxIn(txIn)
		u.amounts = append(u.amounts, *in.Output.Satoshis)
		u.scripts = append(u.scripts, script)
	}
	for i, out := range b.Outputs {
		if out.Satoshis == nil || out.Script == nil {
			return nil, invalid("bitcore JSON: output %d: missing satoshis or script", i)
		}
		script, err := hex.DecodeString(*out.Script)
		if err != nil {
			return nil, invalid("bitcore JSON: output %d: script is not hex", i)
		}
		tx.AddTxOut(wire.NewTxOut(*out.Satoshis, script))
	}
	// bitcore's "hash" is the id of the transaction as serialized: a mismatch
	// means the JSON was edited after it was built, or is not bitcore's.
	if b.Hash != "" && b.Hash != tx.TxHash().String() {
		return nil, invalid("bitcore JSON: hash %s does not match the transaction (%s)", b.Hash, tx.TxHash())
	}
	if b.Fee != nil {
		var in, out int64
		for _, a := range u.amounts {
			in += a
		}
		for _, o := range tx.TxOut {
			out += o.Value
		}
		if *b.Fee != in-out {
			return nil, invalid("bitcore JSON: fee %d differs from inputs minus outputs (%d)", *b.Fee, in-out)
		}
	}
	u.hashTypes = make([]txscript.SigHashType, len(tx.TxIn))
	u.tapRoots = make([][]byte, len(tx.TxIn))
	for i, s := range u.scripts {
		u.hashTypes[i] = txscript.SigHashAll
		if isP2TR(s) {
			u.hashTypes[i] = txscript.SigHashDefault
		}
	}
	return u, nil
}

// parseBCH reads Tatum's BCH form "<unsigned tx hex>:<JSON array of amounts>".
func (c *Chain) parseBCH(s string) (*unsignedTx, error) {
	hexPart, amountsPart, _ := strings.Cut(s, ":")
	raw, err := hex.DecodeString(hexPart)
	if err != nil {
		return nil, invalid("BCH: the part before ':' is not hex")
	}
	tx := new(wire.MsgTx)
	r := bytes.NewReader(raw)
	if err := tx.DeserializeNoWitness(r); err != nil {
		return nil, invalid("BCH: unsigned transaction: %v", err)
	}
	if r.Len() != 0 {
		return nil, invalid("BCH: %d trailing bytes after the transaction", r.Len())
	}
	if len(tx.TxIn) == 0 || len(tx.TxOut) == 0 {
		return nil, invalid("BCH: needs at least one input and one output")
	}
	var amounts []int64
	if err := json.Unmarshal([]byte(amountsPart), &amounts); err != nil {
		return nil, invalid("BCH: the part after ':' is not a JSON array of integer amounts")
	}
	if len(amounts) != len(tx.TxIn) {
		return nil, invalid("BCH: %d amounts for %d inputs", len(amounts), len(tx.TxIn))
	}
	for i, in := range tx.TxIn {
		if len(in.SignatureScript) != 0 || len(in.Witness) != 0 {
			return nil, invalid("BCH: input %d is already signed", i)
		}
	}
	u := &unsignedTx{format: formatBCH, tx: tx, amounts: amounts,
		scripts:   make([][]byte, len(tx.TxIn)),
		hashTypes: make([]txscript.SigHashType, len(tx.TxIn)),
		tapRoots:  make([][]byte, len(tx.TxIn))}
	for i := range u.hashTypes {
		u.hashTypes[i] = sigHashForkIDAll
	}
	return u, nil
}

// sigHashForkIDAll is BCH's SIGHASH_ALL|SIGHASH_FORKID (fork id 0).
const sigHashForkIDAll txscript.SigHashType = 0x41

func (c *Chain) parsePSBT(s string) (u *unsignedTx, err error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, invalid("PSBT: not valid base64")
	}
	// The PSBT decoder is third-party code fed untrusted bytes: a panic in it
	// must become an error, never take the server or signer down.
	defer func() {
		if r := recover(); r != nil {
			u, err = nil, invalid("PSBT: malformed")
		}
	}()
	p, err := psbt.NewFromRawBytes(bytes.NewReader(raw), false)
	if err != nil {
		return nil, invalid("PSBT: %v", err)
	}
	tx := p.UnsignedTx
	if len(tx.TxIn) == 0 || len(tx.TxOut) == 0 {
		return nil, invalid("PSBT: needs at least one input and one output")
	}
	if len(tx.TxIn) > maxInputs || len(tx.TxOut) > maxOutputs {
		return nil, invalid("PSBT: too many inputs or outputs")
	}
	u = &unsignedTx{format: formatPSBT, tx: tx.Copy()}
	for i, in := range p.Inputs {
		if len(in.FinalScriptSig) != 0 || len(in.FinalScriptWitness) != 0 {
			return nil, invalid("PSBT: input %d is already finalized", i)
		}
		op := tx.TxIn[i].PreviousOutPoint
		var utxo *wire.TxOut
		if in.NonWitnessUtxo != nil {
			if in.NonWitnessUtxo.TxHash() != op.Hash {
				return nil, invalid("PSBT: input %d: non_witness_utxo is not the transaction it spends", i)
			}
			if int(op.Index) >= len(in.NonWitnessUtxo.TxOut) {
				return nil, invalid("PSBT: input %d: non_witness_utxo has no output %d", i, op.Index)
			}
			utxo = in.NonWitnessUtxo.TxOut[op.Index]
		}
		if in.WitnessUtxo != nil {
			if utxo != nil && (utxo.Value != in.WitnessUtxo.Value || !bytes.Equal(utxo.PkScript, in.WitnessUtxo.PkScript)) {
				return nil, invalid("PSBT: input %d: witness_utxo and non_witness_utxo disagree", i)
			}
			utxo = in.WitnessUtxo
		}
		if utxo == nil {
			return nil, invalid("PSBT: input %d has neither witness_utxo nor non_witness_utxo", i)
		}
		ht := in.SighashType
		if ht == 0 && !isP2TR(utxo.PkScript) {
			ht = txscript.SigHashAll
			if c.forkID {
				ht = sigHashForkIDAll
			}
		}
		var root []byte
		if len(in.TaprootMerkleRoot) != 0 {
			if len(in.TaprootMerkleRoot) != 32 {
				return nil, invalid("PSBT: input %d: taproot merkle root is not 32 bytes", i)
			}
			root = in.TaprootMerkleRoot
		}
		u.amounts = append(u.amounts, utxo.Value)
		u.scripts = append(u.scripts, utxo.PkScript)
		u.hashTypes = append(u.hashTypes, ht)
		u.tapRoots = append(u.tapRoots, root)
	}
	return u, nil
}

// check applies the chain's rules to a parsed transaction.
func (c *Chain) check(u *unsignedTx) error {
	var in int64
	for i, a := range u.amounts {
		if a < 0 || a > c.maxMoney {
			return invalid("input %d: amount %d out of range", i, a)
		}
		if in += a; in > c.maxMoney {
			return invalid("inputs total more than %s's supply", c.info.Code)
		}
	}
	out, err := c.outputsTotal(u.tx)
	if err != nil {
		return err
	}
	if out > in {
		return fmt.Errorf("%w: %w: outputs %d > inputs %d", chain.ErrInvalidTx, ErrOutputsExceedInputs, out, in)
	}
	for i, s := range u.scripts {
		if err := c.checkInput(i, s, u.hashTypes[i]); err != nil {
			return err
		}
	}
	return nil
}

// outputsTotal is what tx's outputs pay, refusing an amount out of the
// chain's range so that no sum overflows.
func (c *Chain) outputsTotal(tx *wire.MsgTx) (int64, error) {
	var out int64
	for i, o := range tx.TxOut {
		if o.Value < 0 || o.Value > c.maxMoney {
			return 0, invalid("output %d: amount %d out of range", i, o.Value)
		}
		if out += o.Value; out > c.maxMoney {
			return 0, invalid("outputs total more than %s's supply", c.info.Code)
		}
	}
	return out, nil
}

func (c *Chain) checkInput(i int, script []byte, ht txscript.SigHashType) error {
	kind := "P2PKH"
	switch {
	case script == nil: // Tatum BCH: P2PKH of the signing key
	case isP2PKH(script):
	case isP2WPKH(script):
		kind = "P2WPKH"
	case isP2SH(script):
		kind = "P2SH-P2WPKH"
	case isP2TR(script):
		kind = "P2TR"
	default:
		return fmt.Errorf("%w: %w: input %d: script is not P2PKH, P2WPKH, P2SH-P2WPKH or P2TR", chain.ErrInvalidTx, ErrUnsupportedInput, i)
	}
	if (kind == "P2WPKH" || kind == "P2SH-P2WPKH") && !c.segwit || kind == "P2TR" && !c.taproot {
		return fmt.Errorf("%w: %w: input %d: %s inputs are not supported on %s", chain.ErrInvalidTx, ErrUnsupportedInput, i, kind, c.info.Code)
	}
	// Only "sign everything": NONE and SINGLE let others change outputs,
	// ANYONECANPAY inputs; a custodial signer must not hand that out.
	want := txscript.SigHashAll
	switch {
	case c.forkID:
		want = sigHashForkIDAll
	case kind == "P2TR" && ht == txscript.SigHashDefault:
		return nil
	}
	if ht != want {
		return invalid("input %d: sighash type 0x%02x; only 0x%02x is signed on %s", i, uint32(ht), uint32(want), c.info.Code)
	}
	return nil
}

func isP2PKH(s []byte) bool {
	return len(s) == 25 && s[0] == txscript.OP_DUP && s[1] == txscript.OP_HASH160 && s[2] == txscript.OP_DATA_20 &&
		s[23] == txscript.OP_EQUALVERIFY && s[24] == txscript.OP_CHECKSIG
}

func isP2WPKH(s []byte) bool {
	return len(s) == 22 && s[0] == txscript.OP_0 && s[1] == txscript.OP_DATA_20
}

func isP2SH(s []byte) bool {
	return len(s) == 23 && s[0] == txscript.OP_HASH160 && s[1] == txscript.OP_DATA_20 && s[22] == txscript.OP_EQUAL
}

func isP2TR(s []byte) bool {
	return len(s) == 34 && s[0] == txscript.OP_1 && s[1] == txscript.OP_DATA_32
}
