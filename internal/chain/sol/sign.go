package sol

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"

	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Signer = (*Chain)(nil)

// Sign implements chain.Signer. Keys are the managed wallets' keys (one per
// hashes entry); together with Tatum's optional mintPK they must cover every
// required signer of the message, the fee payer must be a managed wallet, and
// every managed key must be a required signer. The output is the base64 wire
// transaction (compact-u16 signature count, one signature per required signer
// in account order, the message), txId the fee payer's signature in base58.
//
// Tatum's form {"txData", "mintPK"?} is signed as given, recentBlockhash
// included: Tatum's SDK swaps in a fresh blockhash from a node and broadcasts
// itself, which an offline signer cannot do. An all-zero blockhash is one the
// server was to fill from its node (CompleteFromNode) and is refused here. A
// message whose blockhash has expired (about 150 blocks, a minute or two) is
// refused by the node at broadcast; the server reports such transactions
// expired (Expired).
func (c *Chain) Sign(ctx context.Context, req chain.SignRequest) (chain.Signed, error) {
	if err := ctx.Err(); err != nil {
		return chain.Signed{}, err
	}
	raw, mintPK, msg, err := prepare(req.Serialized)
	if err != nil {
		return chain.Signed{}, err
	}
	if len(req.Keys) == 0 {
		return chain.Signed{}, fmt.Errorf("%w: no key to sign with", chain.ErrInvalidKey)
	}
	managed := make([]ed25519.PrivateKey, 0, len(req.Keys)+1)
	defer func() {
		for _, k := range managed {
			clear(k)
		}
	}()
	for i, s := range req.Keys {
		k, err := ParseKey(s)
		if err != nil {
			return chain.Signed{}, fmt.Errorf("key %d: %w", i, err)
		}
		managed = append(managed, k)
	}
	nManaged := len(managed)
	if mintPK != "" {
		k, err := ParseKey(mintPK)
		if err != nil {
			// The extra signer's key travels in the transaction; a bad one makes the transaction invalid.
			return chain.Signed{}, chain.InvalidTx("mintPK is not a base58 Solana secret key")
		}
		managed = append(managed, k)
	}
	payer := msg.keys[0]
	if find(managed[:nManaged], payer) == nil {
		return chain.Signed{}, fmt.Errorf("%w: fee payer %s is not a managed wallet of this transaction", chain.ErrWrongSigner, base58.Encode(payer))
	}
	for i, k := range managed[:nManaged] {
		if !isSigner(msg, k[ed25519.SeedSize:]) {
			return chain.Signed{}, fmt.Errorf("%w: key %d (%s) is not a signer of the message", chain.ErrWrongSigner, i, base58.Encode(k[ed25519.SeedSize:]))
		}
	}
	out := appendCompact(make([]byte, 0, 3+64*msg.required+len(raw)), msg.required)
	for i := range msg.required {
		k := find(managed, msg.keys[i])
		if k == nil {
			return chain.Signed{}, fmt.Errorf("%w: required signer %s has no key here", chain.ErrWrongSigner, base58.Encode(msg.keys[i]))
		}
		out = append(out, ed25519.Sign(k, raw)...)
	}
	out = append(out, raw...)
	sig0 := out[len(out)-len(raw)-64*msg.required:][:64]
	return chain.Signed{TxData: base64.StdEncoding.EncodeToString(out), TxID: base58.Encode(sig0)}, nil
}

// prepare reads what Sign signs and Intent decodes: the message bytes, the
// Tatum form's extra signer, and the parsed message, refused when the server
// has not filled its blockhash.
func prepare(serialized string) (raw []byte, mintPK string, msg *message, err error) {
	raw, mintPK, err = decodeTx(serialized)
	if err != nil {
		return nil, "", nil, err
	}
	msg, err = parseMessage(raw)
	if err != nil {
		return nil, "", nil, chain.InvalidTx("Solana message: %s", err.Error())
	}
	if unset(raw, msg) {
		return nil, "", nil, chain.InvalidTx("missing %q (complete it from the node when the transaction is created)", fieldBlockhash)
	}
	return raw, mintPK, msg, nil
}

// find returns the key whose public half is pub, or nil.
func find(keys []ed25519.PrivateKey, pub []byte) ed25519.PrivateKey {
	for _, k := range keys {
		if bytes.Equal(k[ed25519.SeedSize:], pub) {
			return k
		}
	}
	return nil
}

func isSigner(m *message, pub []byte) bool {
	for _, k := range m.keys[:m.required] {
		if bytes.Equal(k, pub) {
			return true
		}
	}
	return false
}

// appendCompact writes Solana's compact-u16.
func appendCompact(b []byte, v int) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
