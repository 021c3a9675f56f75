package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	_ "embed"
	"encoding/json"
	"flag"
	"math/big"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Token.bin is the creation bytecode of testdata/Token.sol compiled by solc
// 0.8.26 (solc-js) with the settings of solcInput. Regenerate it with
//
//	CUSTOS_TEST_SOLCJS=$PWD/.tools/npm/node_modules/.bin/solcjs go test ./internal/e2e -run TestTokenArtifact -update
//
// (scripts/test installs solc-js there and runs TestTokenArtifact, which
// compiles again and compares).
//
//go:embed testdata/Token.bin
var tokenBin string

//go:embed testdata/Token.sol
var tokenSource string

var update = flag.Bool("update", false, "rewrite testdata/Token.bin from testdata/Token.sol")

// solcInput is the Standard JSON input Token.bin is compiled from. No metadata
// hash is appended, so the output depends on the source and these settings only;
// evmVersion paris (no PUSH0) runs on ganache as well as on the dev chain.
func solcInput() ([]byte, error) {
	return json.Marshal(map[string]any{
		"language": "Solidity",
		"sources":  map[string]any{"Token.sol": map[string]any{"content": tokenSource}},
		"settings": map[string]any{
			"optimizer":       map[string]any{"enabled": true, "runs": 200},
			"evmVersion":      "paris",
			"metadata":        map[string]any{"bytecodeHash": "none"},
			"outputSelection": map[string]any{"Token.sol": map[string]any{"Token": []string{"evm.bytecode.object"}}},
		},
	})
}

// TestTokenArtifact compiles testdata/Token.sol with solc-js and checks that
// the committed Token.bin is its output.
func TestTokenArtifact(t *testing.T) {
	solcjs := requireTool(t, "CUSTOS_TEST_SOLCJS", "solc-js (npm solc@0.8.26)")
	in, err := solcInput()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), solcjs, "--standard-json")
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("solcjs: %v", err)
	}
	// solc-js may print a notice line before the JSON document.
	if i := bytes.IndexByte(out, '{'); i > 0 {
		out = out[i:]
	}
	var res struct {
		Errors []struct {
			Severity, FormattedMessage string
		}
		Contracts map[string]map[string]struct {
			EVM struct {
				Bytecode struct{ Object string }
			}
		}
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("solcjs output: %v", err)
	}
	for _, e := range res.Errors {
		if e.Severity == "error" {
			t.Fatalf("solc: %s", e.FormattedMessage)
		}
	}
	got := res.Contracts["Token.sol"]["Token"].EVM.Bytecode.Object
	if len(got) < 100 {
		t.Fatalf("no bytecode in solc output")
	}
	if *update {
		if err := os.WriteFile("testdata/Token.bin", []byte(got+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != strings.TrimSpace(tokenBin) {
		t.Fatal("testdata/Token.bin is not the compiled testdata/Token.sol; regenerate it (see token_test.go)")
	}
}

// requireTool returns the path in env var name, or skips the test: with a
// clear message locally, never silently in CI, where it fails.
func requireTool(t *testing.T, name, what string) string {
	t.Helper()
	p := os.Getenv(name)
	if p == "" {
		msg := name + " is not set: " + what + " is installed and named by scripts/test; run scripts/test, or set " + name
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI: the test must run)")
		}
		t.Skip(msg)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s=%s: %v", name, p, err)
	}
	return p
}

func selector(sig string) []byte { return crypto.Keccak256([]byte(sig))[:4] }

func word(b []byte) []byte { return common.LeftPadBytes(b, 32) }

// transferCall is the calldata of transfer(to, amount).
func transferCall(to common.Address, amount *big.Int) []byte {
	return bytes.Join([][]byte{selector("transfer(address,uint256)"), word(to.Bytes()), word(amount.Bytes())}, nil)
}

// deployToken deploys Token with supply, all of it held by key's address.
func (s *stack) deployToken(key *ecdsa.PrivateKey, supply *big.Int) common.Address {
	s.t.Helper()
	code := common.FromHex(strings.TrimSpace(tokenBin))
	r := s.sendDirect(key, nil, new(big.Int), append(code, word(supply.Bytes())...), 3_000_000)
	if r.ContractAddress == (common.Address{}) {
		s.t.Fatal("no contract address")
	}
	return r.ContractAddress
}

func (s *stack) tokenBalance(token, holder common.Address) *big.Int {
	s.t.Helper()
	data := append(selector("balanceOf(address)"), word(holder.Bytes())...)
	out, err := s.node.CallContract(context.Background(), ethereum.CallMsg{To: &token, Data: data}, nil)
	if err != nil || len(out) != 32 {
		s.t.Fatalf("balanceOf: %x %v", out, err)
	}
	return new(big.Int).SetBytes(out)
}
