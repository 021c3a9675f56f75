package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/vectors"
	"github.com/custoskms/custos/internal/walletstore"
)

const signTestPassword = "sign-test-password"

// cheapStoreKDF makes wallet stores fast to open in tests, through the store's test-only hook.
func cheapStoreKDF(t *testing.T) {
	cheap := walletstore.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}
	walletstore.TestKDF = &cheap
	t.Cleanup(func() { walletstore.TestKDF = nil })
}

// ethVectorStore is the ETH testnet native signing vector, its expected
// result and a store holding its wallets.
func ethVectorStore(t *testing.T) (vectors.Signing, expectedSigned, string) {
	t.Helper()
	cheapStoreKDF(t)
	v := ethTestnetNative(t)
	var want expectedSigned
	if err := json.Unmarshal(v.Expected, &want); err != nil {
		t.Fatal(err)
	}
	return v, want, storeForVector(t, v)
}

// storeForVector writes the wallets a signing vector names into a new store.
func storeForVector(t *testing.T, v vectors.Signing) string {
	path := filepath.Join(t.TempDir(), "wallet.dat")
	s, err := walletstore.Open(t.Context(), path, []byte(signTestPassword), walletstore.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seen := map[string]bool{}
	var entries []walletstore.Entry
	for _, k := range v.Keys {
		if seen[k.SignatureID] {
			continue
		}
		seen[k.SignatureID] = true
		w := &walletstore.Wallet{Chain: v.Chain, Testnet: v.Testnet}
		if k.Type == "mnemonic" {
			w.Mnemonic = k.Secret
		} else {
			w.PrivateKey = k.Secret
		}
		entries = append(entries, walletstore.Entry{ID: k.SignatureID, Wallet: w})
	}
	if err := s.PutMany(t.Context(), entries); err != nil {
		t.Fatal(err)
	}
	return path
}

type expectedSigned struct {
	Signed string `json:"signed"`
	TxID   string `json:"txId"`
}

// signableRows are the signing vectors of chains that sign today, and whose
// reference output the chain reproduces from the keys alone (rows needing a
// node's answers are the server's to complete first).
func signableRows(t *testing.T) []vectors.Signing {
	var out []vectors.Signing
	for _, v := range vectors.Signings() {
		c, err := chains.Lookup(v.Chain)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := c.(chain.Signer); !ok || len(v.NodeAnswers) > 0 && string(v.NodeAnswers) != "null" {
			continue
		}
		out = append(out, v)
	}
	return out
}

func TestSignOfflineMatchesVectors(t *testing.T) {
	cheapStoreKDF(t)
	rows := signableRows(t)
	if len(rows) == 0 {
		t.Fatal("no chain signs yet")
	}
	for _, v := range rows {
		name := v.Chain + "/" + v.Format + "/" + v.PendingTransaction.ID
		var want expectedSigned
		if err := json.Unmarshal(v.Expected, &want); err != nil || want.Signed == "" {
			t.Fatalf("%s: expected: %v", name, err)
		}
		path := storeForVector(t, v)
		ptx, _ := json.Marshal(v.PendingTransaction)
		t.Setenv("CUSTOS_PASSWORD", signTestPassword)
		args := []string{"sign", "--path", path}
		if v.Testnet {
			args = append(args, "--testnet")
		}
		stdout, stderr, code := runCLI(t, string(ptx), args...)
		if code != 0 {
			t.Errorf("%s: exit %d: %s", name, code, stderr)
			continue
		}
		var got struct {
			TxData string `json:"txData"`
			TxID   string `json:"txId"`
		}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("%s: output %q", name, stdout)
		}
		if got.TxData != want.Signed || got.TxID != want.TxID {
			t.Errorf("%s:\n got %s %s\nwant %s %s", name, got.TxData, got.TxID, want.Signed, want.TxID)
		}
		for _, k := range v.Keys {
			if strings.Contains(stdout+stderr, k.Secret) {
				t.Fatalf("%s: a secret reached the output", name)
			}
		}
	}
	t.Logf("%d vectors signed through the CLI", len(rows))
}

func TestSignFromFileWithPasswordOnStdin(t *testing.T) {
	cheapStoreKDF(t)
	rows := signableRows(t)
	if len(rows) == 0 {
		t.Fatal("no chain signs yet")
	}
	v := rows[0]
	path := storeForVector(t, v)
	txFile := filepath.Join(t.TempDir(), "tx.json")
	ptx, _ := json.Marshal(v.PendingTransaction)
	if err := os.WriteFile(txFile, ptx, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"CUSTOS_PASSWORD", "TATUM_KMS_PASSWORD"} {
		t.Setenv(k, "") // restored after the test
		os.Unsetenv(k)
	}
	args := []string{"sign", "--path", path, "--file", txFile}
	if v.Testnet {
		args = append(args, "--testnet")
	}
	stdout, stderr, code := runCLI(t, signTestPassword+"\n", args...)
	var want expectedSigned
	_ = json.Unmarshal(v.Expected, &want)
	if code != 0 || !strings.Contains(stdout, want.Signed) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	// Wrong network: the wallet is refused, nothing printed.
	args = []string{"sign", "--path", path, "--file", txFile}
	if !v.Testnet {
		args = append(args, "--testnet")
	}
	stdout, stderr, code = runCLI(t, signTestPassword+"\n", args...)
	if code == 0 || stdout != "" || !strings.Contains(stderr, "network") {
		t.Fatalf("wrong network: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestSignRefusesBadInput(t *testing.T) {
	cheapStoreKDF(t)
	t.Setenv("CUSTOS_PASSWORD", signTestPassword)
	path := filepath.Join(t.TempDir(), "wallet.dat")
	for name, in := range map[string]string{
		"empty":     "",
		"not json":  "garbage",
		"no chain":  `{"id":"65f1c0de0000000000000001","serializedTransaction":"x","hashes":["a"]}`,
		"unknown":   `{"id":"65f1c0de0000000000000001","chain":"NOPE","serializedTransaction":"x","hashes":["a"]}`,
		"no hashes": `{"id":"65f1c0de0000000000000001","chain":"BTC","serializedTransaction":"x","hashes":[]}`,
		"no store":  `{"id":"65f1c0de0000000000000001","chain":"BTC","serializedTransaction":"x","hashes":["a"]}`,
	} {
		stdout, stderr, code := runCLI(t, in, "sign", "--path", path)
		var e struct{ Error string }
		if code == 0 || stdout != "" || json.Unmarshal([]byte(stderr), &e) != nil || e.Error == "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", name, code, stdout, stderr)
		}
	}
}
