package approver_test

import (
	"strings"
	"testing"
	"time"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/approver"
)

// The queue and the transaction page show amounts in the asset's units
// (the native coin's decimals from the chain table, a token's from the
// rules file), with the smallest unit's integer beside them; a token the
// rules do not name stays in its smallest unit.
func TestConsoleShowsAmountsInUnits(t *testing.T) {
	c := newConsole(t)
	const (
		usdt  = "0x00000000000000000000000000000000000000dd"
		other = "0x00000000000000000000000000000000000000ee"
	)
	body := `{"to":"0xabc"}`
	req := approval.Request{Version: approval.Version, ID: id(50), Chain: "ETH", Network: "mainnet", SignatureIDs: []string{"wallet-a"},
		Indexes: []uint32{0}, SerializedTransaction: body, Digest: approval.Digest(body), Timestamp: time.Now().Unix(),
		Intent: intent.Intent{Chain: "ETH", Network: "mainnet", Signers: []string{}, Transfers: []intent.Transfer{
			{To: "0x00000000000000000000000000000000000000aa", Amount: "500000000000000000"},
			{To: "0x00000000000000000000000000000000000000bb", Amount: "12300000", Asset: usdt},
			{To: "0x00000000000000000000000000000000000000cc", Amount: "777", Asset: other},
		}, Fee: &intent.Fee{Max: "21000000000000"}}}
	if _, err := c.store.Record(t.Context(), req, approver.Need{Rule: "r", Approvals: 1}, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	cookie, _ := c.signIn(t, "alice", time.Now())
	for _, page := range []string{"/queue", "/tx/" + id(50)} {
		r := c.do("GET", page, cookie, "", nil)
		b := r.Body.String()
		for _, want := range []string{
			`title="500000000000000000 in the smallest unit">0.5 ETH</span>`,
			`>12.3 USDT</span> <code class="asset">` + usdt + `</code> <small class="base">12300000 (smallest unit)</small>`,
			`<span class="amount">777</span> <code class="asset">` + other + `</code> <small class="base">(smallest unit: decimals unknown)</small>`,
			`>0.000021 ETH</span>`,
		} {
			if r.Code != 200 || !strings.Contains(b, want) {
				t.Errorf("%s (%d) lacks %s:\n%s", page, r.Code, want, b)
			}
		}
	}
}

// The fee line names what the intent gives of its gas, each part once and
// the parenthesis closed, whichever parts there are.
func TestConsoleFeeLine(t *testing.T) {
	c := newConsole(t)
	cookie, _ := c.signIn(t, "alice", time.Now())
	for i, tc := range []struct {
		fee  intent.Fee
		want string
	}{
		{intent.Fee{Max: "21000000000000", GasLimit: "21000"}, "(smallest unit)</small> (gas limit 21000)</dd>"},
		{intent.Fee{Max: "21000000000000", GasPrice: "1000000000"}, "(smallest unit)</small> (max 1000000000 per gas)</dd>"},
		{intent.Fee{Max: "21000000000000", GasLimit: "21000", GasPrice: "1000000000"}, "(smallest unit)</small> (gas limit 21000, max 1000000000 per gas)</dd>"},
		{intent.Fee{Max: "21000000000000"}, "(smallest unit)</small></dd>"},
	} {
		body := `{"to":"0xabc"}`
		fee := tc.fee
		req := approval.Request{Version: approval.Version, ID: id(byte(70 + i)), Chain: "ETH", Network: "mainnet", SignatureIDs: []string{"wallet-a"},
			Indexes: []uint32{0}, SerializedTransaction: body, Digest: approval.Digest(body), Timestamp: time.Now().Unix(),
			Intent: intent.Intent{Chain: "ETH", Network: "mainnet", Signers: []string{}, Fee: &fee}}
		if _, err := c.store.Record(t.Context(), req, approver.Need{Rule: "r", Approvals: 1}, nil, time.Now()); err != nil {
			t.Fatal(err)
		}
		if b := c.do("GET", "/tx/"+id(byte(70+i)), cookie, "", nil).Body.String(); !strings.Contains(b, tc.want) {
			t.Errorf("fee %+v: page lacks %s:\n%s", tc.fee, tc.want, b)
		}
	}
}
