package pending

import (
	"encoding/hex"
	"testing"
	"time"
)

func TestNewIDShapeAndUniqueness(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		id := NewID()
		if len(id) != 24 {
			t.Fatalf("id %q: len %d", id, len(id))
		}
		if _, err := hex.DecodeString(id); err != nil || id != lower(id) {
			t.Fatalf("id %q is not lowercase hex", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func TestNewIDStartsWithTime(t *testing.T) {
	at := time.Unix(0x65000000, 0)
	if id := newIDAt(at); id[:8] != "65000000" {
		t.Fatalf("id %q does not start with the time", id)
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}
