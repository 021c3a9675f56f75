package bnb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

// completed adds the account data the node answered (node_answers) to a
// Tatum-format vector, as the transaction must carry it for the signer.
func completed(t testing.TB, r vectors.Signing) string {
	var answers []struct {
		Request string          `json:"request"`
		Result  json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(r.NodeAnswers, &answers); err != nil {
		t.Fatal(err)
	}
	var o map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.PendingTransaction.SerializedTransaction), &o); err != nil {
		t.Fatal(err)
	}
	for _, a := range answers {
		var acc struct {
			AccountNumber json.RawMessage `json:"account_number"`
			Sequence      json.RawMessage `json:"sequence"`
		}
		if strings.HasPrefix(a.Request, "account") && json.Unmarshal(a.Result, &acc) == nil {
			o["accountNumber"], o["sequence"] = acc.AccountNumber, acc.Sequence
		} else if strings.Contains(a.Request, "network") {
			o["chainId"] = a.Result
		}
	}
	b, _ := json.Marshal(o)
	return string(b)
}

// Every BNB vector (the Binance JavaScript SDK through Tatum's code) is
// reproduced byte for byte. The signature inside the expected amino is checked
// independently: go-ethereum's secp256k1 verifies it over sha256 of our sign
// bytes with the public key it carries, whose hash160 is the sender's address.
func TestSignVectors(t *testing.T) {
	serialized := func(r vectors.Signing) string { return completed(t, r) }
	secret := func(r vectors.Signing) string { return r.Keys[0].Secret }
	chaintest.SignVectors(t, "BNB", BNB, serialized, secret, func(t *testing.T, r vectors.Signing, req chain.SignRequest, want chaintest.Expected, _ chain.Signed) {
		raw, _ := hex.DecodeString(want.Signed)
		i := bytes.Index(raw, []byte{0xeb, 0x5a, 0xe9, 0x87, 0x21})
		if i < 0 || len(raw) < i+5+33+2+64 || !bytes.Equal(raw[i+38:i+40], []byte{0x12, 0x40}) {
			t.Fatalf("%s: no public key and signature in the expected amino", r.PendingTransaction.ID)
		}
		pubBytes, sig := raw[i+5:i+38], raw[i+40:i+104]
		tr, err := ParseTransfer(req.Serialized, r.Testnet)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(tr.SignBytes())
		if !crypto.VerifySignature(pubBytes, h[:], sig) {
			t.Errorf("%s: expected signature does not verify over our sign bytes", r.PendingTransaction.ID)
		}
		pub, _ := btcec.ParsePubKey(pubBytes)
		if Address(pub, r.Testnet) != want.From {
			t.Errorf("%s: signing key is not the sender", r.PendingTransaction.ID)
		}
	})
}

