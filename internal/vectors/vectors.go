// Package vectors gives tests typed access to the derivation and signing vectors
// computed by independent implementations (Tatum's SDK, ethers, bitcoinjs,
// wallet-core, …). The files in testdata are copied verbatim from the shared
// vector set; testdata/README.md says how they were produced. Only tests import
// this package.
package vectors

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"sync"
)

var (
	//go:embed testdata/derivation.json
	derivationJSON []byte
	//go:embed testdata/signing.json
	signingJSON []byte
	// TatumWalletDat is a Tatum KMS wallet.dat (crypto-js AES passphrase format).
	//go:embed testdata/tatum-wallet.dat
	TatumWalletDat []byte
	//go:embed testdata/tatum-wallet.json
	tatumWalletJSON []byte
)

// DerivationIndex is one address index of a mnemonic vector.
type DerivationIndex struct {
	Index                      uint32 `json:"index"`
	DerivationPath             string `json:"derivation_path"`
	Address                    string `json:"address"`
	PrivateKey                 string `json:"private_key"`
	RawSeedHex                 string `json:"raw_seed_hex"`
	AddressBech32              string `json:"address_bech32"`
	AddressFromPrivateKeyTatum string `json:"address_from_private_key_tatum"`
}

// Derivation is one row of derivation.json: kind "mnemonic", "mnemonic-sol" or "secret".
type Derivation struct {
	Chain                string            `json:"chain"`
	Testnet              bool              `json:"testnet"`
	Kind                 string            `json:"kind"`
	Mnemonic             string            `json:"mnemonic"`
	DerivationPath       string            `json:"derivation_path"`
	XPub                 *string           `json:"xpub"`
	GenerateWalletOutput map[string]any    `json:"generate_wallet_output"`
	Indices              []DerivationIndex `json:"indices"`
	// kind "secret"
	Secret     string `json:"secret"`
	PrivateKey string `json:"private_key"`
	RawSeedHex string `json:"raw_seed_hex"`
	Address    string `json:"address"`
}

// SigningKey is a stored wallet a signing vector names.
type SigningKey struct {
	SignatureID       string  `json:"signatureId"`
	Type              string  `json:"type"` // "mnemonic" or "privateKey"/"secret"
	Secret            string  `json:"secret"`
	Index             *uint32 `json:"index"`
	DerivedPrivateKey string  `json:"derived_private_key"`
}

// PendingTx is the pending transaction of a signing vector, as the API serves it.
type PendingTx struct {
	ID                    string   `json:"id"`
	Chain                 string   `json:"chain"`
	SerializedTransaction string   `json:"serializedTransaction"`
	Hashes                []string `json:"hashes"`
	Index                 *uint32  `json:"index"`
	Signatures            []struct {
		ID    string `json:"id"`
		Index uint32 `json:"index"`
	} `json:"signatures"`
	WithdrawalID *string `json:"withdrawalId"`
}

// Signing is one row of signing.json. Expected, NodeAnswers, Inputs and Prevouts
// differ per chain family and stay raw for the chain's own test to decode.
type Signing struct {
	Chain              string          `json:"chain"`
	Testnet            bool            `json:"testnet"`
	Format             string          `json:"format"` // "tatum" or "native"
	PendingTransaction PendingTx       `json:"pending_transaction"`
	Keys               []SigningKey    `json:"keys"`
	Expected           json.RawMessage `json:"expected"`
	NodeAnswers        json.RawMessage `json:"node_answers"`
	Inputs             json.RawMessage `json:"inputs"`
	Prevouts           json.RawMessage `json:"prevouts"`
	UnsignedFields     json.RawMessage `json:"unsigned_fields"`
	Note               string          `json:"note"`
}

// TatumWallet is the plaintext of TatumWalletDat and its password.
type TatumWallet struct {
	Password string                    `json:"password"`
	Wallets  map[string]map[string]any `json:"wallets"`
}

var (
	once      sync.Once
	derivs    []Derivation
	signs     []Signing
	tatumWall TatumWallet
)

func load() {
	var d struct{ Vectors []Derivation }
	var s struct{ Vectors []Signing }
	for _, x := range []struct {
		b []byte
		v any
	}{{derivationJSON, &d}, {signingJSON, &s}, {tatumWalletJSON, &tatumWall}} {
		if err := json.Unmarshal(x.b, x.v); err != nil {
			panic("vectors: " + err.Error())
		}
	}
	derivs, signs = d.Vectors, s.Vectors
}

// Derivations returns every row of derivation.json.
func Derivations() []Derivation { once.Do(load); return derivs }

// Signings returns every row of signing.json.
func Signings() []Signing { once.Do(load); return signs }

// SigningFor returns the signing rows of one chain.
func SigningFor(chain string) []Signing {
	var out []Signing
	for _, s := range Signings() {
		if s.Chain == chain {
			out = append(out, s)
		}
	}
	return out
}

// CountRows counts the rows of one chain in testdata/derivation.json (file
// "derivation") or testdata/signing.json ("signing") from the file's raw
// JSON, apart from the typed rows the suites iterate: a suite that compares
// the rows it ran with this count notices a row it skipped or lost.
func CountRows(file, chain string) int {
	b := map[string][]byte{"derivation": derivationJSON, "signing": signingJSON}[file]
	if b == nil {
		panic("vectors: no vector file " + file)
	}
	var doc struct {
		Vectors []map[string]any `json:"vectors"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		panic("vectors: " + err.Error())
	}
	n := 0
	for _, row := range doc.Vectors {
		if row["chain"] == chain {
			n++
		}
	}
	return n
}

// Tatum returns the plaintext and password of TatumWalletDat.
func Tatum() TatumWallet { once.Do(load); return tatumWall }

// Answers returns the row's node_answers as a value by JSON-RPC method
// (eth_chainId, eth_gasPrice, …): what a node told the reference, which a
// test hands to the chain's completion as a node would. Nil when the row
// asked no node.
func (s Signing) Answers() (map[string]*big.Int, error) {
	if len(s.NodeAnswers) == 0 || string(s.NodeAnswers) == "null" {
		return nil, nil
	}
	var answers []struct{ Method, Result string }
	if err := json.Unmarshal(s.NodeAnswers, &answers); err != nil {
		return nil, err
	}
	out := make(map[string]*big.Int, len(answers))
	for _, a := range answers {
		n, ok := new(big.Int).SetString(strings.TrimPrefix(a.Result, "0x"), 16)
		if !ok {
			return nil, fmt.Errorf("node answer %q to %s is not a hex number", a.Result, a.Method)
		}
		out[a.Method] = n
	}
	return out, nil
}
