package tron

import (
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

func garbage() []string {
	tx := vectors.SigningFor("TRON")[0].PendingTransaction.SerializedTransaction
	return append([]string{
		`{"raw_data":{}}`,
		`{"raw_data":{"contract":[]}}`,
		`{"raw_data_hex":"zz"}`,
		`{"visible":false,"txID":"00"}`,
		strings.Replace(tx, `"txID":"4`, `"txID":"5`, 1),                     // id no longer matches the raw data
		strings.Replace(tx, `"owner_address":"41`, `"owner_address":"42`, 1), // not a TRON address
		strings.Replace(tx, `"ref_block_bytes":"d12e"`, `"ref_block_bytes":"xyz"`, 1),
		tx + "{}",
	}, chaintest.CommonGarbage...)
}

func TestValidateTx(t *testing.T) { chaintest.Validator(t, "TRON", TRON, garbage()) }

func FuzzValidateTx(f *testing.F) {
	for _, r := range vectors.SigningFor("TRON") {
		f.Add(r.PendingTransaction.SerializedTransaction)
	}
	for _, g := range garbage() {
		f.Add(g)
	}
	f.Fuzz(func(t *testing.T, s string) { _ = TRON.ValidateTx(s, false) })
}
