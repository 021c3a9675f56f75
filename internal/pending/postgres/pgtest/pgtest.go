// Package pgtest gives tests a PostgreSQL database of their own. The server is
// named by CUSTOS_TEST_POSTGRES (postgres://…; scripts/test starts a
// throwaway cluster and sets it). Without it a test skips, except under
// CI=true, where a missing database is a failure rather than a silent skip.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the server the tests use.
const EnvVar = "CUSTOS_TEST_POSTGRES"

// ServerURL returns the configured server's URL, or skips (fails under CI=true).
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvVar)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: the PostgreSQL tests must run in CI (scripts/test starts a cluster)", EnvVar)
		}
		t.Skipf("%s is not set: skipping the PostgreSQL tests (scripts/test starts a throwaway cluster and sets it)", EnvVar)
	}
	return u
}

// NewSchema creates an empty schema on the configured server, dropped when
// the test ends, and returns a URL whose connections use it (search_path).
func NewSchema(t testing.TB) string {
	t.Helper()
	u, name := createSchema(t, "t_")
	base := ServerURL(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, base); err == nil {
			_, _ = c.Exec(ctx, "DROP SCHEMA "+name+" CASCADE")
			c.Close(ctx)
		}
	})
	return u
}

// CreateSchema creates an empty schema on the configured server and returns
// a URL whose connections use it. Unlike NewSchema it is not dropped: for
// data built once per process (benchmarks), which the throwaway cluster of
// scripts/test takes with it.
func CreateSchema(t testing.TB) string {
	t.Helper()
	u, _ := createSchema(t, "b_")
	return u
}

// createSchema creates a schema named prefix + random hex and returns a URL
// whose connections use it, and its name.
func createSchema(t testing.TB, prefix string) (string, string) {
	t.Helper()
	base := ServerURL(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := prefix + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvVar, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s is not a URL", EnvVar)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String(), name
}
