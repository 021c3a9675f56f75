package evm

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/custoskms/custos/internal/chain"
)

var (
	_ chain.TxValidator    = (*Chain)(nil)
	_ chain.Signer         = (*Chain)(nil)
	_ chain.ExternalSigner = (*Chain)(nil)
)

// ChainIDs returns every chain id accepted for a network: the public ones and
// extra, the ids configuration adds for this call (a dev chain: go-ethereum's
// simulated backend uses 1337).
func (c *Chain) ChainIDs(testnet bool, extra ...uint64) []uint64 {
	if testnet {
		return slices.Concat(c.TestnetChainIDs, extra)
	}
	return slices.Concat(c.MainnetChainIDs, extra)
}

// CheckChainID refuses a chain id that does not belong to this chain and network.
func (c *Chain) CheckChainID(id *big.Int, testnet bool, extra ...uint64) error {
	ids := c.ChainIDs(testnet, extra...)
	if id.IsUint64() && slices.Contains(ids, id.Uint64()) {
		return nil
	}
	net := chain.NetworkName(testnet)
	return fmt.Errorf("%w: chain id %s is not a %s %s chain id (accepted: %v)", chain.ErrWrongNetwork, id, c.info.Code, net, ids)
}

// ValidateTx implements chain.TxValidator. A Tatum-format transaction may
// lack nonce, gas, gas price or chain id here (the server completes them from
// a node, see Complete and Tx.Missing); a chain id that is given must belong to
// the chain and network, or be one of extra.
func (c *Chain) ValidateTx(serialized string, testnet bool, extra ...uint64) error {
	_, err := c.parseForNetwork(serialized, testnet, extra...)
	return err
}

// parseForNetwork is ParseTx and, when the transaction carries a chain id,
// CheckChainID: what ValidateTx accepts, and Intent decodes.
func (c *Chain) parseForNetwork(serialized string, testnet bool, extra ...uint64) (*Tx, error) {
	t, err := c.ParseTx(serialized)
	if err != nil {
		return nil, err
	}
	if err := c.checkNetwork(t, testnet, extra...); err != nil {
		return nil, err
	}
	return t, nil
}

// checkNetwork is CheckChainID of t's chain id when it carries one.
func (c *Chain) checkNetwork(t *Tx, testnet bool, extra ...uint64) error {
	if t.ChainID == nil {
		return nil
	}
	return c.CheckChainID(t.ChainID, testnet, extra...)
}

// Sign implements chain.Signer. It signs exactly the fields given: nonce 0 is
// signed as 0 and EIP-1559 fees stay as they are; a missing field is an error
// wrapping ErrIncompleteTx, never a guess.
func (c *Chain) Sign(ctx context.Context, req chain.SignRequest) (chain.Signed, error) {
	t, err := c.signable(ctx, req)
	if err != nil {
		return chain.Signed{}, err
	}
	if len(req.Keys) != 1 {
		return chain.Signed{}, fmt.Errorf("%w: an EVM transaction has one signer, got %d keys", chain.ErrInvalidKey, len(req.Keys))
	}
	priv, err := ParsePrivateKey(req.Keys[0])
	if err != nil {
		return chain.Signed{}, err
	}
	defer priv.Zero()
	// The public key costs a base-point multiplication: computed only when
	// there is a from to compare it with.
	if t.From != nil {
		if err := c.checkFrom(t, priv.PubKey()); err != nil {
			return chain.Signed{}, err
		}
	}
	return signTx(t, func(hash []byte) ([]byte, error) { return signHash(priv, hash), nil })
}

// signHash is go-ethereum's crypto.Sign without its detour through an
// ecdsa.PrivateKey (whose conversion computes the public key again): the
// same deterministic RFC 6979 signature from the same library, moved from
// [V+27 || R || S] to Ethereum's [R || S || V].
func signHash(priv *btcec.PrivateKey, hash []byte) []byte {
	sig := ecdsa.SignCompact(priv, hash, false)
	v := sig[0] - 27
	copy(sig, sig[1:])
	sig[crypto.RecoveryIDOffset] = v
	return sig
}

// SignExternal implements chain.ExternalSigner: Sign with a key held outside
// the process, which signs the transaction's hash and nothing else.
func (c *Chain) SignExternal(ctx context.Context, req chain.SignRequest, keys []chain.DigestSigner) (chain.Signed, error) {
	t, err := c.signable(ctx, req)
	if err != nil {
		return chain.Signed{}, err
	}
	if len(keys) != 1 {
		return chain.Signed{}, fmt.Errorf("%w: an EVM transaction has one signer, got %d keys", chain.ErrInvalidKey, len(keys))
	}
	pub, err := keys[0].PublicKey(ctx)
	if err != nil {
		return chain.Signed{}, err
	}
	if err := c.checkFrom(t, pub); err != nil {
		return chain.Signed{}, err
	}
	return signTx(t, func(hash []byte) ([]byte, error) {
		r, s, err := keys[0].SignDigest(ctx, hash)
		if err != nil {
			return nil, err
		}
		return chain.RecoverableSignature(pub, hash, r, s)
	})
}

// AddressFromPublicKey implements chain.ExternalSigner.
func (c *Chain) AddressFromPublicKey(pub *btcec.PublicKey, _ bool) string {
	return c.FormatAddress(chain.KeccakAddress(pub))
}

