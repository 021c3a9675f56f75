package vet

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/ethereum/go-ethereum/rlp"
	"golang.org/x/crypto/blake2b"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Signer = (*Chain)(nil)

// thorify's defaults for a config without them.
const (
	defaultExpiration   = 720
	defaultGasPriceCoef = 0
)

// signedBody is the signed transaction: the body's nine fields and the
// 65-byte signature r ‖ s ‖ recovery id.
type signedBody struct {
	ChainTag     uint8
	BlockRef     uint64
	Expiration   uint32
	Clauses      []Clause
	GasPriceCoef uint8
	Gas          uint64
	DependsOn    []byte
	Nonce        uint64
	Reserved     []rlp.RawValue
	Signature    []byte
}

// Sign implements chain.Signer. The origin of a VeChain transaction is
// whoever signs it, so the signer check is on the Tatum form's `from` (when it
// names an address); both forms are refused on the wrong network (chainTag).
// A transaction asking for fee delegation (VIP-191, reserved features) needs
// a second signature from the gas payer and is refused.
func (c *Chain) Sign(ctx context.Context, req chain.SignRequest) (chain.Signed, error) {
	if err := ctx.Err(); err != nil {
		return chain.Signed{}, err
	}
	if len(req.Keys) != 1 {
		return chain.Signed{}, fmt.Errorf("%w: a VET transaction has one signer, got %d keys", chain.ErrInvalidKey, len(req.Keys))
	}
	priv, err := chain.ParseHexKey(req.Keys[0], false)
	if err != nil {
		return chain.Signed{}, err
	}
	defer priv.Zero()
	origin := Address(priv.PubKey())

	b, err := parseBody(req.Serialized, origin, req.Testnet)
	if err != nil {
		return chain.Signed{}, err
	}
	return signBody(b, priv)
}

// parseBody is the body Sign signs and Intent decodes, of either form, on
// the wallet's network. origin, when not empty, must be the Tatum form's
// from where it names an address.
func parseBody(serialized, origin string, testnet bool) (*body, error) {
	var b *body
	var err error
	if chain.LooksLikeJSONObject(serialized) {
		b, err = tatumBody(serialized, origin)
	} else {
		b, err = nativeBody(serialized)
	}
	if err != nil {
		return nil, err
	}
	if err := checkTag(uint64(b.ChainTag), testnet); err != nil {
		return nil, err
	}
	return b, nil
}

// nativeBody decodes the 0x-hex unsigned RLP body and insists that it is the
// canonical encoding, so what is signed is exactly what was queued.
func nativeBody(s string) (*body, error) {
	raw, b, err := decodeNative(s)
	if err != nil {
		return nil, err
	}
	again, err := rlp.EncodeToBytes(b)
	if err != nil || !bytes.Equal(again, raw) {
		return nil, chain.InvalidTx("VET transaction body is not canonical RLP")
	}
	if len(b.Reserved) != 0 {
		return nil, chain.InvalidTx("VET transactions with reserved features (fee delegation) are not supported")
	}
	return b, nil
}

// isWrongNetwork lets the structural checks of ValidateTx run without their
// network check, which Sign makes against the request's network.
func isWrongNetwork(err error) bool { return errors.Is(err, chain.ErrWrongNetwork) }

// tatumBody builds the one-clause body of a thorify config. chainTag,
// blockRef, nonce and gas come from a node when Tatum's SDK signs; here they
// must be in the JSON (thorify would draw a random nonce, which makes the
// transaction unreproducible).
func tatumBody(s, origin string) (*body, error) {
	o, err := chain.ParseJSONObject(s)
	if err != nil {
		return nil, err
	}
	if err := checkTatum(o, false); err != nil && !isWrongNetwork(err) {
		return nil, err
	}
	if o.Has("from") {
		var from string
		// thorify takes a wallet index (the number 0) or an address.
		if json.Unmarshal(o["from"], &from) == nil && origin != "" && !strings.EqualFold(from, origin) {
			return nil, fmt.Errorf("%w: from is not the address of the signing key", chain.ErrWrongSigner)
		}
	}
	if missing := o.Missing(completable...); len(missing) > 0 {
		return nil, chain.InvalidTx("missing %s (complete it from the node when the transaction is created)", strings.Join(missing, ", "))
	}
	var b body
	var tag, ref, gas, nonce, exp, coef *big.Int
	if tag, err = quantityOf(o, "chainTag", 8); err != nil {
		return nil, err
	}
	if ref, err = blockRef(o); err != nil {
		return nil, err
	}
	if gas, err = quantityOf(o, "gas", 64); err != nil {
		return nil, err
	}
	if nonce, err = quantityOf(o, "nonce", 64); err != nil {
		return nil, err
	}
	exp, coef = big.NewInt(defaultExpiration), big.NewInt(defaultGasPriceCoef)
	if o.Has("expiration") {
		if exp, err = quantityOf(o, "expiration", 32); err != nil {
			return nil, err
		}
	}
	if o.Has("gasPriceCoef") {
		if coef, err = quantityOf(o, "gasPriceCoef", 8); err != nil {
			return nil, err
		}
	}
	cl, err := tatumClause(o)
	if err != nil {
		return nil, err
	}
	b.ChainTag, b.BlockRef, b.Gas, b.Nonce = uint8(tag.Uint64()), ref.Uint64(), gas.Uint64(), nonce.Uint64()
	b.Expiration, b.GasPriceCoef = uint32(exp.Uint64()), uint8(coef.Uint64())
	b.Clauses, b.DependsOn, b.Reserved = []Clause{cl}, []byte{}, []rlp.RawValue{}
	if b.Gas == 0 {
		return nil, chain.InvalidTx("gas is zero")
	}
	return &b, nil
}

