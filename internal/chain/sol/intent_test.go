package sol

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/btcsuite/btcd/btcutil/base58"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

// The transfers of each SOL vector's message, read from its bytes outside Go
// (header, account keys, then each instruction's program, accounts and
// little-endian lamports), independently of the parser Intent uses.
var solVectorTransfers = map[string][]intent.Transfer{
	"827fcbce7426a6635c3ae6cd": {{To: "CU5ESLwdo4og5Pkb1rPsVBwx6UQqKRkg23k9L581AxZ1", Amount: "1000"}},
	"126558f361aaf7150061f8ff": {
		{To: "4P8yYXBHXPRjLQUxSGekZYGR35xHxep1RUR4TQv3qXR4", Amount: "2001"},
		{To: "4P8yYXBHXPRjLQUxSGekZYGR35xHxep1RUR4TQv3qXR4", Amount: "777"},
	},
}

// Each SOL vector's signers are the vector's own expected signers, in order;
// its transfers are as read by hand; the fee is 5000 lamports a signature.
func TestIntentVectors(t *testing.T) {
	chaintest.IntentVectors(t, "SOL", SOL, nil, nil, func(t *testing.T, r vectors.Signing, got intent.Intent) {
		name := r.PendingTransaction.ID
		want := exp(t, r)
		if len(got.Signers) != len(want.Signers) {
			t.Fatalf("%s: signers %q, want %q", name, got.Signers, want.Signers)
		}
		for i := range want.Signers {
			if got.Signers[i] != want.Signers[i] {
				t.Errorf("%s: signer %d %s, want %s", name, i, got.Signers[i], want.Signers[i])
			}
		}
		chaintest.WantTransfers(t, name, got.Transfers, solVectorTransfers[name])
		fee := map[int]string{1: "5000", 2: "10000"}[len(want.Signers)]
		if got.Fee == nil || got.Fee.Max != fee || len(got.Calls) != 0 {
			t.Errorf("%s: fee %+v calls %+v", name, got.Fee, got.Calls)
		}
	})
}

// A compute-budget price and limit add the priority fee (2 000 000
// micro-lamports × 300 000 units = 600 000 lamports); another program's
// instruction is a call; the Tatum form reads the same message; an unfilled
// blockhash is refused as Sign refuses it.
func TestIntentBudgetAndCalls(t *testing.T) {
	payer := bytes.Repeat([]byte{7}, 32)
	to := bytes.Repeat([]byte{8}, 32)
	memo := base58.Decode("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr")
	msg := []byte{1, 0, 3, 5}
	for _, k := range [][]byte{payer, to, make([]byte, 32), computeBudgetProgram, memo} {
		msg = append(msg, k...)
	}
	msg = append(msg, bytes.Repeat([]byte{9}, 32)...) // recent blockhash
	msg = append(msg, 4)
	transfer := binary.LittleEndian.AppendUint64([]byte{2, 0, 0, 0}, 1234)
	msg = append(append(msg, 2, 2, 0, 1, byte(len(transfer))), transfer...)
	msg = append(append(msg, 3, 0, 5), binary.LittleEndian.AppendUint32([]byte{budgetSetLimit}, 300_000)...)
	msg = append(append(msg, 3, 0, 9), binary.LittleEndian.AppendUint64([]byte{budgetSetPrice}, 2_000_000)...)
	msg = append(msg, 4, 0, 2, 'h', 'i')
	for _, ser := range []string{base64.StdEncoding.EncodeToString(msg), `{"txData":"` + hex.EncodeToString(msg) + `"}`} {
		got, err := SOL.Intent(ser, true)
		if err != nil {
			t.Fatal(err)
		}
		chaintest.WantTransfers(t, "budget", got.Transfers, []intent.Transfer{{To: base58.Encode(to), Amount: "1234"}})
		chaintest.WantFee(t, "budget", got.Fee, intent.Fee{Max: "605000", GasPrice: "2000000", GasLimit: "300000"})
		if len(got.Calls) != 1 || got.Calls[0] != (intent.Call{Contract: base58.Encode(memo), Data: base58.Encode([]byte("hi"))}) {
			t.Errorf("calls %+v", got.Calls)
		}
	}
	copy(msg[4+32*5:], make([]byte, 32))
	if _, err := SOL.Intent(base64.StdEncoding.EncodeToString(msg), true); err == nil {
		t.Error("unfilled blockhash decoded")
	}
}

func FuzzIntent(f *testing.F) { chaintest.FuzzIntent(f, SOL, chaintest.Seeds("SOL")...) }
