package evm

import (
	"encoding/hex"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
)

var _ chain.SignedIntender = (*Chain)(nil)

// SignedIntent implements chain.SignedIntender for what Sign produces and
// the chain's nodes take: "0x" hex of a signed EIP-155 legacy, EIP-2930 or
// EIP-1559 transaction, or on CELO a CIP-64 (0x7b) one. The intent is the
// one Intent gives for the same fields (intentOf), with Signers the sender
// recovered from the signature under go-ethereum's signer rules for the
// transaction's chain id (recoverSender), which must be one of the chain's
// for the network (chain.ErrWrongNetwork otherwise). A legacy transaction
// without a chain id (replayable on every chain), another transaction type,
// a signature that recovers no key and anything else that is not one
// transaction wrap chain.ErrInvalidTx.
func (c *Chain) SignedIntent(txData string, testnet bool, extra ...uint64) (intent.Intent, error) {
	t, sender, err := c.decodeSignedHex(txData, testnet, extra...)
	if err != nil {
		return intent.Intent{}, err
	}
	in := c.intentOf(t, testnet)
	in.Signers = []string{c.FormatAddress(sender)}
	return in, nil
}

// decodeSignedHex decodes a signed transaction as the chain's nodes take it
// for the network, and recovers its sender (SignedIntent's errors).
func (c *Chain) decodeSignedHex(txData string, testnet bool, extra ...uint64) (*Tx, common.Address, error) {
	body, ok := strings.CutPrefix(strings.TrimSpace(txData), "0x")
	raw, err := hex.DecodeString(body)
	if !ok || err != nil || len(raw) == 0 {
		return nil, common.Address{}, invalid("signed transaction: want 0x-hex of a signed transaction")
	}
	var (
		t      *Tx
		sender common.Address
	)
	if raw[0] == TypeCeloFeeCurrency && c == CELO {
		t, sender, err = decodeSignedCIP64(raw[1:])
	} else {
		t, sender, err = decodeSigned(raw)
	}
	if err != nil {
		return nil, common.Address{}, err
	}
	for _, q := range []*big.Int{t.GasPrice, t.GasTipCap, t.GasFeeCap, t.Value} {
		if q != nil && q.BitLen() > 256 {
			return nil, common.Address{}, invalid("signed transaction: an amount is larger than 2^256-1")
		}
	}
	if err := c.CheckChainID(t.ChainID, testnet, extra...); err != nil {
		return nil, common.Address{}, err
	}
	return t, sender, nil
}

// decodeSigned decodes a transaction of the types go-ethereum signs here
// (legacy with EIP-155, 0x01, 0x02) and recovers its sender.
func decodeSigned(raw []byte) (*Tx, common.Address, error) {
	if raw[0] < 0xc0 && raw[0] != TypeAccessList && raw[0] != TypeDynamicFee {
		return nil, common.Address{}, invalid("signed transaction type 0x%02x is not supported (legacy, 0x01 EIP-2930 and 0x02 EIP-1559 are)", raw[0])
	}
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(raw); err != nil {
		return nil, common.Address{}, invalid("signed transaction: %v", err)
	}
	if !tx.Protected() {
		return nil, common.Address{}, invalid("signed legacy transaction has no EIP-155 chain id: it could be replayed on any chain")
	}
	id := tx.ChainId()
	if id.Sign() == 0 || !id.IsUint64() {
		return nil, common.Address{}, invalid("signed transaction: chain id %s is not valid", id)
	}
	sender, err := recoverSender(tx, id)
	if err != nil {
		return nil, common.Address{}, invalid("signed transaction: the signature recovers no sender: %v", err)
	}
	nonce, gas := tx.Nonce(), tx.Gas()
	t := &Tx{Type: tx.Type(), ChainID: id, Nonce: &nonce, Gas: &gas, To: tx.To(), Value: tx.Value(),
		Data: tx.Data(), AccessList: tx.AccessList()}
	if t.Type == TypeDynamicFee {
		t.GasTipCap, t.GasFeeCap = tx.GasTipCap(), tx.GasFeeCap()
	} else {
		t.GasPrice = tx.GasPrice()
	}
	return t, sender, nil
}

