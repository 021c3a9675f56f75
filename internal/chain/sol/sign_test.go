package sol

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"

	solana "github.com/gagliardetto/solana-go"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

type expected struct {
	Signed  string   `json:"signed"`
	TxID    string   `json:"txId"`
	From    string   `json:"from"`
	Signers []string `json:"signers"`
}

func rows(t testing.TB) []vectors.Signing { return chaintest.SigningRows(t, "SOL") }

func secrets(r vectors.Signing) []string {
	var out []string
	for _, k := range r.Keys {
		out = append(out, k.Secret)
	}
	return out
}

func exp(t testing.TB, r vectors.Signing) expected {
	var e expected
	if err := json.Unmarshal(r.Expected, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func sign(ser string, testnet bool, keys ...string) (chain.Signed, error) {
	return SOL.Sign(context.Background(), chain.SignRequest{Serialized: ser, Testnet: testnet, Keys: keys})
}

// Every SOL signing vector (native format; Tatum's SOL format has no offline
// reference output, see TestTatumForm), byte for byte, then checked again with
// solana-go: its parser reads the wire transaction, its verifier accepts
// every signature, and its own signer gives the same bytes.
func TestSignVectors(t *testing.T) {
	for _, r := range rows(t) {
		e := exp(t, r)
		got, err := sign(r.PendingTransaction.SerializedTransaction, r.Testnet, secrets(r)...)
		if err != nil {
			t.Fatalf("%s: %v", r.PendingTransaction.ID, err)
		}
		if got.TxData != e.Signed || got.TxID != e.TxID {
			t.Errorf("%s: got %s / %s\nwant %s / %s", r.PendingTransaction.ID, got.TxData, got.TxID, e.Signed, e.TxID)
		}
		// Keys in reverse order give the same transaction: signatures follow account order.
		rev := secrets(r)
		for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
			rev[i], rev[j] = rev[j], rev[i]
		}
		if again, err := sign(r.PendingTransaction.SerializedTransaction, !r.Testnet, rev...); err != nil || again != got {
			t.Errorf("%s: reversed keys or other network changed the output (%v)", r.PendingTransaction.ID, err)
		}

		tx, err := solana.TransactionFromBase64(got.TxData)
		if err != nil {
			t.Fatalf("solana-go cannot parse the output: %v", err)
		}
		if err := tx.VerifySignatures(); err != nil {
			t.Errorf("solana-go: %v", err)
		}
		if tx.Message.AccountKeys[0].String() != e.From || tx.Signatures[0].String() != e.TxID {
			t.Errorf("solana-go: fee payer %s, first signature %s", tx.Message.AccountKeys[0], tx.Signatures[0])
		}
		vault := map[solana.PublicKey]solana.PrivateKey{}
		for _, s := range secrets(r) {
			k := solana.MustPrivateKeyFromBase58(s)
			vault[k.PublicKey()] = k
		}
		tx.Signatures = nil
		if _, err := tx.Sign(func(p solana.PublicKey) *solana.PrivateKey {
			if k, ok := vault[p]; ok {
				return &k
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if ref, _ := tx.MarshalBinary(); base64.StdEncoding.EncodeToString(ref) != got.TxData {
			t.Errorf("solana-go signs %s differently", r.PendingTransaction.ID)
		}
	}
}

// Tatum's {"txData": hex message} is signed as given, keeping the message's
// recentBlockhash (Tatum's SDK would fetch a fresh one and broadcast itself):
// the output is the native form's for the same message. mintPK is an extra
// signer carried in the transaction.
func TestTatumForm(t *testing.T) {
	for _, r := range rows(t) {
		e := exp(t, r)
		msg, _ := base64.StdEncoding.DecodeString(r.PendingTransaction.SerializedTransaction)
		tatum := `{"txData":"` + hex.EncodeToString(msg) + `"}`
		got, err := sign(tatum, r.Testnet, secrets(r)...)
		if err != nil || got.TxData != e.Signed || got.TxID != e.TxID {
			t.Errorf("%s Tatum form: %v", r.PendingTransaction.ID, err)
		}
		if len(r.Keys) < 2 {
			continue
		}
		withMint := `{"txData":"` + hex.EncodeToString(msg) + `","mintPK":"` + r.Keys[1].Secret + `"}`
		if got, err := sign(withMint, r.Testnet, r.Keys[0].Secret); err != nil || got.TxData != e.Signed {
			t.Errorf("%s with mintPK: %v", r.PendingTransaction.ID, err)
		}
		// mintPK never stands in for the fee payer: the payer must be a managed wallet.
		payerAsMint := `{"txData":"` + hex.EncodeToString(msg) + `","mintPK":"` + r.Keys[0].Secret + `"}`
		if _, err := sign(payerAsMint, r.Testnet, r.Keys[1].Secret); !errors.Is(err, chain.ErrWrongSigner) {
			t.Errorf("fee payer only in mintPK: err %v", err)
		}
		if _, err := sign(`{"txData":"`+hex.EncodeToString(msg)+`","mintPK":"xyz"}`, r.Testnet, secrets(r)...); !errors.Is(err, chain.ErrInvalidTx) {
			t.Errorf("bad mintPK: err %v", err)
		}
	}
}

func TestSignRefusesOtherSigners(t *testing.T) {
	one, two := rows(t)[0], rows(t)[1]
	if len(one.Keys) != 1 || len(two.Keys) != 2 {
		t.Fatal("vector layout changed")
	}
	// A wallet that is not the fee payer.
	if _, err := sign(one.PendingTransaction.SerializedTransaction, false, two.Keys[1].Secret); !errors.Is(err, chain.ErrWrongSigner) {
		t.Errorf("foreign key: err %v", err)
	}
	// The fee payer plus a wallet the message does not name.
	if _, err := sign(one.PendingTransaction.SerializedTransaction, false, one.Keys[0].Secret, two.Keys[1].Secret); !errors.Is(err, chain.ErrWrongSigner) {
		t.Errorf("extra key: err %v", err)
	}
	// A required signer without its key.
	if _, err := sign(two.PendingTransaction.SerializedTransaction, false, two.Keys[0].Secret); !errors.Is(err, chain.ErrWrongSigner) {
		t.Errorf("missing second signer: err %v", err)
	}
	if _, err := sign(one.PendingTransaction.SerializedTransaction, false); !errors.Is(err, chain.ErrInvalidKey) {
		t.Errorf("no key: err %v", err)
	}
	if _, err := sign(one.PendingTransaction.SerializedTransaction, false, "0xdead"); !errors.Is(err, chain.ErrInvalidKey) {
		t.Errorf("bad key: err %v", err)
	}
	for _, g := range garbage(t) {
		if _, err := sign(g, false, one.Keys[0].Secret); !errors.Is(err, chain.ErrInvalidTx) {
			t.Errorf("garbage %.40q: err %v", g, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := SOL.Sign(ctx, chain.SignRequest{Serialized: one.PendingTransaction.SerializedTransaction, Keys: secrets(one)}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err %v", err)
	}
}

func FuzzSign(f *testing.F) {
	key := rows(f)[0].Keys[0].Secret
	for _, r := range rows(f) {
		f.Add(r.PendingTransaction.SerializedTransaction)
	}
	for _, g := range garbage(f) {
		f.Add(g)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := sign(s, false, key)
		if err == nil {
			if _, perr := solana.TransactionFromBase64(got.TxData); perr != nil {
				t.Fatalf("signed output does not parse: %v", perr)
			}
			return
		}
		if !errors.Is(err, chain.ErrInvalidTx) && !errors.Is(err, chain.ErrWrongSigner) {
			t.Fatalf("error %v wraps neither ErrInvalidTx nor ErrWrongSigner", err)
		}
	})
}
