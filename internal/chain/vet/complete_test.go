package vet_test

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
	"golang.org/x/crypto/blake2b"

	"github.com/custoskms/custos/internal/broadcast"
	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chaintest"
	"github.com/custoskms/custos/internal/chain/vet"
)

// testnetGenesis ends in 0x27, the testnet's chainTag.
const testnetGenesis = "0x000000000b2bce3c70bc649a02749e8687721b09ed2e15997f466536b20bb127"

// gasUsedByData is what the fake node's dry run charges a clause with data.
const gasUsedByData = 12345

// thorTx is a signed Thor transaction as the fake node decodes it, with
// go-ethereum's RLP, independently of the package's own types.
type thorTx struct {
	ChainTag     uint8
	BlockRef     uint64
	Expiration   uint32
	Clauses      []struct{ To, Value, Data []byte }
	GasPriceCoef uint8
	Gas          uint64
	DependsOn    []byte
	Nonce        uint64
	Reserved     []rlp.RawValue
	Signature    []byte
}

// fakeThor is a Thor REST node: its best block number is what the test sets
// (the id starts with the number, as Thor's do); POST /accounts/* charges
// gasUsedByData for a clause with data, reverting when revert is set;
// POST /transactions recovers the origin from the signature with go-ethereum
// over blake2b of the unsigned body, checks that it is want and that the
// transaction has not expired, and records it.
type fakeThor struct {
	t      *testing.T
	mu     sync.Mutex
	best   uint32
	revert bool
	want   string
	caller string
	got    *thorTx
}

func (f *fakeThor) bestID() [32]byte {
	var id [32]byte
	binary.BigEndian.PutUint32(id[:], f.best)
	copy(id[4:], "0123456789abcdef0123456789ab")
	return id
}