// signable parses req's transaction and checks what signing needs: every
// field present and a chain id of the request's network.
func (c *Chain) signable(ctx context.Context, req chain.SignRequest) (*Tx, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, err := c.requestTx(req)
	if err != nil {
		return nil, err
	}
	if m := t.Missing(); len(m) > 0 {
		return nil, fmt.Errorf("%w: %w: missing %s (complete it from the node when the transaction is created)",
			chain.ErrInvalidTx, ErrIncompleteTx, strings.Join(m, ", "))
	}
	if err := c.CheckChainID(t.ChainID, req.Testnet, req.ExtraChainIDs...); err != nil {
		return nil, err
	}
	return t, nil
}

// checkFrom refuses a transaction whose from is not the address of pub.
func (c *Chain) checkFrom(t *Tx, pub *btcec.PublicKey) error {
	if t.From != nil && *t.From != common.Address(chain.KeccakAddress(pub)) {
		return fmt.Errorf("%w: the transaction's from %s is not the address of the wallet's key",
			chain.ErrWrongSigner, c.FormatAddress(*t.From))
	}
	return nil
}

// signTx signs t with sign, which returns the 65-byte [R || S || V] signature
// of a hash, and encodes the signed transaction.
func signTx(t *Tx, sign func(hash []byte) ([]byte, error)) (chain.Signed, error) {
	if t.Type == TypeCeloFeeCurrency {
		return signCIP64(t, sign)
	}
	tx := types.NewTx(t.txData())
	signer := types.LatestSignerForChainID(t.ChainID)
	sig, err := sign(signer.Hash(tx).Bytes())
	if err != nil {
		return chain.Signed{}, fmt.Errorf("sign: %w", err)
	}
	signed, err := tx.WithSignature(signer, sig)
	if err != nil {
		return chain.Signed{}, fmt.Errorf("sign: %w", err)
	}
	raw, err := signed.MarshalBinary()
	if err != nil {
		return chain.Signed{}, fmt.Errorf("encode signed transaction: %w", err)
	}
	return chain.Signed{TxData: "0x" + hex.EncodeToString(raw), TxID: signed.Hash().Hex()}, nil
}

func (t *Tx) txData() types.TxData {
	switch t.Type {
	case TypeAccessList:
		return &types.AccessListTx{ChainID: t.ChainID, Nonce: *t.Nonce, GasPrice: t.GasPrice, Gas: *t.Gas,
			To: t.To, Value: t.Value, Data: t.Data, AccessList: t.AccessList}
	case TypeDynamicFee:
		return &types.DynamicFeeTx{ChainID: t.ChainID, Nonce: *t.Nonce, GasTipCap: t.GasTipCap, GasFeeCap: t.GasFeeCap,
			Gas: *t.Gas, To: t.To, Value: t.Value, Data: t.Data, AccessList: t.AccessList}
	default:
		return &types.LegacyTx{Nonce: *t.Nonce, GasPrice: t.GasPrice, Gas: *t.Gas, To: t.To, Value: t.Value, Data: t.Data}
	}
}

// cip64 is Celo's fee-currency transaction (type 0x7b): an EIP-1559
// transaction with feeCurrency after the access list. go-ethereum does not
// know the type, so it is encoded and signed here.
type cip64 struct {
	ChainID     *big.Int
	Nonce       uint64
	GasTipCap   *big.Int
	GasFeeCap   *big.Int
	Gas         uint64
	To          *common.Address `rlp:"nil"`
	Value       *big.Int
	Data        []byte
	AccessList  types.AccessList
	FeeCurrency *common.Address `rlp:"nil"`
	// Sig is y-parity, r and s of a signed one, which the signed form
	// appends to the same list; empty in the form that is hashed.
	Sig []*big.Int `rlp:"tail"`
}

// sigHash is the hash a CIP-64 transaction's signature signs: Keccak-256
// of the type byte and the RLP of the fields without the signature.
func (u *cip64) sigHash() ([]byte, error) {
	unsigned := *u
	unsigned.Sig = nil
	body, err := rlp.EncodeToBytes(&unsigned)
	if err != nil {
		return nil, fmt.Errorf("encode CIP-64 transaction: %w", err)
	}
	return crypto.Keccak256(append([]byte{TypeCeloFeeCurrency}, body...)), nil
}

func signCIP64(t *Tx, sign func(hash []byte) ([]byte, error)) (chain.Signed, error) {
	u := cip64{ChainID: t.ChainID, Nonce: *t.Nonce, GasTipCap: t.GasTipCap, GasFeeCap: t.GasFeeCap, Gas: *t.Gas,
		To: t.To, Value: t.Value, Data: t.Data, AccessList: t.AccessList, FeeCurrency: t.FeeCurrency}
	if u.AccessList == nil {
		u.AccessList = types.AccessList{}
	}
	hash, err := u.sigHash()
	if err != nil {
		return chain.Signed{}, err
	}
	sig, err := sign(hash)
	if err != nil {
		return chain.Signed{}, fmt.Errorf("sign: %w", err)
	}
	// The signed form appends y-parity, r and s to the same list.
	list := []any{u.ChainID, u.Nonce, u.GasTipCap, u.GasFeeCap, u.Gas, u.To, u.Value, u.Data, u.AccessList, u.FeeCurrency,
		uint64(sig[64]), new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:64])}
	if u.To == nil {
		list[5] = []byte{}
	}
	raw, err := rlp.EncodeToBytes(list)
	if err != nil {
		return chain.Signed{}, fmt.Errorf("encode CIP-64 transaction: %w", err)
	}
	raw = append([]byte{TypeCeloFeeCurrency}, raw...)
	return chain.Signed{TxData: "0x" + hex.EncodeToString(raw), TxID: common.BytesToHash(crypto.Keccak256(raw)).Hex()}, nil
}
