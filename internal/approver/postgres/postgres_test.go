package postgres_test

import (
	"testing"

	"github.com/custoskms/custos/internal/approver"
	"github.com/custoskms/custos/internal/approver/postgres"
	"github.com/custoskms/custos/internal/approver/storetest"
	"github.com/custoskms/custos/internal/pending/postgres/pgtest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) approver.Store {
		s, err := postgres.Open(t.Context(), pgtest.NewSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
