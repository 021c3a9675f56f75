package main

import (
	"strings"
	"testing"
)

func TestSignerID(t *testing.T) {
	a, err := signerID("")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := signerID("")
	if a == b || len(a) > 64 || signerSafe(a, 64) != a {
		t.Fatalf("random signer ids %q, %q: want distinct and valid", a, b)
	}
	if id, err := signerID("replica-1.dc:a"); err != nil || id != "replica-1.dc:a" {
		t.Fatalf("flag id = %q, %v", id, err)
	}
	for _, bad := range []string{"a b", strings.Repeat("x", 65), "é"} {
		if _, err := signerID(bad); err == nil {
			t.Errorf("signer id %q accepted", bad)
		}
	}
}
