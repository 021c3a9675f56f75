package evm

import "github.com/ethereum/go-ethereum/common"

// token is an ERC-20 contract that Tatum's transfer bodies name by a
// currency symbol.
type token struct {
	address  common.Address
	decimals int
}

// nativeSymbol is the currency symbol of each chain's own coin in Tatum's
// transfer bodies (BSC's coin is "BSC", not "BNB").
var nativeSymbol = map[string]string{
	"ETH": "ETH", "BSC": "BSC", "MATIC": "MATIC", "CELO": "CELO", "ONE": "ONE", "XDC": "XDC", "KLAY": "KLAY",
}

// tokens maps, per chain code and network, the token symbols Tatum's
// `currency` accepts to their contracts, as Tatum's JS SDK (1.37) defines
// them: CONTRACT_ADDRESSES and CONTRACT_DECIMALS for the symbols of
// ERC20_CURRENCIES (ETH), BEP20_CURRENCIES (BSC) and MATIC20_CURRENCIES
// (MATIC), and CUSD/CEUR on CELO. Tatum's table holds mainnet contracts
// only and uses them on testnets too, where they are not tokens; here a
// symbol on a testnet is refused unless the table names its testnet
// contract (CELO's), and any other token is sent by contractAddress and
// digits. ONE, XDC and KLAY have no symbols: Tatum's SDK looks theirs up in
// Ethereum's table, whose addresses mean nothing there.
var tokens = map[string]map[bool]map[string]token{
	"ETH": {false: {
		"USDT":      tok("0xdac17f958d2ee523a2206206994597c13d831ec7", 6),
		"LATOKEN":   tok("0xe50365f5d679cb98a1dd62d6f6e58e59321bcddf", 18),
		"LEO":       tok("0x2af5d2ad76741191d15dfe7bf6ac92d4bd912ca3", 18),
		"LINK":      tok("0x514910771af9ca656af840dff83e8264ecf986ca", 18),
		"UNI":       tok("0x1f9840a85d5af5bf1d1762f925bdaddc4201f984", 18),
		"FREE":      tok("0x2f141ce366a2462f02cea3d12cf93e4dca49e4fd", 18),
		"MKR":       tok("0x9f8f72aa9304c8b593d555f12ef6589cc3a579a2", 18),
		"BUSD":      tok("0x4fabb145d64652a948d72533023f6e7a623c7c53", 18),
		"USDC":      tok("0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48", 6),
		"MATIC_ETH": tok("0x7d1afa7b718fb893db30a3abc0cfc608aacfebb0", 18),
		"POL_ETH":   tok("0x455e53cbb86018ac2b8092fdcd39d8444affc3f6", 18),
		"BAT":       tok("0x0d8775f648430679a709e98d2b0cb6250d2887ef", 18),
		"WBTC":      tok("0x2260fac5e5542a773aa44fbcfedf7c193bc2c599", 8),
		"TUSD":      tok("0x0000000000085d4780B73119b644AE5ecd22b376", 18),
		"PAX":       tok("0x8e870d67f660d95d5be530380d0ec0bd388289e1", 18),
		"PAXG":      tok("0x45804880de22913dafe09f4980848ece6ecbaf78", 18),
		"PLTC":      tok("0x429d83bb0dcb8cdd5311e34680adc8b12070a07f", 18),
		"XCON":      tok("0x0f237d5ea7876e0e2906034d98fdb20d43666ad4", 18),
		"MMY":       tok("0x385ddf50c3de724f6b8ecb41745c29f9dd3c6d75", 18),
		"COIIN":     tok("0xd080f46d7781a6c82b3dd74a223b73242884e7e6", 18),
		"REVV":      tok("0x557b933a7c2c45672b610f8954a3deb39a51a8ca", 18),
		"SAND":      tok("0x3845badade8e6dff049820680d1f14bd3903a5d0", 18),
		"GMC":       tok("0xa6272359bc37f61af398071b65c8934aca744d53", 18),
	}},
	"BSC": {false: {
		"BETH":      tok("0x2170ed0880ac9a755fd29b2688956bd959f933f8", 18),
		"BBTC":      tok("0x7130d2a12b9bcbfae4f2634d864a1ee1ce3ead9c", 18),
		"RMD":       tok("0x02888e65324a98219c26f292e7cd3e52ef39c5c2", 18),
		"USDC_BSC":  tok("0x8ac76a51cc950d9822d68b83fe1ad97b32cd580d", 18),
		"USDT_BSC":  tok("0x55d398326f99059fF775485246999027B3197955", 18),
		"COIIN_BSC": tok("0xc6fd4c36a822d43283b79cce07d015a1faf7b321", 18),
		"B2U_BSC":   tok("0x02926e6e2898e9235fdddde3f51c3b644af8c403", 18),
		"BADA":      tok("0x3ee2200efb3400fabb9aacf31297cbdd1d435d47", 18),
		"WBNB":      tok("0xbb4CdB9CBd36B01bD1cBaEBF2De08d9173bc095c", 18),
		"GMC_BSC":   tok("0xa6272359bc37f61af398071b65c8934aca744d53", 18),
		"BDOT":      tok("0x7083609fce4d1d8dc0c979aab8c869ea2c873402", 18),
		"BXRP":      tok("0x1d2f0da169ceb9fc7b3144628db156f3f6c60dbe", 18),
		"BLTC":      tok("0x4338665cbb7b2485a8855a139b75d5e34ab0db94", 18),
		"BBCH":      tok("0x8ff795a6f4d97e7887c79bea79aba5cc76444adf", 18),
		"HAG":       tok("0x44e133e71bf90cb67de4c0f31c391ade021def4a", 8),
		"CAKE":      tok("0x0e09fabb73bd3ade0a17ecc321fd13a19e81ce82", 18),
		"BUSD_BSC":  tok("0xe9e7cea3dedca5984780bafc599bd69add087d56", 18),
	}},
	"MATIC": {false: {
		"USDC_MATIC":        tok("0x2791bca1f2de4661ed88a30c99a7a9449aa84174", 6),
		"USDC_MATIC_NATIVE": tok("0x3c499c542cef5e3811e1192ce70d8cc03d5c3359", 6),
		"GAMEE":             tok("0xcf32822ff397ef82425153a9dcb726e5ff61dca7", 18),
		"INTENT":            tok("0x5918fa85f0a3ddc00ce145cba21d5540d25c5cc7", 8),
		"EURTENT":           tok("0x10898c4a1476e9a96fca05299b593d704225840c", 8),
		"GOLDAX":            tok("0xc310376f099c4e750312b7c95891a5b539612745", 8),
		"USDT_MATIC":        tok("0xc2132d05d31c914a87c6611c10748aeb04b58e8f", 6),
	}},
	"CELO": {
		false: {
			"CUSD": tok("0x765de816845861e75a25fca122bb6898b8b1282a", 18),
			"CEUR": tok("0xd8763cba276a3738e6de85b4b3bf5fded6d6ca73", 18),
		},
		true: {
			"CUSD": tok("0x874069fa1eb16d44d622f2e0ca25eea172369bc1", 18),
			"CEUR": tok("0x10c892a6ec43a53e45d0b916b4b7d383b1b78c0f", 18),
		},
	},
}

func tok(addr string, decimals int) token {
	return token{address: common.HexToAddress(addr), decimals: decimals}
}
