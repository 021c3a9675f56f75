// Package chaintest holds the test suites every chain package runs against its
// own Deriver and TxValidator: the derivation vectors of internal/vectors, row
// by row, and the contract checks (bad keys refused, generated keys valid).
// Only tests import it.
package chaintest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/vectors"
)

// Derivations checks d against every derivation vector of the chain code and
// fails unless it checked exactly as many rows as the vector file holds for
// the code (counted apart by vectors.CountRows), and at least one: a row
// skipped, of an unknown kind or without indices fails the suite.
func Derivations(t *testing.T, code string, d chain.Deriver) {
	t.Helper()
	rows := 0
	for _, v := range vectors.Derivations() {
		if v.Chain != code {
			continue
		}
		switch v.Kind {
		case "mnemonic", "mnemonic-sol":
			if len(v.Indices) == 0 {
				t.Errorf("%s testnet=%v mnemonic row without indices", code, v.Testnet)
				continue
			}
			mnemonicRow(t, d, v)
		case "secret":
			key := v.Secret
			if key == "" {
				key = v.PrivateKey
			}
			got, err := d.AddressFromPrivateKey(key, v.Testnet)
			if err != nil || got != v.Address {
				t.Errorf("%s testnet=%v secret row: address %q err %v, want %q", code, v.Testnet, got, err, v.Address)
			}
		default:
			t.Errorf("%s: unknown vector kind %q", code, v.Kind)
			continue
		}
		rows++
	}
	want := vectors.CountRows("derivation", code)
	if want == 0 {
		t.Fatalf("%s: no derivation vectors", code)
	}
	if rows != want {
		t.Fatalf("%s: checked %d derivation rows, the vector file holds %d", code, rows, want)
	}
}

func mnemonicRow(t *testing.T, d chain.Deriver, v vectors.Derivation) {
	t.Helper()
	name := v.Chain + " " + strings.Join(strings.Fields(v.Mnemonic)[:2], " ")
	if v.Testnet {
		name += " testnet"
	}
	seed, err := chain.Seed(v.Mnemonic)
	if err != nil {
		t.Fatalf("%s: seed: %v", name, err)
	}
	xpub, err := d.XPub(seed, v.Testnet)
	switch {
	case v.XPub == nil:
		if !errors.Is(err, chain.ErrNoXPub) {
			t.Errorf("%s: XPub = %q, %v; want ErrNoXPub", name, xpub, err)
		}
		if _, err := d.AddressFromXPub("xpub", 0, v.Testnet); !errors.Is(err, chain.ErrNoXPub) {
			t.Errorf("%s: AddressFromXPub err = %v; want ErrNoXPub", name, err)
		}
	case err != nil || xpub != *v.XPub:
		t.Errorf("%s: xpub %q err %v, want %q", name, xpub, err, *v.XPub)
	}
	for _, ix := range v.Indices {
		if v.XPub != nil {
			if a, err := d.AddressFromXPub(*v.XPub, ix.Index, v.Testnet); err != nil || a != ix.Address {
				t.Errorf("%s/%d: address from xpub %q err %v, want %q", name, ix.Index, a, err, ix.Address)
			}
		}
		if a, err := d.AddressFromSeed(seed, ix.Index, v.Testnet); err != nil || a != ix.Address {
			t.Errorf("%s/%d: address from seed %q err %v, want %q", name, ix.Index, a, err, ix.Address)
		}
		k, err := d.PrivateKey(seed, ix.Index, v.Testnet)
		if err != nil || k != ix.PrivateKey {
			// The key is a public test vector, so printing its digest is harmless but unneeded.
			t.Errorf("%s/%d: private key mismatch (sha256 %x) err %v", name, ix.Index, sha256.Sum256([]byte(k)), err)
		}
		if a, err := d.AddressFromPrivateKey(ix.PrivateKey, v.Testnet); err != nil || a != ix.Address {
			t.Errorf("%s/%d: address from private key %q err %v, want %q", name, ix.Index, a, err, ix.Address)
		}
	}
	if _, err := d.AddressFromSeed(seed, chain.MaxIndex+1, v.Testnet); err == nil {
		t.Errorf("%s: index 2^31 accepted", name)
	}
}

