// Package evm implements the Ethereum-family chains: ETH, BSC, MATIC, CELO, ONE,
// XDC and KLAY. They share go-ethereum's transaction types and secp256k1 keys and
// differ only in BIP-44 coin type, address presentation and chain ids.
//
// The package owns their Tatum-compatible derivation, the two
// serializedTransaction formats (Tatum's TransactionConfig JSON and the native
// 0x-hex unsigned transaction), the chain-id check per network, offline
// signing, and completing a Tatum-format transaction from a node (Complete).
package evm

import (
	"github.com/custoskms/custos/internal/chain"
)

// Chain is one EVM chain's parameters.
type Chain struct {
	info chain.Info
	// CoinType is the BIP-44 coin type of Tatum's mainnet path m/44'/CoinType'/0'/0.
	CoinType uint32
	// AddressPrefix replaces "0x" when an address is shown (XDC: "xdc").
	AddressPrefix string
	// MainnetChainIDs and TestnetChainIDs are the EIP-155 chain ids accepted by default
	// for a mainnet or testnet wallet. Configuration may accept more (a dev
	// chain), passed per call: the chain values are shared and never change.
	MainnetChainIDs []uint64
	TestnetChainIDs []uint64
}

// Info implements chain.Chain.
func (c *Chain) Info() chain.Info { return c.info }

func newChain(code, slug string, coin uint32, prefix string, main, test []uint64) *Chain {
	return &Chain{info: chain.Info{Code: code, Slug: slug, Kind: chain.MnemonicWallet},
		CoinType: coin, AddressPrefix: prefix, MainnetChainIDs: main, TestnetChainIDs: test}
}

// The seven EVM chains. Testnet ids: Sepolia and Hoodi (Holesky is shut down),
// BSC testnet, Polygon Amoy, Celo Alfajores and Celo Sepolia, Harmony testnet,
// XDC Apothem, Kaia Kairos.
var (
	ETH   = newChain("ETH", "ethereum", 60, "0x", []uint64{1}, []uint64{11155111, 560048})
	BSC   = newChain("BSC", "bsc", 60, "0x", []uint64{56}, []uint64{97})
	MATIC = newChain("MATIC", "polygon", 966, "0x", []uint64{137}, []uint64{80002})
	CELO  = newChain("CELO", "celo", 52752, "0x", []uint64{42220}, []uint64{44787, 11142220})
	ONE   = newChain("ONE", "one", 1023, "0x", []uint64{1666600000}, []uint64{1666700000})
	XDC   = newChain("XDC", "xdc", 550, "xdc", []uint64{50}, []uint64{51})
	KLAY  = newChain("KLAY", "klaytn", 8217, "0x", []uint64{8217}, []uint64{1001})
)
