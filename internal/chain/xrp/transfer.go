package xrp

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Transferer = (*Chain)(nil)

// Decimals is XRP's: one XRP is 1,000,000 drops.
const Decimals = 6

// maxDrops is the most an XRP amount can hold: the 100 billion XRP that
// exist; a ledger refuses more (temBAD_AMOUNT).
var maxDrops = big.NewInt(100_000_000_000 * 1_000_000)

// transferRequest is Tatum's TransferXrpBlockchainKMS.
type transferRequest struct {
	FromAccount    string  `json:"fromAccount"`
	To             string  `json:"to"`
	Amount         string  `json:"amount"`
	Fee            *string `json:"fee"`
	SourceTag      *uint32 `json:"sourceTag"`
	DestinationTag *uint32 `json:"destinationTag"`
	SignatureID    string  `json:"signatureId"`
}

// paymentTx is the XRPL transaction JSON of an XRP Payment, in the fields'
// canonical order. Sequence, and Fee when the request leaves it out, are the
// server's: the sequence allocator and CompleteFromNode (with
// LastLedgerSequence) fill them as for any queued transaction.
type paymentTx struct {
	TransactionType string  `json:"TransactionType"`
	Account         string  `json:"Account"`
	Destination     string  `json:"Destination"`
	Amount          string  `json:"Amount"`
	Fee             string  `json:"Fee,omitempty"`
	SourceTag       *uint32 `json:"SourceTag,omitempty"`
	DestinationTag  *uint32 `json:"DestinationTag,omitempty"`
}

// Transfer implements chain.Transferer for POST /v3/xrp/transaction: a
// Payment of amount XRP (in drops) from fromAccount to to, with the tags
// given, Fee from fee (XRP) when given. The node is not asked here.
func (c *Chain) Transfer(_ context.Context, _ any, body []byte, _ bool) (chain.Transfer, error) {
	var req transferRequest
	if err := chain.DecodeRequest(body, &req); err != nil {
		return chain.Transfer{}, err
	}
	var bad chain.FieldErrors
	for _, f := range []struct{ name, v string }{{"fromAccount", req.FromAccount}, {"to", req.To}} {
		if bad.Require(f.name, f.v) {
			if _, err := DecodeAddress(f.v); err != nil {
				bad.Add(f.name, "must be a classic XRP address (r…)")
			}
		}
	}
	if req.FromAccount != "" && req.FromAccount == req.To {
		// A Payment to its own account is refused by the ledger (temREDUNDANT).
		bad.Add("to", "must not be fromAccount")
	}
	amount := bad.Amount("amount", req.Amount, Decimals, true, maxDrops)
	tx := paymentTx{TransactionType: "Payment", Account: req.FromAccount, Destination: req.To,
		SourceTag: req.SourceTag, DestinationTag: req.DestinationTag}
	if req.Fee != nil {
		if fee := bad.Amount("fee", *req.Fee, Decimals, true, maxDrops); fee != nil {
			tx.Fee = fee.String()
		}
	}
	bad.Require("signatureId", req.SignatureID)
	if err := bad.Err(); err != nil {
		return chain.Transfer{}, err
	}
	tx.Amount = amount.String()
	b, err := json.Marshal(tx)
	if err != nil {
		return chain.Transfer{}, fmt.Errorf("encode XRP payment: %w", err)
	}
	return chain.Transfer{Serialized: string(b), Hashes: []string{req.SignatureID}}, nil
}
