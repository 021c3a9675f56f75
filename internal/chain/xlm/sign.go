package xlm

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/stellar/go-stellar-sdk/network"
	"github.com/stellar/go-stellar-sdk/xdr"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Signer = (*Chain)(nil)

// maxSignatures is the XDR bound of an envelope's signature list.
const maxSignatures = 20

// Passphrase is the Stellar network passphrase of a wallet's network: the
// network is not written in the transaction, it is hashed into what is signed.
func Passphrase(testnet bool) string {
	if testnet {
		return network.TestNetworkPassphrase
	}
	return network.PublicNetworkPassphrase
}

// Sign implements chain.Signer for a base64 XDR TransactionEnvelope (Tatum's
// and the native form are the same). The envelope is decoded in full by the
// Stellar SDK's XDR package; the account that must sign — the source account,
// or the fee source of a fee-bump envelope — must be the managed wallet. The
// signature over sha256(network id ‖ envelope type ‖ transaction) is added to
// the envelope's signatures; txId is that hash in hex.
func (c *Chain) Sign(ctx context.Context, req chain.SignRequest) (chain.Signed, error) {
	if err := ctx.Err(); err != nil {
		return chain.Signed{}, err
	}
	env, err := parseEnvelope(req.Serialized)
	if err != nil {
		return chain.Signed{}, err
	}
	if err := incomplete(env); err != nil {
		return chain.Signed{}, err
	}
	if len(req.Keys) != 1 {
		return chain.Signed{}, fmt.Errorf("%w: an XLM transaction is signed by one wallet, got %d keys", chain.ErrInvalidKey, len(req.Keys))
	}
	key, err := ParseSecret(req.Keys[0])
	if err != nil {
		return chain.Signed{}, err
	}
	defer clear(key)
	pub := key.Public().(ed25519.PublicKey)

	signer := env.FeeAccount().ToAccountId() // the source account, or a fee bump's fee source
	if !bytes.Equal(signer.Ed25519[:], pub) {
		role := "source account"
		if env.IsFeeBump() {
			role = "fee-bump fee source"
		}
		return chain.Signed{}, fmt.Errorf("%w: %s %s is not the wallet %s", chain.ErrWrongSigner, role, Address(signer.Ed25519[:]), Address(pub))
	}
	hash, err := network.HashTransactionInEnvelope(env, Passphrase(req.Testnet))
	if err != nil {
		return chain.Signed{}, chain.InvalidTx("cannot hash the transaction: %s", err.Error())
	}
	ds := xdr.DecoratedSignature{Signature: ed25519.Sign(key, hash[:])}
	copy(ds.Hint[:], pub[len(pub)-4:])

	sigs := outerSignatures(&env)
	have := false
	for _, s := range *sigs {
		have = have || (s.Hint == ds.Hint && bytes.Equal(s.Signature, ds.Signature))
	}
	if !have {
		if len(*sigs) >= maxSignatures {
			return chain.Signed{}, chain.InvalidTx("envelope already holds %d signatures", len(*sigs))
		}
		*sigs = append(*sigs, ds)
	}
	out, err := xdr.MarshalBase64(env)
	if err != nil {
		return chain.Signed{}, fmt.Errorf("encode signed envelope: %w", err)
	}
	return chain.Signed{TxData: out, TxID: hex.EncodeToString(hash[:])}, nil
}

// parseEnvelope reads a TransactionEnvelope: first the structural check of
// ValidateTx (its messages say what is wrong, where the SDK's name Go types),
// then the SDK's bounded decoder (input length, depth and memory limits),
// whole input consumed.
func parseEnvelope(serialized string) (xdr.TransactionEnvelope, error) {
	var env xdr.TransactionEnvelope
	if err := checkHead(serialized); err != nil {
		return env, err
	}
	if err := xdr.SafeUnmarshalBase64(strings.TrimSpace(serialized), &env); err != nil {
		return env, chain.InvalidTx("not a Stellar transaction envelope (XDR: %s)", err.Error())
	}
	switch env.Type {
	case xdr.EnvelopeTypeEnvelopeTypeTxV0, xdr.EnvelopeTypeEnvelopeTypeTx, xdr.EnvelopeTypeEnvelopeTypeTxFeeBump:
	default:
		return env, chain.InvalidTx("not a transaction envelope (type %d)", env.Type)
	}
	return env, nil
}

// outerSignatures is the list the signing account's signature belongs in.
func outerSignatures(env *xdr.TransactionEnvelope) *[]xdr.DecoratedSignature {
	switch env.Type {
	case xdr.EnvelopeTypeEnvelopeTypeTxFeeBump:
		return &env.FeeBump.Signatures
	case xdr.EnvelopeTypeEnvelopeTypeTxV0:
		return &env.V0.Signatures
	default:
		return &env.V1.Signatures
	}
}