// Keys checks the key contract: generated keys are valid and distinct, and
// every bad key is refused with ErrInvalidKey, without echoing it.
func Keys(t *testing.T, d chain.Deriver, bad []string) {
	t.Helper()
	for _, testnet := range []bool{false, true} {
		seen := map[string]bool{}
		for i := range 4 {
			// A fixed stream per draw keeps the test deterministic.
			src := bytes.NewReader(bytes.Repeat([]byte{byte(i + 1), 0x5a, byte(i * 7)}, 64))
			k, err := d.GeneratePrivateKey(src, testnet)
			if err != nil {
				t.Fatalf("GeneratePrivateKey: %v", err)
			}
			if seen[k] {
				t.Fatalf("GeneratePrivateKey repeated a key")
			}
			seen[k] = true
			if _, err := d.AddressFromPrivateKey(k, testnet); err != nil {
				t.Errorf("generated key refused: %v", err)
			}
		}
		if _, err := d.GeneratePrivateKey(bytes.NewReader(nil), testnet); err == nil {
			t.Error("GeneratePrivateKey with an empty random source succeeded")
		}
	}
	for _, b := range bad {
		_, err := d.AddressFromPrivateKey(b, false)
		if !errors.Is(err, chain.ErrInvalidKey) {
			t.Errorf("bad key #%d: err = %v, want ErrInvalidKey", len(b), err)
			continue
		}
		if len(b) > 4 && strings.Contains(err.Error(), b) {
			t.Errorf("error text quotes the key")
		}
	}
}

// KeypairMnemonic checks that a keypair chain refuses every mnemonic method.
func KeypairMnemonic(t *testing.T, d chain.Deriver) {
	t.Helper()
	seed, _ := chain.Seed("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about")
	if _, err := d.XPub(seed, false); !errors.Is(err, chain.ErrNoXPub) || !errors.Is(err, chain.ErrKeypairWallet) {
		t.Errorf("XPub err = %v", err)
	}
	if _, err := d.AddressFromXPub("xpub", 0, false); !errors.Is(err, chain.ErrNoXPub) {
		t.Errorf("AddressFromXPub err = %v", err)
	}
	if _, err := d.AddressFromSeed(seed, 0, false); !errors.Is(err, chain.ErrKeypairWallet) {
		t.Errorf("AddressFromSeed err = %v", err)
	}
	if _, err := d.PrivateKey(seed, 0, false); !errors.Is(err, chain.ErrKeypairWallet) {
		t.Errorf("PrivateKey err = %v", err)
	}
}

// Validator checks v accepts every signing vector of the chain on its network
// and refuses each garbage input with an error wrapping ErrInvalidTx (or
// ErrWrongNetwork), never a panic.
func Validator(t *testing.T, code string, v chain.TxValidator, garbage []string) {
	t.Helper()
	rows := vectors.SigningFor(code)
	if len(rows) == 0 {
		t.Fatalf("%s: no signing vectors", code)
	}
	for _, r := range rows {
		if err := v.ValidateTx(r.PendingTransaction.SerializedTransaction, r.Testnet); err != nil {
			t.Errorf("%s %s testnet=%v vector %s refused: %v", code, r.Format, r.Testnet, r.PendingTransaction.ID, err)
		}
	}
	for i, g := range garbage {
		for _, testnet := range []bool{false, true} {
			err := v.ValidateTx(g, testnet)
			if err == nil {
				t.Errorf("%s garbage #%d (%.60q) accepted", code, i, g)
			} else if !errors.Is(err, chain.ErrInvalidTx) && !errors.Is(err, chain.ErrWrongNetwork) {
				t.Errorf("%s garbage #%d: err %v wraps neither ErrInvalidTx nor ErrWrongNetwork", code, i, err)
			}
		}
	}
}

// CommonGarbage is refused by every chain's validator.
var CommonGarbage = []string{
	"", " ", "null", "{}", "[]", "0x", "garbage", "{\"a\":1", "\x00\x01\x02", "\"str\"", "42",
}

