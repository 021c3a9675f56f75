package tron

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"

	"github.com/btcsuite/btcd/btcutil/base58"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/custoskms/custos/internal/chain"
)

var _ chain.Transferer = (*Chain)(nil)

// Decimals is TRX's: one TRX is 1,000,000 sun.
const Decimals = 6

// maxSun is the most a TransferContract's amount holds (a protobuf int64).
var maxSun = big.NewInt(math.MaxInt64)

// transferTypeURL is a TransferContract's google.protobuf.Any type URL, and
// anyTypeURL that field's number (its ContractType and fields are Intent's).
const (
	transferTypeURL = "type.googleapis.com/protocol.TransferContract"
	anyTypeURL      = 1
)

// transferRequest is Tatum's TransferTronBlockchainKMS.
type transferRequest struct {
	From        string  `json:"from"`
	To          string  `json:"to"`
	Amount      string  `json:"amount"`
	SignatureID string  `json:"signatureId"`
	Index       *uint32 `json:"index"`
}

// Transfer implements chain.Transferer for POST /v3/tron/transaction: a
// TransferContract of amount TRX (in sun) from from to to, in TronWeb's
// transaction JSON (raw_data with its contract, raw_data_hex the protobuf
// Transaction.raw). The reference block, expiration, timestamp and txID are
// the server's: CompleteFromNode fills them from the node's now block, as
// for any queued transaction. The node is not asked here.
func (c *Chain) Transfer(_ context.Context, _ any, body []byte, _ bool) (chain.Transfer, error) {
	var req transferRequest
	if err := chain.DecodeRequest(body, &req); err != nil {
		return chain.Transfer{}, err
	}
	var bad chain.FieldErrors
	from, to := addressField(&bad, "from", req.From), addressField(&bad, "to", req.To)
	if from != nil && to != nil && string(from) == string(to) {
		// java-tron refuses it ("Cannot transfer TRX to yourself").
		bad.Add("to", "must not be from")
	}
	amount := bad.Amount("amount", req.Amount, Decimals, true, maxSun)
	bad.Require("signatureId", req.SignatureID)
	if err := bad.Err(); err != nil {
		return chain.Transfer{}, err
	}
	sun := amount.Int64()

	var contract []byte
	contract = protowire.AppendTag(contract, ownerAddress, protowire.BytesType)
	contract = protowire.AppendBytes(contract, from)
	contract = protowire.AppendTag(contract, transferTo, protowire.BytesType)
	contract = protowire.AppendBytes(contract, to)
	contract = protowire.AppendTag(contract, transferAmount, protowire.VarintType)
	contract = protowire.AppendVarint(contract, uint64(sun))
	var param []byte
	param = protowire.AppendTag(param, anyTypeURL, protowire.BytesType)
	param = protowire.AppendString(param, transferTypeURL)
	param = protowire.AppendTag(param, anyValue, protowire.BytesType)
	param = protowire.AppendBytes(param, contract)
	var ct []byte
	ct = protowire.AppendTag(ct, contractType, protowire.VarintType)
	ct = protowire.AppendVarint(ct, typeTransfer)
	ct = protowire.AppendTag(ct, contractParameter, protowire.BytesType)
	ct = protowire.AppendBytes(ct, param)
	var raw []byte
	raw = protowire.AppendTag(raw, rawContractField, protowire.BytesType)
	raw = protowire.AppendBytes(raw, ct)

	type value struct {
		Amount int64  `json:"amount"`
		Owner  string `json:"owner_address"`
		To     string `json:"to_address"`
	}
	type parameter struct {
		Value   value  `json:"value"`
		TypeURL string `json:"type_url"`
	}
	type contractJSON struct {
		Parameter parameter `json:"parameter"`
		Type      string    `json:"type"`
	}
	tx := struct {
		Visible bool `json:"visible"`
		RawData struct {
			Contract []contractJSON `json:"contract"`
		} `json:"raw_data"`
		RawDataHex string `json:"raw_data_hex"`
	}{RawDataHex: hex.EncodeToString(raw)}
	tx.RawData.Contract = []contractJSON{{Type: "TransferContract", Parameter: parameter{TypeURL: transferTypeURL,
		Value: value{Amount: sun, Owner: hex.EncodeToString(from), To: hex.EncodeToString(to)}}}}
	b, err := json.Marshal(tx)
	if err != nil {
		return chain.Transfer{}, fmt.Errorf("encode TRON transfer: %w", err)
	}
	return chain.Transfer{Serialized: string(b), Hashes: []string{req.SignatureID}, Index: req.Index}, nil
}

// addressField reads a required base58check T… address field as its 21 bytes
// (0x41 ‖ account).
func addressField(bad *chain.FieldErrors, field, v string) []byte {
	if !bad.Require(field, v) {
		return nil
	}
	b, version, err := base58.CheckDecode(v)
	if err != nil || version != addressPrefix || len(b) != 20 {
		bad.Add(field, "must be a TRON address (T…, base58)")
		return nil
	}
	return append([]byte{addressPrefix}, b...)
}
