package api

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/pending"
)

func TestCreateRoundTrip(t *testing.T) {
	e := newEnv(t)
	var out struct{ ID string }
	e.do("POST", "/v3/kms", e.keyA, `{"chain":"BTC","serializedTransaction":"{\"fromUTXO\":[]}","hashes":["`+sigA+`"],
		"index":3,"signatures":[{"id":"`+sigB+`","index":0}],"withdrawalId":"w-1","withdrawalResponses":[{"amount":"1"}],"extra":"ignored"}`).want(t, 200, &out)
	var got pending.Tx
	e.do("GET", "/v3/kms/"+out.ID, e.keyA, nil).want(t, 200, &got)
	if got.ID != out.ID || got.Chain != "BTC" || got.SerializedTransaction != `{"fromUTXO":[]}` || len(got.Hashes) != 1 ||
		got.Index == nil || *got.Index != 3 || len(got.Signatures) != 1 || *got.Signatures[0].Index != 0 ||
		got.WithdrawalID != "w-1" || string(got.WithdrawalResponses) != `[{"amount":"1"}]` {
		t.Fatalf("got %+v", got)
	}
	// Only signatures, no hashes: hashes is served as [] and never null.
	r := e.do("POST", "/v3/kms", e.keyA, `{"chain":"BTC","serializedTransaction":"x","signatures":[{"id":"`+sigC+`","index":1}]}`)
	r.want(t, 200, &out)
	r = e.do("GET", "/v3/kms/"+out.ID, e.keyA, nil)
	if !strings.Contains(string(r.body), `"hashes":[]`) || strings.Contains(string(r.body), "txId") {
		t.Fatalf("body %s", r.body)
	}
}

func TestCreateValidation(t *testing.T) {
	e := newEnv(t)
	cases := []struct{ body, wantData string }{
		{``, "body: must not be empty"},
		{`   `, "body: must not be empty"},
		{`{`, "body: truncated JSON"},
		{`nope`, "body: malformed JSON"},
		{`[]`, "body: must be a JSON object"},
		{`{} {}`, "body: unexpected data"},
		{`{"chain":"DOGECOIN","serializedTransaction":"x","hashes":["` + sigA + `"]}`, "chain: must be one of BNB, BTC"},
		{`{"chain":"eth","serializedTransaction":"x","hashes":["` + sigA + `"]}`, "chain: must be one of"},
		{`{"serializedTransaction":"x","hashes":["` + sigA + `"]}`, "chain: is required"},
		{`{"chain":7,"serializedTransaction":"x","hashes":["` + sigA + `"]}`, "chain: must not be a JSON number"},
		{`{"chain":"ETH","hashes":["` + sigA + `"]}`, "serializedTransaction: must be a non-empty string"},
		{`{"chain":"ETH","serializedTransaction":"  ","hashes":["` + sigA + `"]}`, "serializedTransaction: must be a non-empty string"},
		{`{"chain":"ETH","serializedTransaction":"x","hashes":["nope"]}`, `hashes[0]: must be a UUID, got "nope"`},
		{`{"chain":"ETH","serializedTransaction":"x","hashes":"` + sigA + `"}`, "hashes: must not be a JSON string"},
		{`{"chain":"ETH","serializedTransaction":"x"}`, "at least one signature ID"},
		{`{"chain":"ETH","serializedTransaction":"x","hashes":[]}`, "at least one signature ID"},
		{`{"chain":"ETH","serializedTransaction":"x","hashes":["` + sigA + `"],"index":-1}`, "index: must be between"},
		{`{"chain":"ETH","serializedTransaction":"x","hashes":["` + sigA + `"],"index":2147483648}`, "index: must be between"},
		{`{"chain":"ETH","serializedTransaction":"x","hashes":["` + sigA + `"],"index":1.5}`, "index: must not be a JSON number 1.5"},
		{`{"chain":"ETH","serializedTransaction":"x","signatures":[{"index":1}]}`, "signatures[0].id: must be a UUID"},
		{`{"chain":"ETH","serializedTransaction":"x","signatures":[{"id":"` + sigA + `","index":-4}]}`, "signatures[0].index: must be between"},
		{`{"chain":"ETH","serializedTransaction":"x","hashes":["` + sigA + `"],"withdrawalId":""}`, "withdrawalId: must be 1 to 100"},
		{`{"chain":"ETH","serializedTransaction":"x","hashes":["` + sigA + `"],"withdrawalResponses":{}}`, "withdrawalResponses: must be an array"},
	}
	for _, c := range cases {
		er := e.do("POST", "/v3/kms", e.keyA, c.body).wantError(t, 400, CodeValidation)
		if !strings.Contains(strings.Join(er.Data, "\n"), c.wantData) {
			t.Errorf("body %s: data %q, want %q", c.body, er.Data, c.wantData)
		}
	}
	// Several problems are all reported.
	er := e.do("POST", "/v3/kms", e.keyA, `{"chain":"X","hashes":["bad"]}`).wantError(t, 400, CodeValidation)
	if len(er.Data) != 3 {
		t.Fatalf("data %q, want chain, serializedTransaction and hashes[0]", er.Data)
	}
}

