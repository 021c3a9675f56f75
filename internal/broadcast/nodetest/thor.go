package nodetest

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
	"golang.org/x/crypto/blake2b"
)

// ThorTestnetGenesis ends in 0x27, the testnet's chainTag.
const ThorTestnetGenesis = "0x000000000b2bce3c70bc649a02749e8687721b09ed2e15997f466536b20bb127"

// ThorGasUsedByData is what the fake node's dry run charges a clause with data.
const ThorGasUsedByData = 12345

// ThorTx is a signed Thor transaction as the fake node decodes it, with
// go-ethereum's RLP, independently of the package's own types.
type ThorTx struct {
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

// Thor is a Thor REST node: its best block number is what the test sets
// (the id starts with the number, as Thor's do); POST /accounts/* charges
// ThorGasUsedByData for a clause with data, reverting when Revert is set;
// POST /transactions recovers the origin from the signature with go-ethereum
// over blake2b of the unsigned body, checks that it is Want and that the
// transaction has not expired, and records it.
type Thor struct {
	T      testing.TB
	mu     sync.Mutex
	Best   uint32
	Revert bool
	Want   string // the sender's address, lower-case hex
	caller string
	got    *ThorTx
	ids    []string
}

// Got is the transaction accepted last.
func (f *Thor) Got() *ThorTx { f.mu.Lock(); defer f.mu.Unlock(); return f.got }

// IDs are the ids of the transactions accepted, in order.
func (f *Thor) IDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ids...)
}

// Caller is the caller of the last dry run.
func (f *Thor) Caller() string { f.mu.Lock(); defer f.mu.Unlock(); return f.caller }

// SetRevert makes the dry run revert.
func (f *Thor) SetRevert(v bool) { f.mu.Lock(); f.Revert = v; f.mu.Unlock() }

// BestID is the id of the best block.
func (f *Thor) BestID() [32]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bestID()
}

func (f *Thor) bestID() [32]byte {
	var id [32]byte
	binary.BigEndian.PutUint32(id[:], f.Best)
	copy(id[4:], "0123456789abcdef0123456789ab")
	return id
}

func (f *Thor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/blocks/best":
		id := f.bestID()
		_ = json.NewEncoder(w).Encode(map[string]any{"number": f.Best, "id": "0x" + hex.EncodeToString(id[:])})
	case r.Method == http.MethodGet && r.URL.Path == "/blocks/0":
		_ = json.NewEncoder(w).Encode(map[string]any{"number": 0, "id": ThorTestnetGenesis})
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
				used = ThorGasUsedByData
			}
			out = append(out, map[string]any{"gasUsed": used, "reverted": f.Revert, "vmError": map[bool]string{true: "execution reverted"}[f.Revert]})
		}
		_ = json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodPost && r.URL.Path == "/transactions":
		var body struct{ Raw string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		raw, _ := hex.DecodeString(strings.TrimPrefix(body.Raw, "0x"))
		var tx ThorTx
		if err := rlp.DecodeBytes(raw, &tx); err != nil || len(tx.Signature) != 65 {
			f.refuse(w, "bad tx: cannot decode")
			return
		}
		unsigned := []any{tx.ChainTag, tx.BlockRef, tx.Expiration, tx.Clauses, tx.GasPriceCoef, tx.Gas, tx.DependsOn, tx.Nonce, tx.Reserved}
		enc, _ := rlp.EncodeToBytes(unsigned)
		h := blake2b.Sum256(enc)
		pub, err := crypto.SigToPub(h[:], tx.Signature)
		if err != nil || !strings.EqualFold(crypto.PubkeyToAddress(*pub).Hex(), f.Want) {
			f.refuse(w, "bad tx: signature does not recover to the sender")
			return
		}
		if uint64(f.Best)+1 > tx.BlockRef>>32+uint64(tx.Expiration) {
			f.refuse(w, "tx rejected: expired")
			return
		}
		origin := crypto.PubkeyToAddress(*pub)
		id := blake2b.Sum256(append(h[:], origin[:]...))
		f.got, f.ids = &tx, append(f.ids, "0x"+hex.EncodeToString(id[:]))
		_ = json.NewEncoder(w).Encode(map[string]string{"id": "0x" + hex.EncodeToString(id[:])})
	default:
		http.NotFound(w, r)
	}
}

func (f *Thor) refuse(w http.ResponseWriter, why string) {
	f.T.Errorf("node refused: %s", why)
	http.Error(w, why, http.StatusBadRequest)
}

// SetBest moves the best block.
func (f *Thor) SetBest(n uint32) { f.mu.Lock(); f.Best = n; f.mu.Unlock() }