// Golden sign bytes: the StdSignDoc as the Binance SDK writes it (sorted keys,
// amounts as numbers, account number and sequence as strings).
func TestSignBytesGolden(t *testing.T) {
	const ser = `{"account_number":"34","chain_id":"Binance-Chain-Tigris","data":null,"memo":"a<b&c",` +
		`"msgs":[{"inputs":[{"address":"bnb1rszhp0zmpfp0ud54nhu3uvzk7gkrf7vzy0ky6p","coins":[{"amount":150000001,"denom":"BNB"}]}],` +
		`"outputs":[{"address":"bnb10e6jlzwu890crwfrhujan6p97al4uzeqpvdlnw","coins":[{"denom":"BNB","amount":"150000001"}]}]}],` +
		`"sequence":"7","source":"0"}`
	tr, err := ParseTransfer(ser, false)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"account_number":"34","chain_id":"Binance-Chain-Tigris","data":null,"memo":"a<b&c",` +
		`"msgs":[{"inputs":[{"address":"bnb1rszhp0zmpfp0ud54nhu3uvzk7gkrf7vzy0ky6p","coins":[{"amount":150000001,"denom":"BNB"}]}],` +
		`"outputs":[{"address":"bnb10e6jlzwu890crwfrhujan6p97al4uzeqpvdlnw","coins":[{"amount":150000001,"denom":"BNB"}]}]}],` +
		`"sequence":"7","source":"0"}`
	if got := string(tr.SignBytes()); got != want {
		t.Errorf("sign bytes\n got %s\nwant %s", got, want)
	}
	// Golden amino of the same transfer with a fixed public key and signature:
	// length prefix, StdTx, MsgSend, StdSignature, memo.
	pub := bytes.Repeat([]byte{2}, 33)
	sig := bytes.Repeat([]byte{0xab}, 64)
	got := hex.EncodeToString(tr.Encode(pub, sig))
	wantHex := "c901" + "f0625dee" +
		"0a4c" + "2a2c87fa" +
		"0a22" + "0a141c0570bc5b0a42fe36959df91e3056f22c34f982" + "120a" + "0a03424e42" + "1081a3c347" +
		"1222" + "0a147e752f89dc395f81b923bf25d9e825f77f5e0b20" + "120a" + "0a03424e42" + "1081a3c347" +
		"126e" + "0a26" + "eb5ae98721" + strings.Repeat("02", 33) + "1240" + strings.Repeat("ab", 64) + "1822" + "2007" +
		"1a05" + hex.EncodeToString([]byte("a<b&c"))
	if got != wantHex {
		t.Errorf("amino\n got %s\nwant %s", got, wantHex)
	}
}

func TestSignRefusals(t *testing.T) {
	ctx := context.Background()
	for _, r := range vectors.SigningFor("BNB") {
		k := r.Keys[0].Secret
		ser := completed(t, r)
		if _, err := BNB.Sign(ctx, chain.SignRequest{Serialized: ser, Testnet: !r.Testnet, Keys: []string{k}}); !errors.Is(err, chain.ErrWrongNetwork) {
			t.Errorf("%s on the other network: %v", r.PendingTransaction.ID, err)
		}
		other := strings.Repeat("11", 32)
		if _, err := BNB.Sign(ctx, chain.SignRequest{Serialized: ser, Testnet: r.Testnet, Keys: []string{other}}); !errors.Is(err, chain.ErrWrongSigner) {
			t.Errorf("%s with another key: %v", r.PendingTransaction.ID, err)
		}
		_, err := BNB.Sign(ctx, chain.SignRequest{Serialized: r.PendingTransaction.SerializedTransaction, Testnet: r.Testnet, Keys: []string{k}})
		if !errors.Is(err, chain.ErrInvalidTx) || !strings.Contains(err.Error(), "accountNumber") {
			t.Errorf("%s without account data: %v", r.PendingTransaction.ID, err)
		}
		wrongID := strings.Replace(ser, `"chainId":"Binance-Chain-`, `"chainId":"Other-`, 1)
		if _, err := BNB.Sign(ctx, chain.SignRequest{Serialized: wrongID, Testnet: r.Testnet, Keys: []string{k}}); !errors.Is(err, chain.ErrWrongNetwork) {
			t.Errorf("%s with another chain id: %v", r.PendingTransaction.ID, err)
		}
		// msg (encoded) and signMsg (signed) must say the same.
		tampered := strings.Replace(ser, `"amount":1230007}]}],"aminoPrefix"`, `"amount":1230008}]}],"aminoPrefix"`, 1)
		tampered = strings.Replace(tampered, `"amount":150000001}]}],"aminoPrefix"`, `"amount":150000002}]}],"aminoPrefix"`, 1)
		if _, err := BNB.Sign(ctx, chain.SignRequest{Serialized: tampered, Testnet: r.Testnet, Keys: []string{k}}); !errors.Is(err, chain.ErrInvalidTx) {
			t.Errorf("%s with msg differing from signMsg: %v", r.PendingTransaction.ID, err)
		}
	}
}

func FuzzParseTransfer(f *testing.F) {
	for _, r := range vectors.SigningFor("BNB") {
		f.Add(completed(f, r), r.Testnet)
	}
	f.Add(native, false)
	f.Fuzz(func(t *testing.T, s string, testnet bool) {
		tr, err := ParseTransfer(s, testnet)
		if err != nil {
			return
		}
		if !json.Valid(tr.SignBytes()) {
			t.Fatal("sign bytes are not JSON")
		}
		_ = tr.Encode(make([]byte, 33), make([]byte, 64))
	})
}

func ExampleTxID() {
	fmt.Println(TxID([]byte{}))
	// Output: E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855
}

func BenchmarkSign(b *testing.B) {
	r := vectors.SigningFor("BNB")[0]
	req := chain.SignRequest{Serialized: completed(b, r), Testnet: r.Testnet, Keys: []string{r.Keys[0].Secret}}
	for b.Loop() {
		if _, err := BNB.Sign(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
