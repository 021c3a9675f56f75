package storetest

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/pending"
)

// Seed is what the migration tests write with an older schema's own SQL, as
// an older build left it: a pending transaction with one hash, indexed by its
// key, and an API key (id KeyID, secret hash KeyHash) made before scopes.
var Seed = struct {
	Tenant, ID, SigID string
	KeyID             string
	KeyHash           [32]byte
}{"aaaaaaaaaaaaaaaaaaaaaaaa", "0123456789abcdef01234567", "00000000-0000-4000-8000-000000000001",
	"bbbbbbbbbbbbbbbbbbbbbbbb", sha256.Sum256([]byte("a key made before scopes"))}

// Versioned is a store that reports its migrated schema version.
type Versioned interface {
	pending.Store
	SchemaVersion(ctx context.Context) (int, error)
}

// CheckMigrated checks a store opened on a database seeded at an older
// version: it migrated to want, kept Seed, leases it to one signer only,
// allocates sequences, and can fail Seed (which holds none); Seed's API key
// holds every scope, as it could call every route before scopes existed.
func CheckMigrated(t *testing.T, s Versioned, want int) {
	t.Helper()
	ctx := context.Background()
	if v, err := s.SchemaVersion(ctx); err != nil || v != want {
		t.Fatalf("schema version %d, %v; want %d", v, err, want)
	}
	if k, err := s.KeyByHash(ctx, Seed.KeyHash); err != nil || k.ID != Seed.KeyID || k.Scopes != pending.AllScopes {
		t.Fatalf("the API key made before scopes = %+v, %v; want every scope (%s)", k, err, pending.AllScopes)
	}
	q := pending.PendingQuery{Tenant: Seed.Tenant, Chain: "ETH", SignatureIDs: []string{Seed.SigID},
		Claim: &pending.Claim{Signer: "s1", Lease: time.Minute}}
	got, err := s.Pending(ctx, q)
	if err != nil || len(got) != 1 || got[0].ID != Seed.ID {
		t.Fatalf("claim after migration = %+v, %v", got, err)
	}
	q.Claim.Signer = "s2"
	if got, err := s.Pending(ctx, q); err != nil || len(got) != 0 {
		t.Fatalf("second signer's claim = %+v, %v; want none", got, err)
	}
	if hole, err := s.Fail(ctx, Seed.Tenant, Seed.ID, "refused"); err != nil || hole != nil {
		t.Fatalf("Fail of the seeded tx = %+v, %v", hole, err)
	}
	if got, err := s.Pending(ctx, pending.PendingQuery{Tenant: Seed.Tenant, Chain: "ETH", SignatureIDs: []string{Seed.SigID}}); err != nil || len(got) != 0 {
		t.Fatalf("the failed seeded tx is still pending: %+v, %v", got, err)
	}
	_, seq := allocate(t, s, Seed.Tenant, seqKey, 4)
	wantSeq(t, "first allocation after migration", seq, 4)
}
