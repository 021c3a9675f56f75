package evm

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"reflect"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/custoskms/custos/intent"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/vectors"
)

// signedOf is the signed transaction of a row to decode: the vector's
// expected.signed, except on CELO's Tatum rows, whose reference is Celo's
// pre-L2 12-field legacy transaction, which Celo nodes no longer take (see
// TestSigningVectors): there, what Sign produces today, and the reference
// must be refused as no transaction of the chain.
func signedOf(t *testing.T, c *Chain, v vectors.Signing, ser string, exp expectedSigned) string {
	t.Helper()
	if v.Chain != "CELO" || v.Format != FormatTatum {
		return exp.Signed
	}
	if _, err := c.SignedIntent(exp.Signed, v.Testnet); !errors.Is(err, chain.ErrInvalidTx) {
		t.Errorf("Celo's obsolete 12-field transaction: err %v, want ErrInvalidTx", err)
	}
	got, err := c.Sign(context.Background(), chain.SignRequest{Serialized: ser, Testnet: v.Testnet, Keys: []string{vectorKey(t, c, v)}})
	if err != nil {
		t.Fatal(err)
	}
	return got.TxData
}

// Every EVM signing row's signed transaction decodes into the intent of the
// row's unsigned transaction (completed with the vector's node answers, as
// the server stores it), with the vector's sender as its one signer, and
// passes the broadcast check against it.
func TestSignedIntentVectors(t *testing.T) {
	n := 0
	for _, c := range all {
		code := c.Info().Code
		for _, v := range chaintest.SigningRows(t, code) {
			n++
			name := code + "/" + v.Format + "/" + v.PendingTransaction.ID
			var exp expectedSigned
			if err := json.Unmarshal(v.Expected, &exp); err != nil {
				t.Fatal(err)
			}
			ser := withNodeAnswers(t, c, v)
			queued, err := c.Intent(ser, v.Testnet)
			if err != nil {
				t.Fatalf("%s: Intent: %v", name, err)
			}
			got, err := c.SignedIntent(signedOf(t, c, v, ser, exp), v.Testnet)
			if err != nil {
				t.Errorf("%s: SignedIntent: %v", name, err)
				continue
			}
			if !reflect.DeepEqual(got.Signers, []string{exp.From}) {
				t.Errorf("%s: signers %q, want the vector's from %s", name, got.Signers, exp.From)
			}
			if err := intent.CheckSigned(queued, got); err != nil {
				t.Errorf("%s: the honest signed transaction fails the check: %v", name, err)
			}
			// The signers are the one field only the signed side has.
			got.Signers = queued.Signers
			if !reflect.DeepEqual(got, queued) {
				t.Errorf("%s:\nsigned %s\nqueued %s", name, js(got), js(queued))
			}
		}
	}
	if n != countRows(all) || n != 42 {
		t.Fatalf("decoded %d signed EVM rows, want 42 and the vector file's %d", n, countRows(all))
	}
}

