package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/custoskms/custos/internal/approver"
	"github.com/custoskms/custos/internal/approver/sqlite"
	"github.com/custoskms/custos/internal/approver/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) approver.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "approver.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
