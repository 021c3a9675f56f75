package chains

import (
	"testing"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/evm"
	"github.com/custoskms/custos/internal/vectors"
)

// TestComplete walks every row and fails for a chain that lacks a capability,
// a node client or vectors: a new chain is not served until all are there.
func TestComplete(t *testing.T) {
	rows := Rows()
	if len(rows) == 0 {
		t.Fatal("empty table")
	}
	for _, r := range rows {
		checkRow(t, r)
	}
}

func checkRow(t *testing.T, r Row) {
	t.Helper()
	info := r.Chain.Info()
	code := info.Code
	if _, ok := r.Chain.(chain.Deriver); !ok {
		t.Errorf("%s: no Deriver", code)
	}
	if _, ok := r.Chain.(chain.TxValidator); !ok {
		t.Errorf("%s: no TxValidator", code)
	}
	if _, ok := r.Chain.(chain.Signer); !ok {
		t.Errorf("%s: no Signer", code)
	}
	// A chain that numbers an account's transactions is served only with a
	// filler for freed sequences (else a deleted transaction blocks the
	// sender's later ones forever) and with completion from the node (the
	// filler leaves its fee to it).
	if _, ok := r.Chain.(chain.Sequencer); ok {
		if _, ok := r.Chain.(chain.Filler); !ok {
			t.Errorf("%s: a Sequencer without a Filler", code)
		}
		if _, ok := r.Chain.(chain.Completer); !ok {
			t.Errorf("%s: a Sequencer without a Completer", code)
		}
	}
	if r.Dial == nil {
		t.Errorf("%s: no node dialer", code)
	} else if c, err := r.Dial("http://user:pw@127.0.0.1:1/rpc"); c == nil || err != nil {
		// A dialer must not contact the node: nothing listens there.
		t.Errorf("%s: dialing an http node = %v, %v", code, c, err)
	}

	derivations := 0
	for _, v := range vectors.Derivations() {
		if v.Chain != code {
			continue
		}
		derivations++
		switch {
		case v.Kind == "mnemonic-sol" && info.Kind != chain.MnemonicKeyWallet,
			v.Kind == "mnemonic" && info.Kind != chain.MnemonicWallet:
			t.Errorf("%s: a %q derivation vector, but the chain's wallet kind is %d", code, v.Kind, info.Kind)
		case v.Kind == "secret" && info.Kind == chain.KeypairWallet && (v.Secret != "") != (info.KeyField == chain.SecretField):
			t.Errorf("%s: the vectors' keypair field disagrees with KeyField %d", code, info.KeyField)
		}
	}
	if derivations == 0 {
		t.Errorf("%s: no derivation vectors", code)
	}
	signing := len(vectors.SigningFor(code))
	switch {
	case signing == 0 && r.NoSigningVectors == "":
		t.Errorf("%s: no signing vectors, and the row does not say why (NoSigningVectors)", code)
	case signing > 0 && r.NoSigningVectors != "":
		t.Errorf("%s: %d signing vectors, yet the row says there are none", code, signing)
	}
}

func TestCodesAndSlugsUnique(t *testing.T) {
	codes, slugs := map[string]bool{}, map[string]bool{}
	for _, r := range Rows() {
		i := r.Chain.Info()
		if codes[i.Code] || slugs[i.Slug] {
			t.Errorf("%s/%s given twice", i.Code, i.Slug)
		}
		codes[i.Code], slugs[i.Slug] = true, true
		if c, err := Lookup(i.Code); err != nil || c != r.Chain {
			t.Errorf("Lookup(%s) = %v, %v", i.Code, c, err)
		}
		if c, err := BySlug(i.Slug); err != nil || c != r.Chain {
			t.Errorf("BySlug(%s) = %v, %v", i.Slug, c, err)
		}
	}
	if len(Codes()) != len(codes) || len(Slugs()) != len(slugs) {
		t.Errorf("Codes %v, Slugs %v", Codes(), Slugs())
	}
}

func TestNewTableRefusesDuplicates(t *testing.T) {
	dial := func(string) (broadcast.Client, error) { return nil, nil }
	eth := Row{Chain: evm.ETH, Dial: dial, Decimals: 18}
	cases := map[string][]Row{
		"code twice":  {eth, eth},
		"no dialer":   {{Chain: eth.Chain, Decimals: 18}},
		"no chain":    {{Dial: dial, Decimals: 18}},
		"no decimals": {{Chain: eth.Chain, Dial: dial}},
		"lower case":  {{Chain: fake{chain.Info{Code: "eth2", Slug: "eth2"}}, Dial: dial, Decimals: 18}},
		"slug twice":  {eth, {Chain: fake{chain.Info{Code: "ETH2", Slug: eth.Chain.Info().Slug}}, Dial: dial, Decimals: 18}},
		"blank slug":  {{Chain: fake{chain.Info{Code: "ETH2"}}, Dial: dial, Decimals: 18}},
		"blank code ": {{Chain: fake{chain.Info{Slug: "eth2"}}, Dial: dial, Decimals: 18}},
	}
	for name, rows := range cases {
		if _, err := NewTable(rows); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	tb, err := NewTable([]Row{eth, {Chain: fake{chain.Info{Code: "ETH2", Slug: "eth2"}}, Dial: dial, Decimals: 6}})
	if err != nil {
		t.Fatalf("distinct rows refused: %v", err)
	}
	if d, ok := tb.Decimals("eth2"); !ok || d != 6 {
		t.Errorf("decimals of eth2: %d %v", d, ok)
	}
	if _, ok := tb.Decimals("BTC"); ok {
		t.Error("decimals of a chain not in the table")
	}
}

type fake struct{ info chain.Info }

func (f fake) Info() chain.Info { return f.info }

// TestIntenders fails for a chain that cannot decode its
// transactions into an intent, naming each one: the daemon's policy and
// approval service decide on the intent.
func TestIntenders(t *testing.T) {
	var missing []string
	for _, r := range Rows() {
		if _, ok := r.Chain.(chain.Intender); !ok {
			missing = append(missing, r.Chain.Info().Code)
		}
	}
	if len(missing) > 0 {
		t.Errorf("not a chain.Intender: %v", missing)
	}
}

// TestSignedIntenders fails for a chain that cannot decode its signed
// transactions into an intent, naming each one: the server checks at
// broadcast that what a signer sends is the queued transaction.
func TestSignedIntenders(t *testing.T) {
	var missing []string
	for _, r := range Rows() {
		if _, ok := r.Chain.(chain.SignedIntender); !ok {
			missing = append(missing, r.Chain.Info().Code)
		}
	}
	if len(missing) > 0 {
		t.Errorf("not a chain.SignedIntender: %v", missing)
	}
}
