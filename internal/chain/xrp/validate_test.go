package xrp

import (
	"testing"

	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

func garbage() []string {
	return append([]string{
		`{"TransactionType":"Payment"}`,
		`{"Account":"rpcarNiA2z3umf6WaaJzkVxwKPaZphhYr1"}`,
		`{"TransactionType":"Payment","Account":"rpcarNiA2z3umf6WaaJzkVxwKPaZphhYr2"}`,
		`{"TransactionType":"Pay ment","Account":"rpcarNiA2z3umf6WaaJzkVxwKPaZphhYr1"}`,
		`{"TransactionType":"Payment","Account":"rpcarNiA2z3umf6WaaJzkVxwKPaZphhYr1","Fee":12}`,
		`{"TransactionType":"Payment","Account":"rpcarNiA2z3umf6WaaJzkVxwKPaZphhYr1","Sequence":-1}`,
		`{"TransactionType":"Payment","Account":"rpcarNiA2z3umf6WaaJzkVxwKPaZphhYr1","Sequence":4294967296}`,
		`{"TransactionType":"Payment","Account":"rpcarNiA2z3umf6WaaJzkVxwKPaZphhYr1","Destination":"x"}`,
	}, chaintest.CommonGarbage...)
}

func TestValidateTx(t *testing.T) { chaintest.Validator(t, "XRP", XRP, garbage()) }

func FuzzValidateTx(f *testing.F) {
	for _, r := range vectors.SigningFor("XRP") {
		f.Add(r.PendingTransaction.SerializedTransaction)
	}
	for _, g := range garbage() {
		f.Add(g)
	}
	f.Fuzz(func(t *testing.T, s string) { _ = XRP.ValidateTx(s, false) })
}
