package e2e

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"math/big"
	"net/http"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// transfer posts Tatum's KMS-mode body to POST /v3/ethereum/transaction for
// w (its signatureId, index and address as `from`) and returns the pending id.
func (s *stack) transfer(w managed, body map[string]any) string {
	s.t.Helper()
	body["signatureId"] = w.sigID
	body["from"] = w.addr.Hex()
	if w.index != nil {
		body["index"] = *w.index
	}
	var out struct{ SignatureID string }
	if code := s.apiDo(http.MethodPost, "/v3/ethereum/transaction", body, &out); code != http.StatusOK || len(out.SignatureID) != 24 {
		s.t.Fatalf("POST /v3/ethereum/transaction: %d %+v", code, out)
	}
	return out.SignatureID
}

// paid is what a mined transaction cost its sender in fees.
func (s *stack) paid(id string) (*big.Int, *types.Transaction) {
	s.t.Helper()
	ctx := context.Background()
	r := s.receipt(ctx, common.HexToHash(s.get(id).TxID))
	if r.Status != types.ReceiptStatusSuccessful {
		s.t.Fatalf("%s: receipt status %d", id, r.Status)
	}
	tx, _, err := s.node.TransactionByHash(ctx, r.TxHash)
	if err != nil {
		s.t.Fatal(err)
	}
	return new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice), tx
}

func TestTransferEndpointDevChain(t *testing.T) {
	funder := newFunder(t)
	c := startDevChain(t, crypto.PubkeyToAddress(funder.PublicKey))
	runTransferEndpoint(t, newStack(t, c.URL()), funder)
}

// runTransferEndpoint: Tatum's transfer bodies through the API, signed by
// the daemon, mined on the node whose funds funder holds: an ETH transfer (gas price from the node), one with Tatum's
// fee (gasPrice in Gwei), an ERC-20 transfer by contractAddress + digits
// from a mnemonic wallet, the estimate an app asks first, then 50 transfers
// in a row from one address. Balances move by exactly the amounts (and
// fees), nonces are allocated 0..49.
func runTransferEndpoint(t *testing.T, s *stack, funder *ecdsa.PrivateKey) {
	pkw, mnw, row := s.addPrivateKeyWallet(), s.addMnemonicWallet(3), s.addPrivateKeyWallet()
	for _, w := range []managed{pkw, mnw, row} {
		s.sendDirect(funder, &w.addr, ether(10), nil, 21000)
	}
	token := s.deployToken(funder, new(big.Int).Mul(big.NewInt(1_000), ether(1)))
	s.sendDirect(funder, &token, new(big.Int), transferCall(mnw.addr, ether(100)), 300_000)
	payee, tokenPayee := randomAddress(t), randomAddress(t)

	var est struct {
		GasLimit uint64      `json:"gasLimit"`
		GasPrice json.Number `json:"gasPrice"`
	}
	if code := s.apiDo(http.MethodPost, "/v3/blockchain/estimate", map[string]any{"chain": "ETH", "type": "TRANSFER_ERC20",
		"sender": mnw.addr.Hex(), "recipient": tokenPayee.Hex(), "contractAddress": token.Hex(), "amount": "1.5"}, &est); code != http.StatusOK {
		t.Fatalf("estimate: %d", code)
	}
	if est.GasLimit <= 21_000 || est.GasLimit > 300_000 || est.GasPrice == "" {
		t.Fatalf("estimate %+v", est)
	}

	before := map[string]*big.Int{"pkw": s.balance(pkw.addr), "mnw": s.balance(mnw.addr)}
	native := s.transfer(pkw, map[string]any{"to": payee.Hex(), "amount": "0.123456789012345678", "currency": "ETH"})
	withFee := s.transfer(pkw, map[string]any{"to": payee.Hex(), "amount": "1", "currency": "ETH", "fee": map[string]any{"gasLimit": "21000", "gasPrice": "21.5"}})
	erc20 := s.transfer(mnw, map[string]any{"to": tokenPayee.Hex(), "amount": "1.5", "contractAddress": token.Hex(), "digits": 18})
	s.drain(pkw, 2, nil)
	s.drain(mnw, 1, nil)

	fee1, tx1 := s.paid(native)
	fee2, tx2 := s.paid(withFee)
	fee3, tx3 := s.paid(erc20)
	if tx2.GasPrice().Cmp(big.NewInt(21_500_000_000)) != 0 || tx2.Gas() != 21000 || tx1.Nonce() != 0 || tx2.Nonce() != 1 || tx3.Nonce() != 0 {
		t.Fatalf("gas price %s gas %d, nonces %d %d %d", tx2.GasPrice(), tx2.Gas(), tx1.Nonce(), tx2.Nonce(), tx3.Nonce())
	}
	sent, _ := new(big.Int).SetString("1123456789012345678", 10)
	if got := s.balance(payee); got.Cmp(sent) != 0 {
		t.Fatalf("payee holds %s wei, want %s", got, sent)
	}
	want := new(big.Int).Sub(before["pkw"], new(big.Int).Add(sent, new(big.Int).Add(fee1, fee2)))
	if got := s.balance(pkw.addr); got.Cmp(want) != 0 {
		t.Fatalf("sender holds %s wei, want %s", got, want)
	}
	if got, want := s.balance(mnw.addr), new(big.Int).Sub(before["mnw"], fee3); got.Cmp(want) != 0 {
		t.Fatalf("token sender holds %s wei, want %s", got, want)
	}
	oneAndHalf := new(big.Int).Div(new(big.Int).Mul(ether(3), big.NewInt(1)), big.NewInt(2))
	if got := s.tokenBalance(token, tokenPayee); got.Cmp(oneAndHalf) != 0 {
		t.Fatalf("token payee holds %s, want %s", got, oneAndHalf)
	}
	if got, want := s.tokenBalance(token, mnw.addr), new(big.Int).Sub(ether(100), oneAndHalf); got.Cmp(want) != 0 {
		t.Fatalf("token sender holds %s, want %s", got, want)
	}

	// 50 in a row from one address, no nonce given: the server allocates
	// 0..49 for `from`.
	const n = 50
	payee50 := randomAddress(t)
	ids := make([]string, 0, n)
	for range n {
		ids = append(ids, s.transfer(row, map[string]any{"to": payee50.Hex(), "amount": "0.000000001", "currency": "ETH"}))
	}
	s.drain(row, n, nil)
	s.minedNonces(row, ids)
	if got := s.balance(payee50); got.Cmp(big.NewInt(n*1_000_000_000)) != 0 {
		t.Fatalf("payee of the 50 holds %s wei, want %d", got, n*1_000_000_000)
	}
}
