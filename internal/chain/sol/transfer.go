package sol

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"

	"github.com/btcsuite/btcd/btcutil/base58"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Transferer = (*Chain)(nil)

// Decimals is SOL's: one SOL is 1,000,000,000 lamports.
const Decimals = 9

// maxLamports is the most a system transfer's amount holds (a u64).
var maxLamports = new(big.Int).SetUint64(math.MaxUint64)

// transferRequest is Tatum's TransferSolanaBlockchainKMS.
type transferRequest struct {
	From                string `json:"from"`
	To                  string `json:"to"`
	Amount              string `json:"amount"`
	SignatureID         string `json:"signatureId"`
	FeePayer            string `json:"feePayer"`
	FeePayerSignatureID string `json:"feePayerSignatureId"`
}

// Transfer implements chain.Transferer for POST /v3/solana/transaction: a
// legacy message with one system Transfer of amount SOL (in lamports) from
// from to to, fee paid by feePayer (from when absent), in Tatum's KMS form
// {"txData": hex of the message}. Its recent blockhash is left all zeros for
// CompleteFromNode to fill from the node, as for any queued transaction; the
// node is not asked here.
//
// Tatum's feePayerSignatureId defaults to signatureId, but a signature ID
// holds one Solana key: a fee payer other than from needs its own, and is a
// 400 without one rather than a transaction no one can sign.
func (c *Chain) Transfer(_ context.Context, _ any, body []byte, _ bool) (chain.Transfer, error) {
	var req transferRequest
	if err := chain.DecodeRequest(body, &req); err != nil {
		return chain.Transfer{}, err
	}
	var bad chain.FieldErrors
	from, to := pubkey(&bad, "from", req.From, true), pubkey(&bad, "to", req.To, true)
	if to != nil && bytes.Equal(to, systemProgram) {
		// The program an instruction calls cannot be the account it credits.
		bad.Add("to", "must not be the system program")
	}
	lamports := bad.Amount("amount", req.Amount, Decimals, false, maxLamports)
	bad.Require("signatureId", req.SignatureID)
	payer := from
	if req.FeePayer != "" {
		payer = pubkey(&bad, "feePayer", req.FeePayer, false)
	}
	hashes := []string{req.SignatureID}
	switch separate := from != nil && payer != nil && !bytes.Equal(from, payer); {
	case separate && req.FeePayerSignatureID == "":
		bad.Add("feePayerSignatureId", "is required when feePayer is not from")
	case separate:
		hashes = []string{req.FeePayerSignatureID, req.SignatureID}
	case req.FeePayerSignatureID != "" && req.FeePayerSignatureID != req.SignatureID:
		bad.Add("feePayerSignatureId", "must be signatureId or left out when from pays the fee")
	}
	if err := bad.Err(); err != nil {
		return chain.Transfer{}, err
	}
	msg := transferMessage(payer, from, to, lamports.Uint64())
	b, err := json.Marshal(map[string]string{"txData": hex.EncodeToString(msg)})
	if err != nil {
		return chain.Transfer{}, fmt.Errorf("encode SOL transfer: %w", err)
	}
	return chain.Transfer{Serialized: string(b), Hashes: hashes}, nil
}

// pubkey reads a base58 public key field (required when need is set).
func pubkey(bad *chain.FieldErrors, field, v string, need bool) []byte {
	if need && !bad.Require(field, v) {
		return nil
	}
	b := base58.Decode(v)
	if len(b) != 32 {
		bad.Add(field, "must be a Solana address (base58 of 32 bytes)")
		return nil
	}
	return b
}

// transferMessage compiles the legacy message of one system Transfer:
// accounts in Solana's order (the fee payer first, then the other writable
// signer, the writable recipient, the read-only program), each once, and an
// all-zero recent blockhash.
func transferMessage(payer, from, to []byte, lamports uint64) []byte {
	keys := [][]byte{payer}
	index := func(k []byte) byte {
		for i, have := range keys {
			if bytes.Equal(have, k) {
				return byte(i)
			}
		}
		keys = append(keys, k)
		return byte(len(keys) - 1)
	}
	fromIdx := index(from)
	signers := len(keys)
	toIdx := index(to)
	program := index(systemProgram)

	msg := []byte{byte(signers), 0, 1} // header: signers, read-only signers, read-only others (the program)
	msg = appendCompact(msg, len(keys))
	for _, k := range keys {
		msg = append(msg, k...)
	}
	msg = append(msg, make([]byte, 32)...) // recent blockhash, the server's to fill
	data := binary.LittleEndian.AppendUint32(nil, systemTransfer)
	data = binary.LittleEndian.AppendUint64(data, lamports)
	msg = appendCompact(msg, 1)
	msg = append(msg, program)
	msg = appendCompact(msg, 2)
	msg = append(msg, fromIdx, toIdx)
	msg = appendCompact(msg, len(data))
	return append(msg, data...)
}
