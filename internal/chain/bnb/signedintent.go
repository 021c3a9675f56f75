package bnb

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
)

var _ chain.SignedIntender = (*Chain)(nil)

// SignedIntent implements chain.SignedIntender on the hex amino StdTx Sign
// returns. The amino carries no chain id: the signature must verify, with
// the public key it carries, over the sign document of the decoded transfer
// on the wallet's network (on the other network's only, it is
// ErrWrongNetwork). The transfer is then decoded as Intent decodes that sign
// document (a StdSignMsg), and Signers is the address of the signature's
// public key, which every input must be. The amino must be the one Sign
// writes for that transfer, byte for byte: one message, one signature, no
// field the decoder does not know.
func (c *Chain) SignedIntent(txData string, testnet bool, _ ...uint64) (intent.Intent, error) {
	raw, err := decodeHex(txData)
	if err != nil {
		return intent.Intent{}, err
	}
	t, pub, sig, err := decodeStdTx(raw)
	if err != nil {
		return intent.Intent{}, chain.InvalidTx("signed BNB transaction: %s", err.Error())
	}
	key, err := btcec.ParsePubKey(pub)
	if err != nil {
		return intent.Intent{}, chain.InvalidTx("signed BNB transaction: public key is not secp256k1")
	}
	var r, s btcec.ModNScalar
	if len(sig) != 64 || r.SetByteSlice(sig[:32]) || s.SetByteSlice(sig[32:]) || r.IsZero() || s.IsZero() {
		return intent.Intent{}, chain.InvalidTx("signed BNB transaction: signature is not r ‖ s")
	}
	verifies := func(testnet bool) bool {
		t.testnet, t.ChainID = testnet, chainID(testnet)
		h := sha256.Sum256(t.SignBytes())
		return ecdsa.NewSignature(&r, &s).Verify(h[:], key)
	}
	if !verifies(testnet) {
		if verifies(!testnet) {
			return intent.Intent{}, chain.WrongNetwork("the transaction is signed for chain id %q", chainID(!testnet))
		}
		return intent.Intent{}, chain.InvalidTx("signature does not verify with the public key it carries")
	}
	if !bytes.Equal(t.Encode(pub, sig), raw) {
		return intent.Intent{}, chain.InvalidTx("signed BNB transaction is not in the amino encoding of its transfer")
	}
	in, err := c.Intent(string(t.SignBytes()), testnet)
	if err != nil {
		return intent.Intent{}, err
	}
	// The chain takes a transfer only with a signature of every input's
	// account: with one signature, every input is the key's.
	signer := Address(key, testnet)
	for _, a := range in.Signers {
		if a != signer {
			return intent.Intent{}, chain.InvalidTx("input %s is not the signing key's address %s", a, signer)
		}
	}
	in.Signers = []string{signer}
	return in, nil
}

func decodeHex(s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, chain.InvalidTx("signed BNB transaction is not hex")
	}
	return b, nil
}

type aminoErr string

func (e aminoErr) Error() string { return string(e) }

// decodeStdTx reads what Encode writes: the length prefix, the StdTx with one
// MsgSend and one secp256k1 signature, the memo and the source. Amounts and
// numbers past int64 are refused, as in the JSON forms. Wire types are not
// checked field by field: SignedIntent insists that Encode writes the same
// bytes back.
func decodeStdTx(raw []byte) (t *Transfer, pub, sig []byte, err error) {
	n, l := binary.Uvarint(raw)
	if l <= 0 || n != uint64(len(raw)-l) {
		return nil, nil, nil, aminoErr("length prefix does not match")
	}
	tx, ok := bytes.CutPrefix(raw[l:], prefixStdTx)
	if !ok {
		return nil, nil, nil, aminoErr("not an amino StdTx")
	}
	t = &Transfer{}
	var msgs, sigs [][]byte
	err = chain.ProtoFields(tx, func(num protowire.Number, _ protowire.Type, v []byte, u uint64) error {
		switch num {
		case 1:
			msgs = append(msgs, v)
		case 2:
			sigs = append(sigs, v)
		case 3:
			t.Memo = string(v)
		case 4:
			src, err := int64Of(u)
			t.Source = src
			return err
		default:
			return aminoErr("unknown StdTx field")
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, err
	}
	if len(msgs) != 1 || len(sigs) != 1 {
		return nil, nil, nil, aminoErr("a transfer has one message and one signature")
	}
	msg, ok := bytes.CutPrefix(msgs[0], prefixMsgSend)
	if !ok {
		return nil, nil, nil, aminoErr("the message is not a MsgSend")
	}
	err = chain.ProtoFields(msg, func(num protowire.Number, _ protowire.Type, v []byte, _ uint64) error {
		io, err := decodeIO(v)
		switch {
		case err != nil:
			return err
		case num == 1:
			t.Inputs = append(t.Inputs, io)
		case num == 2:
			t.Outputs = append(t.Outputs, io)
		default:
			return aminoErr("unknown MsgSend field")
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, err
	}
	err = chain.ProtoFields(sigs[0], func(num protowire.Number, _ protowire.Type, v []byte, u uint64) error {
		var err error
		switch num {
		case 1:
			k, ok := bytes.CutPrefix(v, prefixPubKeyK1)
			if !ok || len(k) != 34 || k[0] != 33 {
				return aminoErr("the public key is not a compressed secp256k1 key")
			}
			pub = k[1:]
		case 2:
			sig = v
		case 3:
			t.AccountNumber, err = int64Of(u)
		case 4:
			t.Sequence, err = int64Of(u)
		default:
			return aminoErr("unknown signature field")
		}
		return err
	})
	if err != nil {
		return nil, nil, nil, err
	}
	if pub == nil || sig == nil {
		return nil, nil, nil, aminoErr("the signature has no public key or no signature")
	}
	return t, pub, sig, nil
}

func decodeIO(b []byte) (IO, error) {
	var io IO
	err := chain.ProtoFields(b, func(num protowire.Number, _ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case 1:
			io.Address = v
		case 2:
			var c Coin
			err := chain.ProtoFields(v, func(num protowire.Number, _ protowire.Type, v []byte, u uint64) error {
				var err error
				switch num {
				case 1:
					c.Denom = string(v)
				case 2:
					c.Amount, err = int64Of(u)
				default:
					return aminoErr("unknown coin field")
				}
				return err
			})
			if err != nil {
				return err
			}
			io.Coins = append(io.Coins, c)
		default:
			return aminoErr("unknown input or output field")
		}
		return nil
	})
	return io, err
}

func int64Of(u uint64) (int64, error) {
	if u > math.MaxInt64 {
		return 0, aminoErr("a number does not fit in int64")
	}
	return int64(u), nil
}