// tatumClause is the one clause of a checked thorify config.
func tatumClause(o chain.JSONObject) (Clause, error) {
	value, err := quantityOf(o, "value", 256)
	if err != nil {
		return Clause{}, err
	}
	cl := Clause{To: []byte{}, Value: value, Data: []byte{}}
	if o.Has("to") {
		to, _ := o.String("to")
		cl.To, _ = hex.DecodeString(strings.TrimPrefix(to, "0x"))
	}
	if o.Has("data") {
		d, _ := o.String("data")
		if cl.Data, err = hex.DecodeString(strings.TrimPrefix(d, "0x")); err != nil {
			return Clause{}, chain.InvalidTx(`"data" is not 0x hex`)
		}
	}
	return cl, nil
}

// quantityOf reads a web3 quantity (JSON integer, decimal or 0x-hex string)
// that must fit in bits.
func quantityOf(o chain.JSONObject, key string, bits int) (*big.Int, error) {
	v := o[key]
	n := new(big.Int)
	var num json.Number
	var s string
	ok := false
	if json.Unmarshal(v, &num) == nil && chain.IsDecimal(num.String()) {
		_, ok = n.SetString(num.String(), 10)
	} else if json.Unmarshal(v, &s) == nil {
		if h, isHex := strings.CutPrefix(s, "0x"); isHex {
			_, ok = n.SetString(h, 16)
		} else if chain.IsDecimal(s) {
			_, ok = n.SetString(s, 10)
		}
	}
	if !ok || n.Sign() < 0 {
		return nil, chain.InvalidTx("%q is not a non-negative integer", key)
	}
	if n.BitLen() > bits {
		return nil, chain.InvalidTx("%q does not fit in %d bits", key, bits)
	}
	return n, nil
}

func blockRef(o chain.JSONObject) (*big.Int, error) {
	r, err := o.String("blockRef")
	if err != nil {
		return nil, err
	}
	h, ok := strings.CutPrefix(r, "0x")
	n, okHex := new(big.Int).SetString(h, 16)
	if !ok || !okHex || len(h) > 16 {
		return nil, chain.InvalidTx(`"blockRef" is not 8 bytes of 0x hex`)
	}
	return n, nil
}

// SigningHash is blake2b-256 of the unsigned body's RLP.
func SigningHash(b *body) ([32]byte, error) {
	raw, err := rlp.EncodeToBytes(b)
	if err != nil {
		return [32]byte{}, fmt.Errorf("encode VET body: %w", err)
	}
	return blake2b.Sum256(raw), nil
}

// TxID is VeChain's transaction id: blake2b-256(signingHash ‖ origin address).
func TxID(signingHash [32]byte, origin []byte) string {
	id := blake2b.Sum256(append(signingHash[:], origin...))
	return "0x" + hex.EncodeToString(id[:])
}

func signBody(b *body, priv *btcec.PrivateKey) (chain.Signed, error) {
	h, err := SigningHash(b)
	if err != nil {
		return chain.Signed{}, err
	}
	// SignCompact is RFC 6979 with low s, as thor-devkit signs; it gives
	// [27+recid] ‖ r ‖ s, and Thor wants r ‖ s ‖ recid.
	compact := ecdsa.SignCompact(priv, h[:], false)
	sig := append(compact[1:65:65], compact[0]-27)
	s := signedBody{b.ChainTag, b.BlockRef, b.Expiration, b.Clauses, b.GasPriceCoef, b.Gas, b.DependsOn, b.Nonce, b.Reserved, sig}
	raw, err := rlp.EncodeToBytes(&s)
	if err != nil {
		return chain.Signed{}, fmt.Errorf("encode signed VET transaction: %w", err)
	}
	a := chain.KeccakAddress(priv.PubKey())
	return chain.Signed{TxData: "0x" + hex.EncodeToString(raw), TxID: TxID(h, a[:])}, nil
}

// DecodeSigned reads a signed transaction (raw RLP) and returns its id and
// origin, recovering the signer from the signature as Thor does.
func DecodeSigned(raw []byte) (txID string, origin string, err error) {
	_, h, a, err := decodeSigned(raw)
	if err != nil {
		return "", "", err
	}
	return TxID(h, a[:]), "0x" + hex.EncodeToString(a[:]), nil
}

// decodeSigned reads a signed transaction and returns it with its body's
// signing hash and the origin address the signature recovers.
func decodeSigned(raw []byte) (s *signedBody, h [32]byte, origin [20]byte, err error) {
	s = &signedBody{}
	if err := rlp.DecodeBytes(raw, s); err != nil {
		return nil, h, origin, chain.InvalidTx("signed VET transaction: %v", err)
	}
	if len(s.Signature) != 65 || s.Signature[64] > 1 {
		return nil, h, origin, chain.InvalidTx("signed VET transaction has no 65-byte signature")
	}
	if h, err = SigningHash(s.body()); err != nil {
		return nil, h, origin, err
	}
	pub, err := chain.RecoverSecp256k1(&h, (*[32]byte)(s.Signature[:32]), (*[32]byte)(s.Signature[32:64]), s.Signature[64])
	if err != nil {
		return nil, h, origin, chain.InvalidTx("signed VET transaction: signature does not recover: %v", err)
	}
	return s, h, chain.KeccakAddressXY(&pub), nil
}

// body is the signed transaction without its signature.
func (s *signedBody) body() *body {
	return &body{s.ChainTag, s.BlockRef, s.Expiration, s.Clauses, s.GasPriceCoef, s.Gas, s.DependsOn, s.Nonce, s.Reserved}
}