// SigningRows returns the signing vectors of a chain code and fails the test
// when there are none, so a suite never passes over an empty table.
func SigningRows(t testing.TB, code string) []vectors.Signing {
	t.Helper()
	r := vectors.SigningFor(code)
	if len(r) == 0 {
		t.Fatalf("no %s signing vectors", code)
	}
	return r
}

// VectorKey is the private key a signing vector's first wallet resolves to:
// a mnemonic wallet's key at its index, or the stored secret.
func VectorKey(r vectors.Signing) string {
	if k := r.Keys[0]; k.Type == "mnemonic" {
		return k.DerivedPrivateKey
	}
	return r.Keys[0].Secret
}

// Expected is the expected block of a signing vector.
type Expected struct {
	Signed string `json:"signed"`
	TxID   string `json:"txId"`
	From   string `json:"from"`
}

// SignVectors signs every signing vector of code with s (the transaction as
// serialized gives it, the vector's network, the key as key gives it; nil
// means VectorKey) and checks txData and txId byte for byte against the
// vector. check, the package's verification by an independent route, then
// runs on every row that signed.
func SignVectors(t *testing.T, code string, s chain.Signer, serialized, key func(vectors.Signing) string,
	check func(t *testing.T, r vectors.Signing, req chain.SignRequest, want Expected, got chain.Signed)) {
	t.Helper()
	if key == nil {
		key = VectorKey
	}
	for _, r := range SigningRows(t, code) {
		var want Expected
		if err := json.Unmarshal(r.Expected, &want); err != nil {
			t.Fatal(err)
		}
		req := chain.SignRequest{Serialized: serialized(r), Testnet: r.Testnet, Keys: []string{key(r)}}
		got, err := s.Sign(context.Background(), req)
		if err != nil {
			t.Errorf("%s %s: %v", r.Format, r.PendingTransaction.ID, err)
			continue
		}
		if got.TxData != want.Signed || got.TxID != want.TxID {
			t.Errorf("%s %s:\n got %s %s\nwant %s %s", r.Format, r.PendingTransaction.ID, got.TxData, got.TxID, want.Signed, want.TxID)
		}
		check(t, r, req, want, got)
	}
}

// AsGiven is the serialized transaction of a vector as it stands.
func AsGiven(r vectors.Signing) string { return r.PendingTransaction.SerializedTransaction }

// Broadcaster is a node client (broadcast.Client, which this package cannot
// import: the chain packages' own tests import this one).
type Broadcaster interface {
	Broadcast(ctx context.Context, txData string) (string, error)
}

// SignAndBroadcast signs req with s and submits the result to node, failing
// the test unless the node takes it under the id the signer computed.
func SignAndBroadcast(t testing.TB, s chain.Signer, node Broadcaster, req chain.SignRequest) {
	t.Helper()
	signed, err := s.Sign(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	id, err := node.Broadcast(context.Background(), signed.TxData)
	if err != nil || id != signed.TxID {
		t.Fatalf("broadcast: %s, %v (signed %s)", id, err, signed.TxID)
	}
}

// FillerChain is what a chain with fillers for freed sequences implements.
type FillerChain interface {
	chain.Filler
	chain.TxValidator
	chain.Sequencer
	chain.Completer
}

// Filler builds c's filler of sender at seq, checks that it validates and
// carries sender and seq, and returns it completed from node (the chain
// package's node double), ready for the caller to sign and inspect.
func Filler(t *testing.T, c FillerChain, sender string, seq uint64, testnet bool, node any) string {
	t.Helper()
	f, err := c.Filler(sender, seq)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ValidateTx(f, testnet); err != nil {
		t.Fatalf("ValidateTx(%s): %v", f, err)
	}
	if s, got, err := c.Sequence(f, testnet); err != nil || s != sender || got == nil || *got != seq {
		t.Fatalf("Sequence(%s) = %s, %v, %v", f, s, got, err)
	}
	done, err := c.CompleteFromNode(context.Background(), node, f, testnet)
	if err != nil {
		t.Fatalf("CompleteFromNode(%s): %v", f, err)
	}
	return done
}
