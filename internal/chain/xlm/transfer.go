package xlm

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"math"
	"math/big"

	"github.com/stellar/go-stellar-sdk/xdr"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Transferer = (*Chain)(nil)

// Decimals is XLM's: one lumen is 10,000,000 stroops.
const Decimals = 7

// maxStroops is the most an operation's amount holds (an XDR int64).
var maxStroops = big.NewInt(math.MaxInt64)

// Memo limits: a text memo holds 28 bytes, a hash memo 32 (Tatum's message
// of more than 28 characters is one, written as 64 hex digits).
const (
	maxMemoText = 28
	maxMessage  = 64
)

// transferRequest is Tatum's TransferXlmBlockchainKMS.
type transferRequest struct {
	FromAccount string `json:"fromAccount"`
	To          string `json:"to"`
	Amount      string `json:"amount"`
	Initialize  bool   `json:"initialize"`
	Message     string `json:"message"`
	SignatureID string `json:"signatureId"`
}

// Transfer implements chain.Transferer for POST /v3/xlm/transaction, as
// Tatum builds it: one operation from fromAccount, a native payment of
// amount lumens to to, or with initialize a CREATE_ACCOUNT funding to with
// amount as its starting balance (a payment to an account the ledger does
// not hold fails); message as a text memo, or as a hash memo when longer
// than a text memo holds. The envelope's seqNum (the sequence allocator),
// fee and time bounds (CompleteFromNode) are the server's, left 0 and
// unset here; the node is not asked.
func (c *Chain) Transfer(_ context.Context, _ any, body []byte, _ bool) (chain.Transfer, error) {
	var req transferRequest
	if err := chain.DecodeRequest(body, &req); err != nil {
		return chain.Transfer{}, err
	}
	var bad chain.FieldErrors
	from, to := account(&bad, "fromAccount", req.FromAccount), account(&bad, "to", req.To)
	if from != nil && to != nil && from.Equal(to) {
		// The ledger refuses both (CREATE_ACCOUNT_ALREADY_EXIST, and a
		// payment to itself moves nothing but the fee).
		bad.Add("to", "must not be fromAccount")
	}
	amount := bad.Amount("amount", req.Amount, Decimals, true, maxStroops)
	memo := memoOf(&bad, req.Message)
	bad.Require("signatureId", req.SignatureID)
	if err := bad.Err(); err != nil {
		return chain.Transfer{}, err
	}
	op := xdr.OperationBody{Type: xdr.OperationTypePayment, PaymentOp: &xdr.PaymentOp{
		Destination: muxed(to), Asset: xdr.Asset{Type: xdr.AssetTypeAssetTypeNative}, Amount: xdr.Int64(amount.Int64()),
	}}
	if req.Initialize {
		var dest xdr.Uint256
		copy(dest[:], to)
		op = xdr.OperationBody{Type: xdr.OperationTypeCreateAccount, CreateAccountOp: &xdr.CreateAccountOp{
			Destination:     xdr.AccountId{Type: xdr.PublicKeyTypePublicKeyTypeEd25519, Ed25519: &dest},
			StartingBalance: xdr.Int64(amount.Int64()),
		}}
	}
	env, err := unsignedEnvelope(from, 0, memo, op)
	if err != nil {
		return chain.Transfer{}, err
	}
	return chain.Transfer{Serialized: env, Hashes: []string{req.SignatureID}}, nil
}

// account reads a required G… address field.
func account(bad *chain.FieldErrors, field, v string) ed25519.PublicKey {
	if !bad.Require(field, v) {
		return nil
	}
	pub, err := DecodeAddress(v)
	if err != nil {
		bad.Add(field, "must be a Stellar account address (G…)")
		return nil
	}
	return pub
}

// memoOf is Tatum's memo of message: none when empty, text up to 28
// characters, above that a hash given as 64 hex digits. Tatum takes printable
// ASCII only, at most 64 characters.
func memoOf(bad *chain.FieldErrors, message string) xdr.Memo {
	for i := 0; i < len(message); i++ {
		if message[i] < ' ' || message[i] > '~' {
			bad.Add("message", "must be printable ASCII")
			return xdr.Memo{}
		}
	}
	switch {
	case message == "":
		return xdr.Memo{Type: xdr.MemoTypeMemoNone}
	case len(message) <= maxMemoText:
		return xdr.Memo{Type: xdr.MemoTypeMemoText, Text: &message}
	}
	h, err := hex.DecodeString(message)
	if len(message) > maxMessage || err != nil || len(h) != len(xdr.Hash{}) {
		bad.Add("message", "longer than %d characters must be a hash memo of %d hex digits", maxMemoText, maxMessage)
		return xdr.Memo{}
	}
	hash := xdr.Hash(h)
	return xdr.Memo{Type: xdr.MemoTypeMemoHash, Hash: &hash}
}
