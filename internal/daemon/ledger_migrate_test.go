package daemon

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// A ledger left at any earlier schema version by an older build is brought
// to the newest in one open, its rows kept.
func TestLedgerMigratesFromEachVersion(t *testing.T) {
	for from := 1; from < len(ledgerMigrations); from++ {
		path := filepath.Join(t.TempDir(), "l.db")
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ledgerMigrations[:from] {
			if _, err := db.Exec(m); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, from)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO signed (id, chain, tx_data, tx_id, signed_at) VALUES ('a', 'ETH', '0x01', '0x02', 1)`); err != nil {
			t.Fatal(err)
		}
		db.Close()

		l, err := OpenLedger(path)
		if err != nil {
			t.Fatalf("from version %d: %v", from, err)
		}
		var v int
		if err := l.db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != len(ledgerMigrations) {
			t.Fatalf("from version %d: now %d (%v), want %d", from, v, err, len(ledgerMigrations))
		}
		got, err := l.Lookup(t.Context(), []string{"a"})
		if err != nil || got["a"].TxData != "0x01" {
			t.Fatalf("from version %d: the signed row is %+v (%v)", from, got, err)
		}
		if _, err := l.db.Exec(`INSERT INTO spent (id, rule, asset, amount, at_ms) VALUES ('a', 'r', 'ETH', '1', 1)`); err != nil {
			t.Fatalf("from version %d: the newest table: %v", from, err)
		}
		l.Close()
	}
}
