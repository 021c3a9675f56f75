package api

import (
	"math/big"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain/evm"
)

// A gas price filled from the node is held to the configured ceiling: just
// above the node's figure the transaction is queued with it, just below it
// the request is refused with 400 and nothing is queued. A gas price the
// application gives itself is not the node's and is not capped here.
func TestCreateCapsTheNodesGasPrice(t *testing.T) {
	e, _, node := fillEnv(t)
	price, err := node.SuggestGasPrice(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	legacy := `{"to":"` + fillRecipient + `","value":"1","from":"` + fillFrom + `","gas":21000}`

	// The dev chain's suggestion does not move without blocks: a ceiling of
	// exactly the price admits it.
	e.srv.maxGasPrice = map[string]*big.Int{"ETH": price}
	tx, err := evm.ETH.ParseTx(e.stored(e.keyTest, e.queue(e.keyTest, legacy)))
	if err != nil || tx.GasPrice.Cmp(price) != 0 {
		t.Fatalf("at the ceiling: %v, gas price %v, want %s", err, tx.GasPrice, price)
	}

	e.srv.maxGasPrice = map[string]*big.Int{"ETH": new(big.Int).Sub(price, big.NewInt(1))}
	r := e.queue(e.keyTest, legacy)
	var body Error
	r.want(t, 400, &body)
	if body.ErrorCode != CodeValidation || len(body.Data) != 1 || !strings.Contains(body.Data[0], "above the server's ceiling") {
		t.Fatalf("above the ceiling: %+v", body)
	}
	given := `{"to":"` + fillRecipient + `","value":"1","from":"` + fillFrom + `","gas":21000,"gasPrice":"` +
		new(big.Int).Mul(price, big.NewInt(10)).String() + `"}`
	e.queue(e.keyTest, given).want(t, 200, nil)
}
