package utxo

import (
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/wire"
)

// Litecoin and Dogecoin parameters. Only the encodings matter here (address
// and WIF version bytes, bech32 HRP, BIP-32 version bytes); consensus fields
// are inherited from Bitcoin's and unused. They are deliberately not passed to
// chaincfg.Register: the registry is process-global and the HD version pairs
// are handled locally (see xpubOf), so nothing here can collide with another
// package's registrations.
//
// BIP-32 versions follow Tatum, not the coins' own cores: LTC uses Ltub/Ltpv on
// mainnet and ttub/ttpv on testnet; DOGE uses Bitcoin's xpub/tpub.
var (
	ltcMainNetParams = derive(chaincfg.MainNetParams, func(p *chaincfg.Params) {
		p.Name, p.Net = "litecoin", wire.BitcoinNet(0xdbb6c0fb)
		p.PubKeyHashAddrID, p.ScriptHashAddrID, p.PrivateKeyID = 0x30, 0x32, 0xb0
		p.Bech32HRPSegwit = "ltc"
		p.HDPrivateKeyID = [4]byte{0x01, 0x9d, 0x9c, 0xfe} // Ltpv
		p.HDPublicKeyID = [4]byte{0x01, 0x9d, 0xa4, 0x62}  // Ltub
		p.HDCoinType = 2
	})
	ltcTestNetParams = derive(chaincfg.TestNet3Params, func(p *chaincfg.Params) {
		p.Name, p.Net = "litecoin-testnet4", wire.BitcoinNet(0xf1c8d2fd)
		p.PubKeyHashAddrID, p.ScriptHashAddrID, p.PrivateKeyID = 0x6f, 0x3a, 0xef
		p.Bech32HRPSegwit = "tltc"
		p.HDPrivateKeyID = [4]byte{0x04, 0x36, 0xef, 0x7d} // ttpv
		p.HDPublicKeyID = [4]byte{0x04, 0x36, 0xf6, 0xe1}  // ttub
		p.HDCoinType = 1
	})
	ltcRegTestParams = derive(chaincfg.RegressionNetParams, func(p *chaincfg.Params) {
		p.Name, p.Net = "litecoin-regtest", wire.BitcoinNet(0xdab5bffa)
		p.PubKeyHashAddrID, p.ScriptHashAddrID, p.PrivateKeyID = 0x6f, 0x3a, 0xef
		p.Bech32HRPSegwit = "rltc"
		p.HDPrivateKeyID = ltcTestNetParams.HDPrivateKeyID
		p.HDPublicKeyID = ltcTestNetParams.HDPublicKeyID
		p.HDCoinType = 1
	})

	dogeMainNetParams = derive(chaincfg.MainNetParams, func(p *chaincfg.Params) {
		p.Name, p.Net = "dogecoin", wire.BitcoinNet(0xc0c0c0c0)
		p.PubKeyHashAddrID, p.ScriptHashAddrID, p.PrivateKeyID = 0x1e, 0x16, 0x9e
		p.Bech32HRPSegwit = "" // no segwit
		p.HDCoinType = 3
	})
	dogeTestNetParams = derive(chaincfg.TestNet3Params, func(p *chaincfg.Params) {
		p.Name, p.Net = "dogecoin-testnet", wire.BitcoinNet(0xdcb7c1fc)
		p.PubKeyHashAddrID, p.ScriptHashAddrID, p.PrivateKeyID = 0x71, 0xc4, 0xf1
		p.Bech32HRPSegwit = ""
		p.HDCoinType = 1
	})
	dogeRegTestParams = derive(chaincfg.RegressionNetParams, func(p *chaincfg.Params) {
		p.Name, p.Net = "dogecoin-regtest", wire.BitcoinNet(0xdab5bffa)
		p.PubKeyHashAddrID, p.ScriptHashAddrID, p.PrivateKeyID = 0x6f, 0xc4, 0xef
		p.Bech32HRPSegwit = ""
		p.HDCoinType = 1
	})
)

func derive(base chaincfg.Params, edit func(*chaincfg.Params)) chaincfg.Params {
	edit(&base)
	return base
}
