package broadcast

import (
	"context"
	"errors"
	"testing"
)

// lookupOf asks tr about txID with the given signed bytes, failing the test
// on an error.
func lookupOf(t *testing.T, tr Tracker, txID string) func(txData string) Outcome {
	return func(txData string) Outcome {
		t.Helper()
		o, err := tr.Lookup(context.Background(), txID, txData)
		if err != nil {
			t.Fatalf("Lookup: %v", err)
		}
		return o
	}
}

// untrusted installs each named answer with set and wants the look-up to
// call the node unavailable rather than believe it.
func untrusted(t *testing.T, tr Tracker, txID, txData string, set func(string), answers map[string]string) {
	t.Helper()
	for name, a := range answers {
		set(a)
		if _, err := tr.Lookup(context.Background(), txID, txData); !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: %v, want ErrUnavailable", name, err)
		}
	}
}