// decodeSignedCIP64 decodes the RLP after the 0x7b type byte (cip64 with
// its signature) and recovers the sender from the signature over its hash.
func decodeSignedCIP64(body []byte) (*Tx, common.Address, error) {
	var u cip64
	if err := rlp.DecodeBytes(body, &u); err != nil {
		return nil, common.Address{}, invalid("signed CIP-64 transaction: %v", err)
	}
	if len(u.Sig) != 3 {
		return nil, common.Address{}, invalid("signed CIP-64 transaction: want y-parity, r and s after the fields, got %d values", len(u.Sig))
	}
	if u.ChainID.Sign() == 0 || !u.ChainID.IsUint64() {
		return nil, common.Address{}, invalid("signed transaction: chain id %s is not valid", u.ChainID)
	}
	v, r, s := u.Sig[0], u.Sig[1], u.Sig[2]
	if !v.IsUint64() || v.Uint64() > 1 || !crypto.ValidateSignatureValues(byte(v.Uint64()), r, s, true) {
		return nil, common.Address{}, invalid("signed CIP-64 transaction: invalid signature values")
	}
	hash, err := u.sigHash()
	if err != nil {
		return nil, common.Address{}, invalid("%v", err)
	}
	sender, err := recoverChecked(common.BytesToHash(hash), r, s, byte(v.Uint64()))
	if err != nil {
		return nil, common.Address{}, invalid("signed CIP-64 transaction: the signature recovers no sender: %v", err)
	}
	t := &Tx{Type: TypeCeloFeeCurrency, ChainID: u.ChainID, Nonce: &u.Nonce, Gas: &u.Gas, GasTipCap: u.GasTipCap,
		GasFeeCap: u.GasFeeCap, To: u.To, Value: u.Value, Data: u.Data, AccessList: u.AccessList, FeeCurrency: u.FeeCurrency}
	return t, sender, nil
}

// recoverSender is types.LatestSignerForChainID(id).Sender(tx) for what
// decodeSigned lets through (a legacy transaction with an EIP-155 chain id,
// a 0x01 or a 0x02 one; id is tx.ChainId(), not zero): the same V
// arithmetic, the same checks of the signature values, and the recovery
// done by chain.RecoverSecp256k1, about twice as fast as go-ethereum's
// without cgo. The server recovers the sender of every signed transaction it
// takes, so this is a large share of its CPU per transaction.
func recoverSender(tx *types.Transaction, id *big.Int) (common.Address, error) {
	signer := types.LatestSignerForChainID(id)
	V, R, S := tx.RawSignatureValues()
	v := new(big.Int)
	if tx.Type() == types.LegacyTxType {
		// EIP-155: V = chainID·2 + 35 + recovery id, taken to 27 + id.
		v.Sub(V, id).Sub(v, id).Sub(v, big.NewInt(8))
	} else {
		// Typed transactions carry the recovery id itself (0 or 1).
		v.Add(V, big.NewInt(27))
	}
	// go-ethereum's recoverPlain, with its homestead rules.
	if v.BitLen() > 8 {
		return common.Address{}, types.ErrInvalidSig
	}
	recID := byte(v.Uint64() - 27)
	if !crypto.ValidateSignatureValues(recID, R, S, true) {
		return common.Address{}, types.ErrInvalidSig
	}
	return recoverChecked(signer.Hash(tx), R, S, recID)
}

// recoverChecked recovers the address that signed hash with (r, s) and the
// recovery id, once crypto.ValidateSignatureValues has accepted them (so r
// and s fit 32 bytes).
func recoverChecked(hash common.Hash, r, s *big.Int, recID byte) (common.Address, error) {
	var rb, sb [32]byte
	r.FillBytes(rb[:])
	s.FillBytes(sb[:])
	pub, err := chain.RecoverSecp256k1((*[32]byte)(&hash), &rb, &sb, recID)
	if err != nil {
		return common.Address{}, err
	}
	return chain.KeccakAddressXY(&pub), nil
}
