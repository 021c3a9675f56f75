package chaintest

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/vectors"
)

// IntentVectors decodes every signing vector of code with c (the transaction
// as serialized gives it: a Tatum row completed with its node answers where
// the signer needs them) and checks what every chain shares: the chain code,
// the vector's network, and the vector's expected sender among the signers
// unless the transaction leaves the sender to the key (noSigner). check then
// compares the intent with the row's own fields; it must fail the test on
// any difference. Rows that fail to decode fail the test.
func IntentVectors(t *testing.T, code string, c chain.Intender, serialized func(vectors.Signing) string,
	noSigner func(vectors.Signing) bool, check func(t *testing.T, r vectors.Signing, got intent.Intent)) {
	t.Helper()
	if serialized == nil {
		serialized = AsGiven
	}
	for _, r := range SigningRows(t, code) {
		name := r.Format + " " + r.PendingTransaction.ID
		got, err := c.Intent(serialized(r), r.Testnet)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got.Chain != code || got.Network != chain.NetworkName(r.Testnet) {
			t.Errorf("%s: chain %q network %q", name, got.Chain, got.Network)
		}
		var want Expected
		if err := json.Unmarshal(r.Expected, &want); err != nil {
			t.Fatal(err)
		}
		if noSigner == nil || !noSigner(r) {
			if !slices.Contains(got.Signers, want.From) {
				t.Errorf("%s: signers %q lack the vector's sender %s", name, got.Signers, want.From)
			}
		}
		check(t, r, got)
	}
}

// WantTransfers fails unless got are exactly want, in order.
func WantTransfers(t *testing.T, name string, got, want []intent.Transfer) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: transfers\n got %+v\nwant %+v", name, got, want)
	}
}

// WantFee fails unless got carries the maximum (and, where given, the gas
// limit and price) of want.
func WantFee(t *testing.T, name string, got *intent.Fee, want intent.Fee) {
	t.Helper()
	if got == nil || *got != want {
		t.Errorf("%s: fee %+v, want %+v", name, got, want)
	}
}

// WantSequence fails unless got is want.
func WantSequence(t *testing.T, name string, got *uint64, want uint64) {
	t.Helper()
	if got == nil || *got != want {
		t.Errorf("%s: sequence %v, want %d", name, got, want)
	}
}

// IntentRefusesNetwork checks that c refuses serialized on the network it is
// not for with an error wrapping ErrWrongNetwork, and decodes it on its own.
func IntentRefusesNetwork(t *testing.T, c chain.Intender, serialized string, testnet bool) {
	t.Helper()
	if _, err := c.Intent(serialized, testnet); err != nil {
		t.Fatalf("own network (testnet=%v): %v", testnet, err)
	}
	if _, err := c.Intent(serialized, !testnet); !errors.Is(err, chain.ErrWrongNetwork) {
		t.Errorf("other network (testnet=%v): err %v, want ErrWrongNetwork", !testnet, err)
	}
}

// FuzzIntent feeds c the seeds and whatever the fuzzer derives from them on
// both networks: c must never panic, and every error must wrap ErrInvalidTx
// or ErrWrongNetwork, as Sign's do for the same input.
func FuzzIntent(f *testing.F, c chain.Intender, seeds ...string) {
	fuzzDecode(f, c.Intent, seeds)
}

// fuzzDecode is FuzzIntent for any decoder of transactions into intents.
func fuzzDecode(f *testing.F, decode func(string, bool, ...uint64) (intent.Intent, error), seeds []string) {
	for _, s := range append(seeds, CommonGarbage...) {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, testnet bool) {
		in, err := decode(s, testnet)
		if err != nil {
			if !errors.Is(err, chain.ErrInvalidTx) && !errors.Is(err, chain.ErrWrongNetwork) {
				t.Fatalf("error %v wraps neither ErrInvalidTx nor ErrWrongNetwork", err)
			}
			return
		}
		if in.Chain == "" || in.Network != chain.NetworkName(testnet) {
			t.Fatalf("decoded intent without chain or network: %+v", in)
		}
	})
}

// Seeds are the serialized transactions of code's signing vectors, for a fuzz corpus.
func Seeds(code string) []string {
	var out []string
	for _, r := range vectors.SigningFor(code) {
		out = append(out, r.PendingTransaction.SerializedTransaction)
	}
	return out
}