func (f *fakeThor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/blocks/best":
		id := f.bestID()
		_ = json.NewEncoder(w).Encode(map[string]any{"number": f.best, "id": "0x" + hex.EncodeToString(id[:])})
	case r.Method == http.MethodGet && r.URL.Path == "/blocks/0":
		_ = json.NewEncoder(w).Encode(map[string]any{"number": 0, "id": testnetGenesis})
	case r.Method == http.MethodPost && r.URL.Path == "/accounts/*":
		var body struct {
			Clauses []struct{ To, Value, Data string }
			Caller  string
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.caller = body.Caller
		var out []map[string]any
		for _, c := range body.Clauses {
			used := 0
			if c.Data != "0x" {
				used = gasUsedByData
			}
			out = append(out, map[string]any{"gasUsed": used, "reverted": f.revert, "vmError": map[bool]string{true: "execution reverted"}[f.revert]})
		}
		_ = json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodPost && r.URL.Path == "/transactions":
		var body struct{ Raw string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		raw, _ := hex.DecodeString(strings.TrimPrefix(body.Raw, "0x"))
		var tx thorTx
		if err := rlp.DecodeBytes(raw, &tx); err != nil || len(tx.Signature) != 65 {
			f.refuse(w, "bad tx: cannot decode")
			return
		}
		unsigned := []any{tx.ChainTag, tx.BlockRef, tx.Expiration, tx.Clauses, tx.GasPriceCoef, tx.Gas, tx.DependsOn, tx.Nonce, tx.Reserved}
		enc, _ := rlp.EncodeToBytes(unsigned)
		h := blake2b.Sum256(enc)
		pub, err := crypto.SigToPub(h[:], tx.Signature)
		if err != nil || !strings.EqualFold(crypto.PubkeyToAddress(*pub).Hex(), f.want) {
			f.refuse(w, "bad tx: signature does not recover to the sender")
			return
		}
		if uint64(f.best)+1 > tx.BlockRef>>32+uint64(tx.Expiration) {
			f.refuse(w, "tx rejected: expired")
			return
		}
		f.got = &tx
		origin := crypto.PubkeyToAddress(*pub)
		id := blake2b.Sum256(append(h[:], origin[:]...))
		_ = json.NewEncoder(w).Encode(map[string]string{"id": "0x" + hex.EncodeToString(id[:])})
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeThor) refuse(w http.ResponseWriter, why string) {
	f.t.Errorf("node refused: %s", why)
	http.Error(w, why, http.StatusBadRequest)
}

func (f *fakeThor) setBest(n uint32) { f.mu.Lock(); f.best = n; f.mu.Unlock() }

// In Tatum's form without chainTag, blockRef, gas, nonce and expiration: a
// transfer and a token call are let through validation, refused by the
// signer naming a missing field, completed from a local Thor node, signed,
// and accepted by that node, which recovers the signer and checks the filled
// fields; past blockRef + expiration it is reported expired, and Refresh
// makes it acceptable again.
func TestCompleteSignBroadcastExpire(t *testing.T) {
	ctx := context.Background()
	var row = chaintest.SigningRows(t, "VET")[0]
	if !row.Testnet || row.Format != "tatum" {
		t.Fatal("vector layout changed")
	}
	key := chaintest.VectorKey(row)
	k, err := crypto.HexToECDSA(strings.TrimPrefix(key, "0x"))
	if err != nil {
		t.Fatal(err)
	}
	from := strings.ToLower(crypto.PubkeyToAddress(k.PublicKey).Hex())
	f := &fakeThor{t: t, best: 0x00ab12cd, want: from}
	srv := httptest.NewServer(f)
	defer srv.Close()
	node, err := broadcast.DialVeChain(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	data := "0xa9059cbb" + strings.Repeat("00", 12) + "4605ec56dbf64f86fc0525f0145c7bbb5bee407a" + strings.Repeat("00", 31) + "0a"
	dataBytes, _ := hex.DecodeString(data[2:])
	dataGas := uint64(0)
	for _, b := range dataBytes {
		dataGas += map[bool]uint64{true: 4, false: 68}[b == 0]
	}
	for _, c := range []struct {
		name, ser string
		gas       uint64
	}{
		{"transfer", `{"from":0,"to":"0x4605ec56dbf64f86fc0525f0145c7bbb5bee407a","value":"1000000000000000000"}`, 21000},
		{"token call", `{"from":"` + from + `","to":"0x0000000000000000000000000000456e65726779","value":"0","data":"` + data + `"}`,
			5000 + 16000 + dataGas + gasUsedByData + 15000},
	} {
		f.setBest(0x00ab12cd)
		ser := c.ser
		if err := vet.VET.ValidateTx(ser, true); err != nil {
			t.Fatalf("%s: validation refuses it: %v", c.name, err)
		}
		if missing, err := vet.VET.MissingFields(ser); err != nil || strings.Join(missing, ",") != "chainTag,blockRef,gas,nonce" {
			t.Fatalf("%s: MissingFields = %v, %v", c.name, missing, err)
		}
		if _, err := vet.VET.Sign(ctx, chain.SignRequest{Serialized: ser, Testnet: true, Keys: []string{key}}); !errors.Is(err, chain.ErrInvalidTx) || !strings.Contains(err.Error(), "chainTag") {
			t.Fatalf("%s: signing it: %v", c.name, err)
		}
		if expired, err := vet.VET.Expired(ctx, node, ser); err != nil || expired {
			t.Errorf("%s: incomplete is expired: %v, %v", c.name, expired, err)
		}
		done, err := vet.VET.CompleteFromNode(ctx, node, ser, true)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if missing, err := vet.VET.MissingFields(done); err != nil || missing != nil {
			t.Fatalf("%s: after completion MissingFields = %v, %v", c.name, missing, err)
		}
		if again, err := vet.VET.CompleteFromNode(ctx, node, done, true); err != nil || again != done {
			t.Errorf("%s: completing a complete transaction changed it: %v", c.name, err)
		}
		chaintest.SignAndBroadcast(t, vet.VET, node, chain.SignRequest{Serialized: done, Testnet: true, Keys: []string{key}})
		if got := f.got; got.ChainTag != 0x27 || got.BlockRef>>32 != 0x00ab12cd || got.Expiration != 720 || got.Gas != c.gas {
			t.Errorf("%s: filled chainTag %#x blockRef %#x expiration %d gas %d, want gas %d", c.name, got.ChainTag, got.BlockRef, got.Expiration, got.Gas, c.gas)
		}
		if strings.HasPrefix(c.ser, `{"from":"`) && f.caller != from {
			t.Errorf("%s: dry run as %q", c.name, f.caller)
		}

		f.setBest(0x00ab12cd + 719)
		if expired, err := vet.VET.Expired(ctx, node, done); err != nil || expired {
			t.Errorf("%s: last block of the window: expired %v, %v", c.name, expired, err)
		}
		f.setBest(0x00ab12cd + 720)
		if expired, err := vet.VET.Expired(ctx, node, done); err != nil || !expired {
			t.Errorf("%s: past the window: expired %v, %v", c.name, expired, err)
		}
		fresh, err := vet.VET.Refresh(ctx, node, done)
		if err != nil {
			t.Fatal(err)
		}
		if expired, err := vet.VET.Expired(ctx, node, fresh); err != nil || expired {
			t.Errorf("%s: refreshed: expired %v, %v", c.name, expired, err)
		}
		chaintest.SignAndBroadcast(t, vet.VET, node, chain.SignRequest{Serialized: fresh, Testnet: true, Keys: []string{key}})
		if f.got.BlockRef>>32 != 0x00ab12cd+720 {
			t.Errorf("%s: refreshed blockRef %#x", c.name, f.got.BlockRef)
		}
	}

	call := `{"to":"0x0000000000000000000000000000456e65726779","value":"0","data":"` + data + `"}`
	if _, err := vet.VET.CompleteFromNode(ctx, node, call, true); !errors.Is(err, chain.ErrInvalidTx) || !strings.Contains(err.Error(), `"from"`) {
		t.Errorf("a call without from: %v", err)
	}
	f.revert = true
	withFrom := strings.Replace(call, "{", `{"from":"`+from+`",`, 1)
	if _, err := vet.VET.CompleteFromNode(ctx, node, withFrom, true); !errors.Is(err, chain.ErrInvalidTx) || !strings.Contains(err.Error(), "reverts") {
		t.Errorf("a reverting call: %v", err)
	}
	if _, err := vet.VET.CompleteFromNode(ctx, node, `{"to":"0x4605ec56dbf64f86fc0525f0145c7bbb5bee407a","value":"1"}`, false); !errors.Is(err, chain.ErrWrongNetwork) {
		t.Errorf("a testnet node for a mainnet transaction: %v", err)
	}
	if _, err := vet.VET.CompleteFromNode(ctx, struct{}{}, `{"to":"0x4605ec56dbf64f86fc0525f0145c7bbb5bee407a","value":"1"}`, true); err == nil || !strings.Contains(err.Error(), "/blocks/best") {
		t.Errorf("a client without the read methods: %v", err)
	}
}

// The native form is complete as queued; past its window Refresh sets its
// blockRef to the best block in the RLP body, which then signs.
func TestRefreshNative(t *testing.T) {
	ctx := context.Background()
	var row = chaintest.SigningRows(t, "VET")[3]
	if !row.Testnet || row.Format != "native" {
		t.Fatal("vector layout changed")
	}
	ser := row.PendingTransaction.SerializedTransaction
	f := &fakeThor{t: t, best: 0xb0000000} // past the vector blockRef 0xa50d3a27… + 720
	srv := httptest.NewServer(f)
	defer srv.Close()
	node, _ := broadcast.DialVeChain(srv.URL)
	if missing, err := vet.VET.MissingFields(ser); err != nil || missing != nil {
		t.Fatalf("MissingFields = %v, %v", missing, err)
	}
	if expired, err := vet.VET.Expired(ctx, node, ser); err != nil || !expired {
		t.Fatalf("expired %v, %v", expired, err)
	}
	fresh, err := vet.VET.Refresh(ctx, node, ser)
	if err != nil {
		t.Fatal(err)
	}
	if expired, err := vet.VET.Expired(ctx, node, fresh); err != nil || expired {
		t.Errorf("refreshed: expired %v, %v", expired, err)
	}
	raw, _ := hex.DecodeString(fresh[2:])
	var body []rlp.RawValue
	if err := rlp.DecodeBytes(raw, &body); err != nil || len(body) != 9 {
		t.Fatalf("refreshed body: %v", err)
	}
	var ref uint64
	_ = rlp.DecodeBytes(body[1], &ref)
	id := f.bestID()
	if ref != binary.BigEndian.Uint64(id[:8]) {
		t.Errorf("blockRef %#x", ref)
	}
	if _, err := vet.VET.Sign(ctx, chain.SignRequest{Serialized: fresh, Testnet: true, Keys: []string{chaintest.VectorKey(row)}}); err != nil {
		t.Errorf("signing the refreshed body: %v", err)
	}
}
