// Package chains is the one table of supported chains. Everything the program
// asks about a chain is read from its row: the chain value (its package
// declares code, slug, wallet shape, key field and multi-key signing in Info,
// and its capabilities by the interfaces it implements) and the node client
// the server broadcasts through. The API's enums, the node environment
// variables, the wallet format and the daemon's key resolution all derive from
// it; there is no other list of chains.
//
// Adding a chain: a package under internal/chain whose value implements
// chain.Chain, chain.Deriver, chain.TxValidator and chain.Signer; a node client
// in internal/broadcast (or an existing one); one row below; and its rows in
// the vector set (internal/vectors/testdata). The completeness test fails
// until each is there.
package chains

import (
	"fmt"
	"strings"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/bnb"
	"github.com/custoskms/custos/internal/chain/egld"
	"github.com/custoskms/custos/internal/chain/evm"
	"github.com/custoskms/custos/internal/chain/flow"
	"github.com/custoskms/custos/internal/chain/sol"
	"github.com/custoskms/custos/internal/chain/tron"
	"github.com/custoskms/custos/internal/chain/utxo"
	"github.com/custoskms/custos/internal/chain/vet"
	"github.com/custoskms/custos/internal/chain/xlm"
	"github.com/custoskms/custos/internal/chain/xrp"
)

// Row is one supported chain.
type Row struct {
	// Chain is the chain package's value.
	Chain chain.Chain
	// Dial builds the client of a node configured for the chain.
	Dial broadcast.Dialer
	// NoSigningVectors says why the shared vector set has no signing rows for
	// the chain, and where its signing is checked instead; empty when it has rows.
	NoSigningVectors string
	// Confirmations is the default confirmation depth at which the server's
	// outcome tracker calls a mined transaction final (`serve
	// --confirmations CODE=N` overrides it); 0 for chains whose node client
	// cannot follow a transaction yet.
	Confirmations uint64
	// Decimals are the native coin's: one coin is 10^Decimals of the
	// smallest unit that transactions, intents and the approver's rules
	// count in (wei, satoshi, drops, …). People read amounts in coins.
	Decimals int
}

// rows is the table, in the order of the API's enum.
func rows() []Row {
	var (
		evmNode  = broadcast.DialerOf(broadcast.DialEVM)
		utxoNode = broadcast.DialerOf(broadcast.DialUTXO)
	)
	return []Row{
		{Chain: bnb.BNB, Decimals: 8, Dial: broadcast.DialShutDown(bnb.BNB.Info().ShutDown)},
		{Chain: utxo.BTC, Decimals: 8, Dial: utxoNode, Confirmations: 6},
		{Chain: evm.ETH, Decimals: 18, Dial: evmNode, Confirmations: 12},
		// A closed ledger is final (consensus, no reorganization).
		{Chain: xlm.XLM, Decimals: xlm.Decimals, Dial: broadcast.DialerOf(broadcast.DialStellar), Confirmations: 1},
		// A validated ledger is final (consensus, no reorganization).
		{Chain: xrp.XRP, Decimals: xrp.Decimals, Dial: broadcast.DialerOf(broadcast.DialXRPL), Confirmations: 1},
		{Chain: utxo.BCH, Decimals: 8, Dial: utxoNode, Confirmations: 6},
		{Chain: utxo.LTC, Decimals: 8, Dial: utxoNode, Confirmations: 6},
		{Chain: utxo.DOGE, Decimals: 8, Dial: utxoNode, Confirmations: 6},
		// Twelve 10 s blocks, as for ETH; `serve --confirmations VET=N` for more.
		{Chain: vet.VET, Decimals: 18, Dial: broadcast.DialerOf(broadcast.DialVeChain), Confirmations: 12},
		{Chain: evm.BSC, Decimals: 18, Dial: evmNode, Confirmations: 15},
		{Chain: evm.MATIC, Decimals: 18, Dial: evmNode, Confirmations: 128},
		{Chain: evm.CELO, Decimals: 18, Dial: evmNode, Confirmations: 12},
		// A sealed transaction result is final: counted as one confirmation.
		{Chain: flow.FLOW, Decimals: 8, Dial: broadcast.DialerOf(broadcast.DialFlow), Confirmations: 1,
			NoSigningVectors: "Tatum's SDK builds, signs and sends FLOW transactions itself through a node, so there is " +
				"no offline output to compare with; internal/chain/flow checks its encoding against the Flow SDK's golden messages"},
		// A block is solidified (irreversible) once 19 of the 27 super
		// representatives (over two thirds) built on it.
		{Chain: tron.TRON, Decimals: tron.Decimals, Dial: broadcast.DialerOf(broadcast.DialTron), Confirmations: 19},
		{Chain: evm.ONE, Decimals: 18, Dial: evmNode, Confirmations: 2},
		{Chain: evm.XDC, Decimals: 18, Dial: evmNode, Confirmations: 3},
		// Counted from the metachain block that notarized it, which is final.
		{Chain: egld.EGLD, Decimals: 18, Dial: broadcast.DialerOf(broadcast.DialMultiversX), Confirmations: 1},
		{Chain: evm.KLAY, Decimals: 18, Dial: evmNode, Confirmations: 1},
		// A finalized slot is rooted (over two thirds of the stake voted 32
		// blocks above it): final, counted as one confirmation.
		{Chain: sol.SOL, Decimals: sol.Decimals, Dial: broadcast.DialerOf(broadcast.DialSolana), Confirmations: 1},
	}
}

