package sol

import (
	"encoding/base64"
	"encoding/hex"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.TxValidator = (*Chain)(nil)

// ValidateTx implements chain.TxValidator. The native form is base64 of a
// compiled message (legacy or v0); Tatum's is JSON {"txData": hex of the
// message, "mintPK"?: base58 secret of an extra signer}. Either way the
// message is parsed in full.
func (c *Chain) ValidateTx(serialized string, _ bool, _ ...uint64) error {
	msg, _, err := decodeTx(serialized)
	if err != nil {
		return err
	}
	if err := checkMessage(msg); err != nil {
		return chain.InvalidTx("Solana message: %s", err.Error())
	}
	return nil
}

// decodeTx returns the message bytes of either form and, for Tatum's form,
// the extra signer's secret (empty when absent). It does not parse the message.
func decodeTx(serialized string) (msg []byte, mintPK string, err error) {
	if !chain.LooksLikeJSONObject(serialized) {
		if msg, err = base64.StdEncoding.DecodeString(serialized); err != nil {
			return nil, "", chain.InvalidTx("SOL transaction is neither base64 nor Tatum JSON")
		}
		return msg, "", nil
	}
	o, err := chain.ParseJSONObject(serialized)
	if err != nil {
		return nil, "", err
	}
	h, err := o.String("txData")
	if err != nil {
		return nil, "", err
	}
	if msg, err = hex.DecodeString(h); err != nil {
		return nil, "", chain.InvalidTx("txData is not hex")
	}
	if o.Has("mintPK") {
		if mintPK, err = o.String("mintPK"); err != nil {
			return nil, "", err
		}
	}
	return msg, mintPK, nil
}

type msgErr string

func (e msgErr) Error() string { return string(e) }

// message is the part of a compiled Solana message the signer needs: the
// signer count and the static account keys (signers first, fee payer at 0).
type message struct {
	required int
	keys     [][]byte
	// blockhash is the offset of the recent blockhash in the message bytes.
	blockhash int
	// instructions index keys; an index past them is an address-table entry (v0).
	instructions []instruction
}

// instruction is one compiled instruction of a message.
type instruction struct {
	program int
	accts   []byte
	data    []byte
}

// checkMessage parses a compiled Solana message and checks its indices.
func checkMessage(b []byte) error {
	_, err := parseMessage(b)
	return err
}

// parseMessage parses a compiled message (legacy or v0) in full.
func parseMessage(b []byte) (*message, error) {
	r := &reader{b: b}
	v0 := false
	if len(b) > 0 && b[0]&0x80 != 0 {
		if b[0] != 0x80 {
			return nil, msgErr("unsupported message version")
		}
		v0 = true
		r.byte()
	}
	required, roSigned, roUnsigned := int(r.byte()), int(r.byte()), int(r.byte())
	nKeys := r.compact()
	keyBytes := r.take(32 * nKeys)
	if r.err == nil && (required == 0 || required > nKeys || roSigned >= required || roUnsigned > nKeys-required) {
		return nil, msgErr("header does not fit the account keys")
	}
	blockhash := len(b) - len(r.b)
	r.take(32) // recent blockhash
	nIx := r.compact()
	ixs := make([]instruction, 0, min(nIx, len(b)))
	for range nIx {
		if r.err != nil {
			break
		}
		p := int(r.byte())
		a := r.take(r.compact())
		d := r.take(r.compact())
		ixs = append(ixs, instruction{p, a, d})
	}
	total := nKeys
	if v0 {
		nLookups := r.compact()
		for range nLookups {
			if r.err != nil {
				break
			}
			r.take(32)
			total += len(r.take(r.compact())) // writable indexes
			total += len(r.take(r.compact())) // readonly indexes
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, msgErr("trailing bytes")
	}
	for _, i := range ixs {
		if i.program >= total {
			return nil, msgErr("program index out of range")
		}
		for _, a := range i.accts {
			if int(a) >= total {
				return nil, msgErr("account index out of range")
			}
		}
	}
	m := &message{required: required, keys: make([][]byte, nKeys), blockhash: blockhash, instructions: ixs}
	for i := range nKeys {
		m.keys[i] = keyBytes[32*i : 32*i+32]
	}
	return m, nil
}

// reader reads the message's bytes, remembering the first problem.
type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b) < n {
		r.err = msgErr("truncated")
		r.b = nil
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) byte() byte {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

// compact reads Solana's compact-u16 (1 to 3 bytes, 7 bits each).
func (r *reader) compact() int {
	v := 0
	for i := range 3 {
		b := r.byte()
		if r.err != nil {
			return 0
		}
		v |= int(b&0x7f) << (7 * i)
		if b&0x80 == 0 {
			if v > 0xffff || (i > 0 && b == 0) {
				r.err = msgErr("bad compact length")
				return 0
			}
			return v
		}
	}
	r.err = msgErr("bad compact length")
	return 0
}
