package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
)

// TestGroupWriteEnds: a write whose caller gave up before it was queued is
// not run, and one after Close is refused, not lost in a queue no one reads.
func TestGroupWriteEnds(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	ran := false
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err = s.group.write(ctx, func(context.Context, *sql.Tx) error { ran = true; return nil })
	if !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("a write whose caller gave up: %v, ran %v", err, ran)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	err = s.group.write(t.Context(), func(context.Context, *sql.Tx) error { ran = true; return nil })
	if !errors.Is(err, errClosed) || ran {
		t.Fatalf("a write after Close: %v, ran %v", err, ran)
	}
}