// Table is an immutable set of rows looked up by code or slug.
type Table struct {
	rows           []Row
	byCode, bySlug map[string]int
}

// NewTable indexes rows, refusing a row without a chain or node client and a
// code or slug given twice.
func NewTable(rows []Row) (*Table, error) {
	t := &Table{rows: append([]Row(nil), rows...), byCode: map[string]int{}, bySlug: map[string]int{}}
	for i, r := range t.rows {
		if r.Chain == nil || r.Dial == nil {
			return nil, fmt.Errorf("chains: row %d lacks its chain or node dialer", i)
		}
		if r.Decimals <= 0 {
			return nil, fmt.Errorf("chains: row %d lacks its native coin's decimals", i)
		}
		info := r.Chain.Info()
		if info.Code == "" || info.Code != strings.ToUpper(info.Code) || info.Slug == "" {
			return nil, fmt.Errorf("chains: row %d: code %q must be upper case and slug %q set", i, info.Code, info.Slug)
		}
		if _, dup := t.byCode[info.Code]; dup {
			return nil, fmt.Errorf("chains: code %s twice", info.Code)
		}
		if _, dup := t.bySlug[info.Slug]; dup {
			return nil, fmt.Errorf("chains: slug %s twice", info.Slug)
		}
		t.byCode[info.Code], t.bySlug[info.Slug] = i, i
	}
	return t, nil
}

func mustTable(rows []Row) *Table {
	t, err := NewTable(rows)
	if err != nil {
		panic(err)
	}
	return t
}

// table is built once and never written to.
var table = mustTable(rows())

// Rows returns the rows in the order of the API's enum.
func (t *Table) Rows() []Row { return append([]Row(nil), t.rows...) }

// Lookup finds a chain by its Tatum currency code (case-insensitive).
func (t *Table) Lookup(code string) (chain.Chain, error) {
	if i, ok := t.byCode[strings.ToUpper(code)]; ok {
		return t.rows[i].Chain, nil
	}
	return nil, chain.UnknownChainError(code)
}

// BySlug finds a chain by its Tatum broadcast slug ("ethereum", "bitcoin", …).
func (t *Table) BySlug(slug string) (chain.Chain, error) {
	if i, ok := t.bySlug[slug]; ok {
		return t.rows[i].Chain, nil
	}
	return nil, chain.UnknownChainError(slug)
}

// Dialer gives the node client constructor of a chain code (case-insensitive),
// in the form broadcast.Dial asks for.
func (t *Table) Dialer(code string) (broadcast.Dialer, bool) {
	if i, ok := t.byCode[strings.ToUpper(code)]; ok {
		return t.rows[i].Dial, true
	}
	return nil, false
}

// Confirmations gives the default confirmation depth of each chain that has
// one, by code.
func (t *Table) Confirmations() map[string]uint64 {
	out := map[string]uint64{}
	for _, r := range t.rows {
		if r.Confirmations > 0 {
			out[r.Chain.Info().Code] = r.Confirmations
		}
	}
	return out
}

// Decimals gives the native coin's decimals of a chain code (case-insensitive).
func (t *Table) Decimals(code string) (int, bool) {
	if i, ok := t.byCode[strings.ToUpper(code)]; ok {
		return t.rows[i].Decimals, true
	}
	return 0, false
}

// Codes lists the Tatum currency codes, in the order of the API's enum.
func (t *Table) Codes() []string { return t.column(func(i chain.Info) string { return i.Code }) }

// Slugs lists the broadcast slugs, in the order of the API's enum.
func (t *Table) Slugs() []string { return t.column(func(i chain.Info) string { return i.Slug }) }

func (t *Table) column(f func(chain.Info) string) []string {
	out := make([]string, len(t.rows))
	for i, r := range t.rows {
		out[i] = f(r.Chain.Info())
	}
	return out
}

// Rows returns the default table's rows, in the order of the API's enum.
func Rows() []Row { return table.Rows() }

// All returns every chain in the order of the API's enum.
func All() []chain.Chain {
	out := make([]chain.Chain, len(table.rows))
	for i, r := range table.rows {
		out[i] = r.Chain
	}
	return out
}

// Lookup finds a chain of the default table by its Tatum currency code (case-insensitive).
func Lookup(code string) (chain.Chain, error) { return table.Lookup(code) }

// BySlug finds a chain of the default table by its Tatum broadcast slug.
func BySlug(slug string) (chain.Chain, error) { return table.BySlug(slug) }

// Dialer gives the node client constructor of a chain of the default table.
func Dialer(code string) (broadcast.Dialer, bool) { return table.Dialer(code) }

// Confirmations gives the default table's confirmation depths by code.
func Confirmations() map[string]uint64 { return table.Confirmations() }

// Decimals gives the native coin's decimals of a chain of the default table.
func Decimals(code string) (int, bool) { return table.Decimals(code) }

// Codes lists the default table's currency codes, in the order of the API's enum.
func Codes() []string { return table.Codes() }

// Slugs lists the default table's broadcast slugs, in the order of the API's enum.
func Slugs() []string { return table.Slugs() }
