package evm

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/strictjson"
	"github.com/custoskms/custos/internal/vectors"
)

// A decoded transaction signs to the same bytes, and decodes to the same
// intent and sequence, as its serialized form: every signing vector, and its
// Tatum form with a from.
func TestDecodedIsTheSerialized(t *testing.T) {
	n := 0
	for _, v := range vectors.Signings() {
		c := byCode(v.Chain)
		if c == nil {
			continue
		}
		key := vectorKey(t, c, v)
		from, err := c.AddressFromPrivateKey(key, v.Testnet)
		if err != nil {
			t.Fatal(err)
		}
		sers := []string{withNodeAnswers(t, c, v)}
		if v.Format == FormatTatum {
			sers = append(sers, strings.Replace(sers[0], "{", `{"from":"`+from+`",`, 1))
		}
		for _, ser := range sers {
			n++
			d, err := c.Decode(ser)
			if err != nil {
				t.Fatalf("%s: Decode: %v", ser, err)
			}
			req := chain.SignRequest{Serialized: ser, Testnet: v.Testnet, Keys: []string{key}}
			want, werr := c.Sign(context.Background(), req)
			req.Decoded = d
			got, err := c.Sign(context.Background(), req)
			if werr != nil || err != nil || got != want {
				t.Errorf("%s: signed %+v %v\nwant %+v %v", ser, got, err, want, werr)
			}
			wantIn, werr := c.Intent(ser, v.Testnet)
			gotIn, err := d.Intent(v.Testnet)
			if werr != nil || err != nil || !reflect.DeepEqual(gotIn, wantIn) {
				t.Errorf("%s: intent %s %v\nwant %s %v", ser, js(gotIn), err, js(wantIn), werr)
			}
			wantSender, wantSeq, werr := c.Sequence(ser, v.Testnet)
			sender, seq, err := d.Sequence()
			if werr != nil || err != nil || sender != wantSender || !reflect.DeepEqual(seq, wantSeq) {
				t.Errorf("%s: sequence %s %v %v, want %s %v %v", ser, sender, seq, err, wantSender, wantSeq, werr)
			}
			// The network is the wallet's: checked when deciding and signing.
			if _, err := d.Intent(!v.Testnet); !errors.Is(err, chain.ErrWrongNetwork) {
				t.Errorf("%s on the other network: %v", ser, err)
			}
			req.Testnet = !v.Testnet
			if _, err := c.Sign(context.Background(), req); !errors.Is(err, chain.ErrWrongNetwork) {
				t.Errorf("%s signed on the other network: %v", ser, err)
			}
		}
	}
	if n != 42+14 { // every row, and the Tatum ones again with a from
		t.Fatalf("%d decodings, want 56", n)
	}
}

const plainTatum = `{"to":"0x8e2a1ab44092f1cd399665c160e61d44d145a61f","value":"1","nonce":"0x1","gasLimit":21000,"gasPrice":"20000000000","chainId":11155111}`

// Decode refuses, as ambiguous, what the daemon's JSON check refuses,
// including a duplicate key that ParseTx alone would read (the last one),
// and reads the rest as ParseTx does.
func TestDecodeRefusesAmbiguousJSON(t *testing.T) {
	for _, ser := range []string{
		strings.Replace(plainTatum, `"nonce":"0x1"`, `"nonce":"0x1","nonce":"0x2"`, 1),
		strings.Replace(plainTatum, `"value":"1"`, `"value":"1","Value":"2"`, 1),
		strings.Replace(plainTatum, `"value":"1"`, `"value":"1","accessList":[{"address":"0x8e2a1ab44092f1cd399665c160e61d44d145a61f","storageKeys":[],"Address":"0x00"}]`, 1),
		"\v" + strings.Replace(plainTatum, `"nonce":"0x1"`, `"nonce":"0x1","nonce":"0x2"`, 1), // ParseTx trims it
		plainTatum + "\v",
		`{"to":`,
		` [1,]`,
	} {
		_, err := ETH.Decode(ser)
		var ae *chain.AmbiguousJSONError
		if !errors.As(err, &ae) {
			t.Errorf("%q: %v, want *chain.AmbiguousJSONError", ser, err)
			continue
		}
		if want := strictjson.Check([]byte(ser)); want == nil || ae.Err.Error() != want.Error() {
			t.Errorf("%q: %v, want Check's %v", ser, ae.Err, want)
		}
	}
	if _, err := ETH.ParseTx(strings.Replace(plainTatum, `"nonce":"0x1"`, `"nonce":"0x1","nonce":"0x2"`, 1)); err != nil {
		t.Fatalf("ParseTx no longer reads a duplicate key: the case above tests nothing (%v)", err)
	}
	for _, ser := range []string{`[1]`, `{"to":"0x8e2a1ab44092f1cd399665c160e61d44d145a61f","vaule":"1"}`, "0xzz", ""} {
		_, err := ETH.Decode(ser)
		_, want := ETH.ParseTx(ser)
		var ae *chain.AmbiguousJSONError
		if errors.As(err, &ae) || want == nil || err == nil || err.Error() != want.Error() {
			t.Errorf("%q: %v, want ParseTx's %v", ser, err, want)
		}
	}
}

// A SignRequest whose Decoded is not the chain's decoding of its Serialized
// is refused: the signature would not be of the bytes the request names.
func TestSignRefusesForeignDecoded(t *testing.T) {
	key := "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
	d, err := ETH.Decode(plainTatum)
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(plainTatum, `"value":"1"`, `"value":"2"`, 1)
	bsc, err := BSC.Decode(strings.Replace(plainTatum, "11155111", "97", 1))
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range []chain.SignRequest{
		{Serialized: other, Decoded: d},
		{Serialized: strings.Replace(plainTatum, "11155111", "97", 1), Decoded: bsc},
	} {
		req.Testnet, req.Keys = true, []string{key}
		if _, err := ETH.Sign(context.Background(), req); !errors.Is(err, ErrForeignDecoded) {
			t.Errorf("%s: %v, want ErrForeignDecoded", req.Serialized, err)
		}
	}
	if _, err := ETH.Sign(context.Background(), chain.SignRequest{Serialized: plainTatum, Decoded: d, Testnet: true, Keys: []string{key}}); err != nil {
		t.Fatal(err)
	}
}