// codecChain is a chain whose codec accepts only "good" and remembers the
// network and extra chain ids it was asked about; it stands in for the chain
// packages' codecs.
type codecChain struct {
	chain.Chain
	testnet *bool
	extra   *[]uint64
}

func (c codecChain) ValidateTx(s string, testnet bool, extra ...uint64) error {
	*c.testnet, *c.extra = testnet, extra
	switch s {
	case "good":
		return nil
	case "boom":
		panic("codec bug")
	}
	return fmt.Errorf("%w: not a transaction (len %d)", chain.ErrInvalidTx, len(s))
}

func TestCreateAsksTheChainCodec(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.ExtraChainIDs = map[bool]map[string][]uint64{true: {"ETH": {1337}}, false: {"BSC": {5}}}
	})
	var (
		sawTestnet bool
		sawExtra   []uint64
	)
	e.srv.lookupChain = func(code string) (chain.Chain, error) {
		c, err := chains.Lookup(code)
		if err != nil {
			return nil, err
		}
		if code != "ETH" {
			return plainChain{c}, nil
		}
		return codecChain{c, &sawTestnet, &sawExtra}, nil
	}
	body := func(s string) string {
		return `{"chain":"ETH","serializedTransaction":"` + s + `","hashes":["` + sigA + `"]}`
	}
	e.do("POST", "/v3/kms", e.keyA, body("good")).want(t, 200, nil)
	if sawTestnet || len(sawExtra) != 0 {
		t.Fatalf("mainnet key validated as testnet (%v) or with another network's or chain's ids %v", sawTestnet, sawExtra)
	}
	e.do("POST", "/v3/kms", e.keyTest, body("good")).want(t, 200, nil)
	if !sawTestnet || !slices.Equal(sawExtra, []uint64{1337}) {
		t.Fatalf("testnet key validated as mainnet (%v) or without the configured chain ids (%v)", !sawTestnet, sawExtra)
	}
	er := e.do("POST", "/v3/kms", e.keyA, body("garbage")).wantError(t, 400, CodeValidation)
	if len(er.Data) != 1 || er.Data[0] != "serializedTransaction: invalid transaction: not a transaction (len 7)" {
		t.Fatalf("data %q", er.Data)
	}
	e.do("POST", "/v3/kms", e.keyA, body("boom")).wantError(t, 400, CodeValidation)
	// A chain without a codec (yet) takes any non-blank string.
	e.do("POST", "/v3/kms", e.keyA, `{"chain":"BSC","serializedTransaction":"anything","hashes":["`+sigA+`"]}`).want(t, 200, nil)
}