// A CIP-64 transaction (fees in a token) decodes with its fee currency and
// its sender recovered from the signature over Celo's own hash.
func TestSignedIntentCIP64(t *testing.T) {
	key := "0xe01fea8a48e2854fdd0255c12b1d704967d9401f11c3f4980006ced8977574dc"
	ser := `{"to":"0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6","value":"5","nonce":"0x3","gas":90000,` +
		`"maxFeePerGas":"30000000000","maxPriorityFeePerGas":"1000000000","chainId":44787,` +
		`"feeCurrency":"0x874069fa1eb16d44d622f2e0ca25eea172369bc1"}`
	s, err := CELO.Sign(context.Background(), chain.SignRequest{Serialized: ser, Testnet: true, Keys: []string{key}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := CELO.SignedIntent(s.TxData, true)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := CELO.Intent(ser, true)
	want.Signers = []string{"0xb157e208264ff9edebbcb1d36e66d156df8afa6c"}
	if !reflect.DeepEqual(got, want) || got.Fee.Asset == "" {
		t.Fatalf("signed %s\nwant %s", js(got), js(want))
	}
	// The same bytes are no transaction of another EVM chain.
	if _, err := ETH.SignedIntent(s.TxData, true, 44787); !errors.Is(err, chain.ErrInvalidTx) {
		t.Fatalf("CIP-64 on ETH: %v", err)
	}
}

// SignedIntent refuses what is no signed transaction of the chain and
// network: garbage, an unsigned transaction, one without a chain id, one of
// a type nothing here signs, and one for another network.
func TestSignedIntentRefuses(t *testing.T) {
	key, _ := crypto.HexToECDSA("e01fea8a48e2854fdd0255c12b1d704967d9401f11c3f4980006ced8977574dc")
	to := common.HexToAddress("0x68cbc14b4818a4e84a8ff49bbdc2019b6cb14cf6")
	enc := func(tx *types.Transaction) string {
		b, err := tx.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return "0x" + hex.EncodeToString(b)
	}
	legacy := &types.LegacyTx{Nonce: 1, GasPrice: big.NewInt(1), Gas: 21000, To: &to, Value: big.NewInt(1)}
	sepolia := types.LatestSignerForChainID(big.NewInt(11155111))
	signed := enc(types.MustSignNewTx(key, sepolia, legacy))
	if _, err := ETH.SignedIntent(signed, true); err != nil {
		t.Fatalf("the honest one: %v", err)
	}
	if _, err := ETH.SignedIntent(signed, false); !errors.Is(err, chain.ErrWrongNetwork) {
		t.Errorf("another network: %v", err)
	}
	unprotected := enc(types.MustSignNewTx(key, types.HomesteadSigner{}, legacy))
	unsigned := enc(types.NewTx(legacy))
	// A 1559 transaction's fields behind the blob (0x03) and set-code (0x04)
	// type bytes: types Sign never produces, refused before they are read.
	dynamic := enc(types.MustSignNewTx(key, sepolia, &types.DynamicFeeTx{ChainID: big.NewInt(11155111), Nonce: 1,
		GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(1), Gas: 21000, To: &to, Value: big.NewInt(1)}))
	if _, err := ETH.SignedIntent(dynamic, true); err != nil {
		t.Fatalf("the honest EIP-1559 one: %v", err)
	}
	bad := append([]string{unprotected, unsigned, "0x03" + dynamic[4:], "0x04" + dynamic[4:], signed[2:], signed + "00",
		"0x7b" + signed[2:]}, chaintest.CommonGarbage...)
	for i, s := range bad {
		if _, err := ETH.SignedIntent(s, true); !errors.Is(err, chain.ErrInvalidTx) {
			t.Errorf("#%d %.40s: err %v, want ErrInvalidTx", i, s, err)
		}
	}
}

// FuzzSignedIntent: SignedIntent never panics, refuses only with
// ErrInvalidTx or ErrWrongNetwork, and what it decodes names exactly one
// signer, its chain and network, a chain id and a sequence.
func FuzzSignedIntent(f *testing.F) {
	for _, v := range vectors.Signings() {
		if byCode(v.Chain) == nil {
			continue
		}
		var exp expectedSigned
		if json.Unmarshal(v.Expected, &exp) == nil {
			f.Add(exp.Signed, v.Testnet)
		}
	}
	for _, g := range chaintest.CommonGarbage {
		f.Add(g, false)
	}
	f.Fuzz(func(t *testing.T, s string, testnet bool) {
		for _, c := range all {
			in, err := c.SignedIntent(s, testnet)
			if err != nil {
				if !errors.Is(err, chain.ErrInvalidTx) && !errors.Is(err, chain.ErrWrongNetwork) {
					t.Fatalf("%s: error %v wraps neither ErrInvalidTx nor ErrWrongNetwork", c.Info().Code, err)
				}
				continue
			}
			if len(in.Signers) != 1 || in.Chain != c.Info().Code || in.Network != chain.NetworkName(testnet) ||
				in.ChainID == "" || in.Sequence == nil {
				t.Fatalf("%s: decoded %s", c.Info().Code, js(in))
			}
		}
	})
}
