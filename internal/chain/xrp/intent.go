package xrp

import (
	"encoding/hex"
	"encoding/json"
	"strings"

	binarycodec "github.com/Peersyst/xrpl-go/binary-codec"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Intender = (*Chain)(nil)

// Intent implements chain.Intender. It reads the transaction Sign would sign
// (the same parse, then the same binary encoding, so that a transaction the
// codec refuses is refused here too):
//   - Signers: Account.
//   - Transfers: Destination with Amount for a Payment, EscrowCreate or
//     PaymentChannelCreate, with SendMax for a CheckCreate (what the check can
//     cash at most). Drops for XRP; an issued currency is Asset "CODE:issuer"
//     with its value string as given (XRPL values are decimals, not integers
//     of a smallest unit), an MPT is its issuance id.
//   - Fee.Max: Fee in drops. Sequence: Sequence.
//   - Memo: DestinationTag in decimal, then each memo's MemoData, as text
//     when printable, one per line.
//
// The network is not in an XRPL transaction: the intent names the wallet's.
func (c *Chain) Intent(serialized string, testnet bool, _ ...uint64) (intent.Intent, error) {
	tx, err := c.parse(serialized, testnet)
	if err != nil {
		return intent.Intent{}, err
	}
	typed, err := typedObject(tx)
	if err != nil {
		return intent.Intent{}, err
	}
	signing, err := encode(binarycodec.EncodeForSigning, typed)
	if err != nil {
		return intent.Intent{}, err
	}
	if err := readsBack(signing[len(prefixSign):]); err != nil {
		return intent.Intent{}, err
	}

	acct, _ := tx["Account"].(string)
	in := intent.Intent{Chain: c.info.Code, Network: chain.NetworkName(testnet), Signers: []string{acct}, Transfers: []intent.Transfer{}}
	amountField := "Amount"
	switch tx["TransactionType"] {
	case "Payment", "EscrowCreate", "PaymentChannelCreate":
	case "CheckCreate":
		amountField = "SendMax"
	default:
		amountField = ""
	}
	if dest, ok := tx["Destination"].(string); ok && amountField != "" {
		if tr, ok := transfer(dest, tx[amountField]); ok {
			in.Transfers = append(in.Transfers, tr)
		}
	}
	if fee, ok := tx["Fee"].(string); ok {
		in.Fee = &intent.Fee{Max: fee}
	}
	if n, ok := tx["Sequence"].(json.Number); ok {
		if seq, err := parseUint(n.String(), 1<<32-1); err == nil {
			in.Sequence = &seq
		}
	}
	in.Memo = memo(tx)
	return in, nil
}

// transfer reads an XRPL amount: a string of drops or an issued amount object.
func transfer(to string, amount any) (intent.Transfer, bool) {
	switch a := amount.(type) {
	case string:
		return intent.Transfer{To: to, Amount: a}, true
	case map[string]any:
		v, _ := a["value"].(string)
		if id, ok := a["mpt_issuance_id"].(string); ok {
			return intent.Transfer{To: to, Amount: v, Asset: id}, true
		}
		cur, _ := a["currency"].(string)
		iss, _ := a["issuer"].(string)
		return intent.Transfer{To: to, Amount: v, Asset: cur + ":" + iss}, true
	}
	return intent.Transfer{}, false
}

func memo(tx map[string]any) string {
	var parts []string
	if n, ok := tx["DestinationTag"].(json.Number); ok {
		parts = append(parts, n.String())
	}
	memos, _ := tx["Memos"].([]any)
	for _, m := range memos {
		wrap, _ := m.(map[string]any)
		inner, _ := wrap["Memo"].(map[string]any)
		if d, ok := inner["MemoData"].(string); ok {
			if b, err := hex.DecodeString(d); err == nil {
				parts = append(parts, chain.MemoText(b))
			}
		}
	}
	return strings.Join(parts, "\n")
}
