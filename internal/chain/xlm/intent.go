package xlm

import (
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/stellar/go-stellar-sdk/xdr"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Intender = (*Chain)(nil)

// Intent implements chain.Intender on the envelope Sign signs (same parse,
// same refusal of an incomplete one):
//   - Signers: the account that signs here (the source account, or a fee
//     bump's fee source), then the transaction's source when it differs, then
//     each operation's own source account, each once, as G… addresses (a
//     muxed M… account is shown as its G… account, which holds the funds).
//   - Transfers: payment and create_account operations in stroops, a
//     path payment's destination amount (strict receive) or minimum (strict
//     send); Asset "" for lumens, "CODE:issuer" otherwise.
//   - Calls: every other operation, by its XDR name ("ManageSellOffer",
//     "AccountMerge", "InvokeHostFunction" …) with its destination account as
//     Contract where it has one, so that a policy that allows only known
//     calls refuses them.
//   - Fee.Max: the fee the envelope states, which is already the total for
//     all its operations (the base fee × operations); a fee bump's outer fee.
//   - Sequence: the sequence number. Memo: text as text, id in decimal, a
//     hash in hex.
//
// The network is not in the XDR (it is hashed into what is signed by the
// wallet's network), so the intent names the wallet's.
func (c *Chain) Intent(serialized string, testnet bool, _ ...uint64) (intent.Intent, error) {
	env, err := parseEnvelope(serialized)
	if err != nil {
		return intent.Intent{}, err
	}
	if err := incomplete(env); err != nil {
		return intent.Intent{}, err
	}
	return c.intentOf(env, testnet), nil
}

// intentOf is the intent of a parsed, complete envelope, signed or not.
func (c *Chain) intentOf(env xdr.TransactionEnvelope, testnet bool) intent.Intent {
	in := intent.Intent{Chain: c.info.Code, Network: chain.NetworkName(testnet), Transfers: []intent.Transfer{}}
	addSigner := func(m xdr.MuxedAccount) {
		a := accountOf(m)
		for _, s := range in.Signers {
			if s == a {
				return
			}
		}
		in.Signers = append(in.Signers, a)
	}
	addSigner(env.FeeAccount())
	addSigner(env.SourceAccount())
	fee := uint64(env.Fee())
	if env.IsFeeBump() {
		fee = uint64(env.FeeBumpFee())
	}
	in.Fee = &intent.Fee{Max: strconv.FormatUint(fee, 10)}
	seq := uint64(env.SeqNum())
	in.Sequence = &seq
	in.Memo = memoText(env.Memo())
	for _, op := range env.Operations() {
		if op.SourceAccount != nil {
			addSigner(*op.SourceAccount)
		}
		if t, ok := opTransfer(op.Body); ok {
			in.Transfers = append(in.Transfers, t)
			continue
		}
		call := intent.Call{Method: strings.TrimPrefix(xdr.OperationTypeToStringMap[int32(op.Body.Type)], "OperationType")}
		if d, ok := op.Body.GetDestination(); ok {
			call.Contract = accountOf(d)
		}
		in.Calls = append(in.Calls, call)
	}
	return in
}

func accountOf(m xdr.MuxedAccount) string {
	id := m.ToAccountId()
	return Address(id.Ed25519[:])
}

func opTransfer(b xdr.OperationBody) (intent.Transfer, bool) {
	amount := func(n xdr.Int64) string { return strconv.FormatInt(int64(n), 10) }
	switch b.Type {
	case xdr.OperationTypeCreateAccount:
		op := b.MustCreateAccountOp()
		return intent.Transfer{To: Address(op.Destination.Ed25519[:]), Amount: amount(op.StartingBalance)}, true
	case xdr.OperationTypePayment:
		op := b.MustPaymentOp()
		return intent.Transfer{To: accountOf(op.Destination), Amount: amount(op.Amount), Asset: assetName(op.Asset)}, true
	case xdr.OperationTypePathPaymentStrictReceive:
		op := b.MustPathPaymentStrictReceiveOp()
		return intent.Transfer{To: accountOf(op.Destination), Amount: amount(op.DestAmount), Asset: assetName(op.DestAsset)}, true
	case xdr.OperationTypePathPaymentStrictSend:
		op := b.MustPathPaymentStrictSendOp()
		return intent.Transfer{To: accountOf(op.Destination), Amount: amount(op.DestMin), Asset: assetName(op.DestAsset)}, true
	}
	return intent.Transfer{}, false
}

// assetName is "" for lumens and CODE:issuer for an issued asset.
func assetName(a xdr.Asset) string {
	if a.Type == xdr.AssetTypeAssetTypeNative {
		return ""
	}
	var typ, code, issuer string
	if err := a.Extract(&typ, &code, &issuer); err != nil {
		return "?"
	}
	return code + ":" + issuer
}

func memoText(m xdr.Memo) string {
	switch m.Type {
	case xdr.MemoTypeMemoText:
		return chain.MemoText([]byte(m.MustText()))
	case xdr.MemoTypeMemoId:
		return strconv.FormatUint(uint64(m.MustId()), 10)
	case xdr.MemoTypeMemoHash:
		h := m.MustHash()
		return hex.EncodeToString(h[:])
	case xdr.MemoTypeMemoReturn:
		h := m.MustRetHash()
		return hex.EncodeToString(h[:])
	}
	return ""
}
