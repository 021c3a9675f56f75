package chaintest

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/vectors"
)

// SignedChain decodes both the transactions it signs and what it returns signed.
type SignedChain interface {
	chain.Intender
	chain.SignedIntender
}

// SignedIntentVectors decodes the signed transaction of every signing vector
// of code with SignedIntent and the pending one (as serialized gives it; nil
// means AsGiven) with Intent, and fails unless both say the same
// (SameEffect) and the signed one names the vector's sender among its
// signers. check then runs on each row with the signed intent, for the
// package's own checks (its signers, tampered copies).
func SignedIntentVectors(t *testing.T, code string, c SignedChain, serialized func(vectors.Signing) string,
	check func(t *testing.T, r vectors.Signing, want Expected, got intent.Intent)) {
	t.Helper()
	if serialized == nil {
		serialized = AsGiven
	}
	for _, r := range SigningRows(t, code) {
		name := r.Format + " " + r.PendingTransaction.ID
		var want Expected
		if err := json.Unmarshal(r.Expected, &want); err != nil {
			t.Fatal(err)
		}
		unsigned, err := c.Intent(serialized(r), r.Testnet)
		if err != nil {
			t.Errorf("%s: Intent: %v", name, err)
			continue
		}
		signed, err := c.SignedIntent(want.Signed, r.Testnet)
		if err != nil {
			t.Errorf("%s: SignedIntent: %v", name, err)
			continue
		}
		SameEffect(t, name, signed, unsigned)
		if want.From != "" && !slices.Contains(signed.Signers, want.From) {
			t.Errorf("%s: signers %q lack the vector's sender %s", name, signed.Signers, want.From)
		}
		check(t, r, want, signed)
	}
}

// WantSigners fails unless got are exactly want, in order.
func WantSigners(t testing.TB, name string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: signers %q, want %q", name, got, want)
	}
}

// SameEffect fails unless got and want agree on all but their signers: the
// chain and network, chain id, transfers, calls, fee, sequence and memo.
func SameEffect(t testing.TB, name string, got, want intent.Intent) {
	t.Helper()
	g, w := normal(got), normal(want)
	g.Signers, w.Signers = nil, nil
	if !reflect.DeepEqual(g, w) {
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		t.Errorf("%s: signed intent differs from the queued one\n got %s\nwant %s", name, gj, wj)
	}
}

// normal writes empty lists as nil, so that an empty list and none compare equal.
func normal(in intent.Intent) intent.Intent {
	if len(in.Signers) == 0 {
		in.Signers = nil
	}
	if len(in.Transfers) == 0 {
		in.Transfers = nil
	}
	if len(in.Calls) == 0 {
		in.Calls = nil
	}
	return in
}

// WantTamperCaught fails unless SignedIntent refuses each variant of a
// signed transaction (with an error wrapping ErrInvalidTx or
// ErrWrongNetwork) or decodes it into an intent other than orig, signers
// included: a changed signed transaction never passes for the queued one.
func WantTamperCaught(t testing.TB, c chain.SignedIntender, name string, variants []string, testnet bool, orig intent.Intent) {
	t.Helper()
	if len(variants) == 0 {
		t.Fatalf("%s: no tampered variants", name)
	}
	for i, v := range variants {
		got, err := c.SignedIntent(v, testnet)
		if err != nil {
			if !errors.Is(err, chain.ErrInvalidTx) && !errors.Is(err, chain.ErrWrongNetwork) {
				t.Errorf("%s variant %d: error %v wraps neither ErrInvalidTx nor ErrWrongNetwork", name, i, err)
			}
			continue
		}
		if reflect.DeepEqual(normal(got), normal(orig)) {
			t.Errorf("%s variant %d (%.80q…) decodes to the untampered intent", name, i, v)
		}
	}
}

// ByteFlips is raw with each byte in turn changed (its lowest bit flipped),
// each encoded with encode: every one-byte change of a binary signed
// transaction.
func ByteFlips(raw []byte, encode func([]byte) string) []string {
	out := make([]string, 0, len(raw))
	for i := range raw {
		b := slices.Clone(raw)
		b[i] ^= 1
		out = append(out, encode(b))
	}
	return out
}

// FuzzSignedIntent feeds c the seeds and whatever the fuzzer derives from
// them on both networks: c must never panic, and every error must wrap
// ErrInvalidTx or ErrWrongNetwork.
func FuzzSignedIntent(f *testing.F, c chain.SignedIntender, seeds ...string) {
	fuzzDecode(f, c.SignedIntent, seeds)
}

// SignedSeeds are the signed transactions of code's signing vectors, for a fuzz corpus.
func SignedSeeds(code string) []string {
	var out []string
	for _, r := range vectors.SigningFor(code) {
		var e Expected
		if json.Unmarshal(r.Expected, &e) == nil && e.Signed != "" {
			out = append(out, e.Signed)
		}
	}
	return out
}
