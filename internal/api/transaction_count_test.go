package api

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/evm"
	"github.com/custoskms/custos/internal/devchain"
	"github.com/custoskms/custos/internal/pending"
)

// The count route answers the nonce the allocator gives next: the node's
// pending count while nothing is queued, past it while queued transactions
// hold higher nonces; reading it reserves nothing.
func TestTransactionCountIsTheAllocators(t *testing.T) {
	e, dc, node := fillEnv(t)
	ctx := t.Context()
	count := func(address string) uint64 {
		t.Helper()
		r := e.do("GET", "/v3/ethereum/transaction/count/"+address, e.keyTest, nil)
		r.want(t, 200, nil)
		n, err := strconv.ParseUint(strings.TrimSpace(string(r.body)), 10, 64)
		if err != nil {
			t.Fatalf("answer %q is not a bare JSON number", r.body)
		}
		return n
	}
	nonceOf := func(r resp) string {
		t.Helper()
		ser := e.stored(e.keyTest, r)
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(ser), &m); err != nil {
			t.Fatal(err)
		}
		return string(m["nonce"])
	}
	if n := count(fillFrom); n != 0 {
		t.Fatalf("fresh sender: %d", n)
	}
	// One transfer mined behind the server's back: the node's count leads.
	s, err := evm.ETH.Sign(ctx, chain.SignRequest{Testnet: true, Keys: []string{fillKey}, ExtraChainIDs: []uint64{devchain.ChainID},
		Serialized: `{"to":"` + fillRecipient + `","value":"1","nonce":0,"gas":21000,"gasPrice":"20000000000","chainId":1337}`})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := node.Broadcast(ctx, s.TxData); err != nil {
		t.Fatal(err)
	}
	if _, err := devchain.WaitReceipt(ctx, dc.Client(), common.HexToHash(s.TxID)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if n := count("0x" + strings.ToUpper(fillFrom[2:])); n != 1 {
			t.Fatalf("after one mined (read twice, any letter case): %d", n)
		}
	}
	// Queued ones lead once they are past the node: each allocation gets
	// what the count said just before it.
	for want := uint64(1); want <= 3; want++ {
		if n := count(fillFrom); n != want {
			t.Fatalf("count %d, want %d", n, want)
		}
		got := nonceOf(e.queue(e.keyTest, `{"to":"`+fillRecipient+`","value":"1","from":"`+fillFrom+`"}`))
		if got != strconv.Quote("0x"+strconv.FormatUint(want, 16)) {
			t.Fatalf("allocated nonce %s after the count said %d", got, want)
		}
	}
	if n := count(fillFrom); n != 4 {
		t.Fatalf("after three queued: %d", n)
	}
	// A fresh sender's filled nonce is "0x0" (Tatum's SDK reads a number 0
	// as missing), and so is an application's own nonce 0.
	if got := nonceOf(e.queue(e.keyTest, `{"to":"`+fillFrom+`","value":"0","gas":21000,"gasPrice":"1","from":"`+fillRecipient+`"}`)); got != `"0x0"` {
		t.Fatalf("fresh sender's filled nonce %s", got)
	}
	ser := e.stored(e.keyTest, e.queue(e.keyTest, `{"to":"`+fillFrom+`","value":"0","nonce":0,"gas":21000,"gasPrice":"1"}`))
	if !strings.Contains(ser, `"nonce":"0x0"`) {
		t.Fatalf("a given nonce 0 was stored as %s", ser)
	}
	if n := count(fillRecipient); n != 1 {
		t.Fatalf("second sender: %d", n)
	}
	if next, err := e.store.NextSequence(ctx, pending.SeqKey{Chain: "ETH", Testnet: true, Sender: fillFrom}); err != nil || next != 4 {
		t.Fatalf("store's next %d, %v", next, err)
	}
}

func TestTransactionCountRefuses(t *testing.T) {
	e := newEnv(t)
	down, err := broadcast.DialEVM("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	e.nodes.Set("BSC", false, down)
	for path, want := range map[string]string{
		"/v3/bitcoin/transaction/count/" + fillFrom:                                "slug: must be one of ethereum, bsc, polygon, celo, one, xdc, klaytn",
		"/v3/ethereum/transaction/count/0x1234":                                    "address: must be an address of ETH",
		"/v3/ethereum/transaction/count/" + strings.Replace(fillFrom, "b", "g", 1): "address",
	} {
		er := e.do("GET", path, e.keyA, nil).wantError(t, 400, CodeValidation)
		if !strings.Contains(strings.Join(er.Data, "\n"), want) {
			t.Errorf("%s: data %q, want %q", path, er.Data, want)
		}
	}
	// The key's network picks the node: no ETH mainnet node is configured.
	e.do("GET", "/v3/ethereum/transaction/count/"+fillFrom, e.keyA, nil).wantError(t, 403, CodeNoNode)
	e.do("GET", "/v3/bsc/transaction/count/"+fillFrom, e.keyA, nil).wantError(t, 502, CodeNodeUnavailable)
	// XDC's own address form names the same sender.
	e.do("GET", "/v3/xdc/transaction/count/xdc"+fillFrom[2:], e.keyA, nil).wantError(t, 403, CodeNoNode)
	if c := e.credits(e.idA); c != 0 {
		t.Fatalf("refusals charged %d credits", c)
	}
}
