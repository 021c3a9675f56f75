package broadcast

import "sort"

// testDialers pairs each chain code with its node client as the chain table
// (internal/chain/chains) does, which this package's tests cannot import: it
// imports this package. The table's own test checks every row has a dialer.
var testDialers = map[string]Dialer{
	"BNB": DialShutDown("BNB Beacon Chain was shut down"), "XLM": DialerOf(DialStellar), "XRP": DialerOf(DialXRPL), "VET": DialerOf(DialVeChain),
	"FLOW": DialerOf(DialFlow), "TRON": DialerOf(DialTron), "EGLD": DialerOf(DialMultiversX), "SOL": DialerOf(DialSolana),
	"BTC": DialerOf(DialUTXO), "LTC": DialerOf(DialUTXO), "DOGE": DialerOf(DialUTXO), "BCH": DialerOf(DialUTXO),
	"ETH": DialerOf(DialEVM), "BSC": DialerOf(DialEVM), "MATIC": DialerOf(DialEVM), "CELO": DialerOf(DialEVM),
	"ONE": DialerOf(DialEVM), "XDC": DialerOf(DialEVM), "KLAY": DialerOf(DialEVM),
}

func testDialer(code string) (Dialer, bool) {
	d, ok := testDialers[code]
	return d, ok
}

// dialedChains lists the chain codes of testDialers, sorted.
func dialedChains() []string {
	var out []string
	for c := range testDialers {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}
