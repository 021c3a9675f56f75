// Package utxo implements the Bitcoin-family chains: BTC, LTC, DOGE and BCH. They
// share btcd's transaction model and scripts and differ in network parameters,
// address encodings and (BCH) the FORKID signature hash.
//
// The package owns, for these four chains, Tatum-compatible key derivation
// (chain.Deriver), the check of a pending transaction's serializedTransaction
// when it is queued (chain.TxValidator) and offline signing (chain.Signer) of
// Tatum's bitcore JSON, BCH's "<hex>:<amounts>" form and BIP 174 PSBTs.
package utxo

import (
	"fmt"

	"github.com/btcsuite/btcd/chaincfg"

	"github.com/custoskms/custos/internal/chain"
)

// Network selects one of a chain's three networks. The API's testnet flag maps
// to Testnet; Regtest shares Testnet's key and WIF encodings (a regtest node is
// configured as the chain's testnet node) and differs only in address prefixes.
type Network int

const (
	Mainnet Network = iota
	Testnet
	Regtest
)

func (n Network) String() string {
	switch n {
	case Mainnet:
		return "mainnet"
	case Testnet:
		return "testnet"
	case Regtest:
		return "regtest"
	}
	return fmt.Sprintf("network(%d)", int(n))
}

func netOf(testnet bool) Network {
	if testnet {
		return Testnet
	}
	return Mainnet
}

// addrStyle is the address form Tatum shows for a chain's derived keys.
type addrStyle int

const (
	styleP2WPKH   addrStyle = iota // BTC: bech32 P2WPKH even on Tatum's m/44' path
	styleP2PKH                     // LTC, DOGE: legacy base58 P2PKH
	styleCashAddr                  // BCH: CashAddr P2PKH
)

// Chain is one UTXO chain's parameters. The package-level values are shared
// and read-only; WithMaxFee returns a configured copy.
type Chain struct {
	info chain.Info
	// CoinType is the BIP-44 coin type of Tatum's mainnet path m/44'/CoinType'/0'/0.
	CoinType uint32
	// params holds chaincfg parameters for Mainnet, Testnet and Regtest. LTC and
	// DOGE are custom; BCH uses Bitcoin's (same version bytes) plus cashPrefix.
	params [3]*chaincfg.Params
	// cashPrefix is the CashAddr prefix per network (BCH only).
	cashPrefix [3]string
	style      addrStyle
	// forkID marks BCH: signatures commit to the amount with SIGHASH_FORKID.
	forkID bool
	// segwit says whether witness programs (P2WPKH, P2SH-P2WPKH) may be spent;
	// taproot whether P2TR key-path inputs may be.
	segwit, taproot bool
	// testnetCoinType is the coin type of Tatum's testnet path (1, or 145 for BCH).
	testnetCoinType uint32
	// maxFee is the fee cap in the chain's base unit (satoshi-like); a signed
	// transaction paying more is refused.
	maxFee int64
	// maxMoney bounds every amount (the chain's MAX_MONEY) so sums cannot overflow.
	maxMoney int64
}

// Info implements chain.Chain.
func (c *Chain) Info() chain.Info { return c.info }

// Params returns the chaincfg parameters of a network.
func (c *Chain) Params(n Network) *chaincfg.Params { return c.params[n] }

// MaxFee is the fee cap in base units (satoshis) this value enforces when signing.
func (c *Chain) MaxFee() int64 { return c.maxFee }

// WithMaxFee returns a copy of c that refuses to sign transactions paying more
// than sat base units in fees. The package-level chains keep their defaults
// (DefaultMaxFee).
func (c *Chain) WithMaxFee(sat int64) *Chain {
	cp := *c
	cp.maxFee = sat
	return &cp
}

// DefaultMaxFee is the fee cap, in base units, of the package-level chains: far
// above any normal fee, low enough that a fee/change mistake cannot burn a
// wallet. Configure another with WithMaxFee.
var DefaultMaxFee = map[string]int64{
	"BTC":  5_000_000,      // 0.05 BTC
	"LTC":  50_000_000,     // 0.5 LTC
	"DOGE": 10_000_000_000, // 100 DOGE
	"BCH":  5_000_000,      // 0.05 BCH
}

// The four UTXO chains.
var (
	BTC = &Chain{
		info:     chain.Info{Code: "BTC", Slug: "bitcoin", Kind: chain.MnemonicWallet, MultiKey: true},
		CoinType: 0, testnetCoinType: 1,
		params: [3]*chaincfg.Params{&chaincfg.MainNetParams, &chaincfg.TestNet3Params, &chaincfg.RegressionNetParams},
		style:  styleP2WPKH, segwit: true, taproot: true,
		maxFee: DefaultMaxFee["BTC"], maxMoney: 21_000_000 * 1e8,
	}
	LTC = &Chain{
		info:     chain.Info{Code: "LTC", Slug: "litecoin", Kind: chain.MnemonicWallet, MultiKey: true},
		CoinType: 2, testnetCoinType: 1,
		params: [3]*chaincfg.Params{&ltcMainNetParams, &ltcTestNetParams, &ltcRegTestParams},
		style:  styleP2PKH, segwit: true,
		maxFee: DefaultMaxFee["LTC"], maxMoney: 84_000_000 * 1e8,
	}
	DOGE = &Chain{
		info:     chain.Info{Code: "DOGE", Slug: "dogecoin", Kind: chain.MnemonicWallet, MultiKey: true},
		CoinType: 3, testnetCoinType: 1,
		params: [3]*chaincfg.Params{&dogeMainNetParams, &dogeTestNetParams, &dogeRegTestParams},
		style:  styleP2PKH,
		// Dogecoin Core's MAX_MONEY: 10 billion DOGE.
		maxFee: DefaultMaxFee["DOGE"], maxMoney: 10_000_000_000 * 1e8,
	}
	BCH = &Chain{
		info:     chain.Info{Code: "BCH", Slug: "bcash", Kind: chain.MnemonicWallet, MultiKey: true},
		CoinType: 145, testnetCoinType: 145, // Tatum keeps the mainnet path on testnet
		params:     [3]*chaincfg.Params{&chaincfg.MainNetParams, &chaincfg.TestNet3Params, &chaincfg.RegressionNetParams},
		cashPrefix: [3]string{"bitcoincash", "bchtest", "bchreg"},
		style:      styleCashAddr, forkID: true,
		maxFee: DefaultMaxFee["BCH"], maxMoney: 21_000_000 * 1e8,
	}
)

var (
	_ chain.Chain       = (*Chain)(nil)
	_ chain.Deriver     = (*Chain)(nil)
	_ chain.TxValidator = (*Chain)(nil)
	_ chain.Signer      = (*Chain)(nil)
)
