package utxo

import (
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/btcsuite/btcd/txscript"
)

// errAddress is why an address is refused; the caller names the field.
var errAddress = errors.New("is not an address of the chain and network")

// networksOf are the networks whose addresses a request for the API's
// network may name: a testnet key's node may be a regtest node (see
// Network), whose addresses differ in prefix only.
func networksOf(testnet bool) []Network {
	if testnet {
		return []Network{Testnet, Regtest}
	}
	return []Network{Mainnet}
}

// outputScript is the output script paying addr, an address of the chain on
// one of the networks of testnet: base58 P2PKH and P2SH on every chain,
// bech32 and bech32m witness programs where the chain has segregated
// witness, CashAddr on BCH (which also takes its legacy base58 form).
func (c *Chain) outputScript(addr string, testnet bool) ([]byte, error) {
	if len(addr) > 110 { // Tatum's limit; no address of these chains is longer
		return nil, errAddress
	}
	for _, n := range networksOf(testnet) {
		if s := c.scriptOn(addr, n); s != nil {
			return s, nil
		}
	}
	return nil, errAddress
}

func (c *Chain) scriptOn(addr string, n Network) []byte {
	p := c.params[n]
	if c.style == styleCashAddr {
		if v, h, err := cashDecode(c.cashPrefix[n], addr); err == nil {
			if v == cashP2SH {
				return p2shScript(h)
			}
			return p2pkhScript(h)
		}
	}
	if c.segwit && p.Bech32HRPSegwit != "" && strings.HasPrefix(strings.ToLower(addr), p.Bech32HRPSegwit+"1") {
		return c.witnessScript(addr, p.Bech32HRPSegwit)
	}
	// base58check: btcutil's decoder would consult chaincfg's process-wide
	// registry, where the LTC and DOGE parameters deliberately are not.
	h, ver, err := base58.CheckDecode(addr)
	if err != nil || len(h) != 20 {
		return nil
	}
	switch ver {
	case p.PubKeyHashAddrID:
		return p2pkhScript(h)
	case p.ScriptHashAddrID:
		return p2shScript(h)
	}
	return nil
}

// witnessScript decodes a segwit address (BIP 173, BIP 350): version 0
// programs of 20 or 32 bytes in bech32, version 1 (taproot, where the chain
// has it) of 32 bytes in bech32m. Other versions are refused: funds sent to
// them are anyone's to spend today.
func (c *Chain) witnessScript(addr, hrp string) []byte {
	got, data, variant, err := bech32.DecodeGeneric(addr)
	if err != nil || got != hrp || len(data) < 1 {
		return nil
	}
	prog, err := bech32.ConvertBits(data[1:], 5, 8, false)
	if err != nil {
		return nil
	}
	switch {
	case data[0] == 0 && variant == bech32.Version0 && (len(prog) == 20 || len(prog) == 32):
		s, err := txscript.NewScriptBuilder().AddOp(txscript.OP_0).AddData(prog).Script()
		if err != nil {
			return nil
		}
		return s
	case data[0] == 1 && variant == bech32.VersionM && len(prog) == 32 && c.taproot:
		s, err := txscript.NewScriptBuilder().AddOp(txscript.OP_1).AddData(prog).Script()
		if err != nil {
			return nil
		}
		return s
	}
	return nil
}

func p2shScript(h []byte) []byte {
	s := append([]byte{txscript.OP_HASH160, txscript.OP_DATA_20}, h...)
	return append(s, txscript.OP_EQUAL)
}

// addressField checks a request's address field and returns its script.
func (c *Chain) addressField(field, addr string, testnet bool) ([]byte, error) {
	s, err := c.outputScript(addr, testnet)
	if err != nil {
		return nil, fmt.Errorf("%s: %q %w %s %s", field, clipAddr(addr), err, c.info.Code, netOf(testnet))
	}
	return s, nil
}

func clipAddr(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
