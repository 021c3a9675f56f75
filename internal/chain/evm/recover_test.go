package evm

import (
	"crypto/ecdsa"
	"encoding/hex"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

var (
	secpN     = crypto.S256().Params().N
	secpHalfN = new(big.Int).Rsh(secpN, 1)
)

// withSig is a transaction of type typ (legacy, 0x01 or 0x02) for chain id
// with the raw signature values v, r and s as they stand in the encoding.
func withSig(typ byte, id uint64, nonce uint64, v, r, s *big.Int) *types.Transaction {
	to := common.Address{0xaa, byte(nonce)}
	cid := new(big.Int).SetUint64(id)
	switch typ {
	case TypeAccessList:
		return types.NewTx(&types.AccessListTx{ChainID: cid, Nonce: nonce, GasPrice: big.NewInt(7), Gas: 21000, To: &to,
			Value: big.NewInt(1), V: v, R: r, S: s})
	case TypeDynamicFee:
		return types.NewTx(&types.DynamicFeeTx{ChainID: cid, Nonce: nonce, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(9),
			Gas: 21000, To: &to, Value: big.NewInt(1), V: v, R: r, S: s})
	default:
		return types.NewTx(&types.LegacyTx{Nonce: nonce, GasPrice: big.NewInt(7), Gas: 21000, To: &to, Value: big.NewInt(1),
			V: v, R: r, S: s})
	}
}

// checkSender fails t unless decodeSigned, given tx's encoding, and
// go-ethereum's signer for the transaction's chain id agree on whether it
// has a sender and on the sender, for what decodeSigned lets reach the
// recovery (an EIP-155 chain id, not zero, that fits 64 bits). It reports
// whether a sender was recovered.
func checkSender(t testing.TB, tx *types.Transaction) bool {
	t.Helper()
	raw, err := tx.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	id := tx.ChainId()
	if !tx.Protected() || id.Sign() == 0 || !id.IsUint64() {
		if _, _, err := decodeSigned(raw); err == nil {
			v, _, _ := tx.RawSignatureValues()
			t.Fatalf("type %d V %v: no chain id, taken", tx.Type(), v)
		}
		return false
	}
	_, got, err := decodeSigned(raw)
	want, werr := types.LatestSignerForChainID(id).Sender(tx)
	v, r, s := tx.RawSignatureValues()
	if (err == nil) != (werr == nil) {
		t.Fatalf("type %d id %d v %x r %x s %x: error %v, go-ethereum's %v", tx.Type(), id, v, r, s, err, werr)
	}
	if err == nil && got != want {
		t.Fatalf("type %d id %d v %x r %x s %x: sender %s, go-ethereum's %s", tx.Type(), id, v, r, s, got, want)
	}
	return err == nil
}

var chainIDs = []uint64{1, 56, 137, 42220, 44787, 11155111, 1<<31 - 1, 1<<63 + 5, 1<<64 - 1}

// Thousands of random keys sign legacy EIP-155, 0x01 and 0x02 transactions
// for chain ids up to 2^64-1: decodeSigned recovers the signing key's
// address, as go-ethereum does. Each signature is then altered (the other
// recovery id, high s, V of ids 2 and 3, V without or beyond the chain id
// or 256 past it,
// r or s at the edges of their range, random r and s) and decodeSigned
// must still agree with go-ethereum on the sender or on the refusal.
func TestDecodeSignedSenderMatchesGoEthereum(t *testing.T) {
	rng := rand.New(rand.NewChaCha8([32]byte{'s', 'e', 'n', 'd'}))
	types3 := []byte{types.LegacyTxType, TypeAccessList, TypeDynamicFee}
	keys := 2000
	if testing.Short() {
		keys = 200
	}
	recovered := 0
	for i := range keys {
		key := randomKey(t, rng)
		typ, id := types3[i%3], chainIDs[rng.IntN(len(chainIDs))]
		signer := types.LatestSignerForChainID(new(big.Int).SetUint64(id))
		unsigned := withSig(typ, id, uint64(i), nil, nil, nil)
		tx, err := types.SignTx(unsigned, signer, key)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := tx.MarshalBinary()
		_, sender, err := decodeSigned(raw)
		if err != nil || sender != crypto.PubkeyToAddress(key.PublicKey) {
			t.Fatalf("type %d id %d: sender %s, %v; want %s", typ, id, sender, err, crypto.PubkeyToAddress(key.PublicKey))
		}
		checkSender(t, tx)

		v, r, s := tx.RawSignatureValues()
		base := new(big.Int) // V of recovery id 0
		if typ == types.LegacyTxType {
			base.SetUint64(id).Lsh(base, 1).Add(base, big.NewInt(35))
		}
		recID := new(big.Int).Sub(v, base).Int64()
		random := func() *big.Int {
			var b [32]byte
			fillRandom(rng, b[:])
			return new(big.Int).Mod(new(big.Int).SetBytes(b[:]), secpN)
		}
		for _, alt := range []struct{ v, r, s *big.Int }{
			{new(big.Int).Add(base, big.NewInt(1-recID)), r, s}, // the other id
			{v, r, new(big.Int).Sub(secpN, s)},                  // high s
			{new(big.Int).Add(base, big.NewInt(2)), r, s},       // id 2
			{new(big.Int).Add(base, big.NewInt(3)), r, s},       // id 3
			{new(big.Int).Sub(base, big.NewInt(1)), r, s},       // below the ids
			{new(big.Int).Add(v, big.NewInt(256)), r, s},        // 27 + 256 + id: a byte too many
			{new(big.Int).Add(v, new(big.Int).Lsh(big.NewInt(1), 64)), r, s},
			{big.NewInt(27), r, s}, {big.NewInt(28), r, s}, {big.NewInt(0), r, s}, {big.NewInt(1), r, s},
			{v, new(big.Int), s}, {v, r, new(big.Int)}, {v, secpN, s}, {v, r, secpN},
			{v, new(big.Int).Add(r, secpN), s}, {v, r, secpHalfN}, {v, r, new(big.Int).Add(secpHalfN, big.NewInt(1))},
			{v, random(), new(big.Int).Rsh(random(), 1)},
		} {
			if alt.v.Sign() < 0 {
				continue // no encoding: a typed transaction's V below 0
			}
			if checkSender(t, withSig(typ, id, uint64(i), alt.v, alt.r, alt.s)) {
				recovered++
			}
		}
	}
	// The other id, and half the random r, recover some key.
	if recovered < keys {
		t.Fatalf("only %d altered signatures recovered a sender", recovered)
	}
}

func fillRandom(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

func randomKey(t testing.TB, rng *rand.Rand) *ecdsa.PrivateKey {
	var seed [32]byte
	fillRandom(rng, seed[:])
	key, err := crypto.ToECDSA(seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// CIP-64 (Celo's 0x7b, which go-ethereum does not know): a random key's
// signature recovers its address; altered signatures recover what
// go-ethereum's ValidateSignatureValues and SigToPub recover, or nothing
// when they fail.
func TestDecodeSignedCIP64SenderMatchesGoEthereum(t *testing.T) {
	rng := rand.New(rand.NewChaCha8([32]byte{'c', 'i', 'p'}))
	fee := common.Address{0x87}
	for i := range 300 {
		key := randomKey(t, rng)
		nonce, gas := uint64(i), uint64(90000)
		tx := &Tx{Type: TypeCeloFeeCurrency, ChainID: big.NewInt(44787), Nonce: &nonce, Gas: &gas, To: &fee,
			Value: big.NewInt(5), GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(30), FeeCurrency: &fee}
		var hash []byte
		var sig []byte
		encode := func(alter func(sig []byte)) []byte {
			s, err := signCIP64(tx, func(h []byte) ([]byte, error) {
				hash = h
				sig, _ = crypto.Sign(h, key)
				alter(sig)
				return sig, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			raw, err := hex.DecodeString(strings.TrimPrefix(s.TxData, "0x"))
			if err != nil {
				t.Fatal(err)
			}
			return raw
		}
		raw := encode(func([]byte) {})
		if _, got, err := decodeSignedCIP64(raw[1:]); err != nil || got != crypto.PubkeyToAddress(key.PublicKey) {
			t.Fatalf("sender %s, %v; want %s", got, err, crypto.PubkeyToAddress(key.PublicKey))
		}
		for _, alter := range []func(sig []byte){
			func(sig []byte) { sig[64] ^= 1 },
			func(sig []byte) { sig[64] += 2 },
			func(sig []byte) { new(big.Int).Sub(secpN, new(big.Int).SetBytes(sig[32:64])).FillBytes(sig[32:64]) },
			func(sig []byte) { clear(sig[:32]) },
			func(sig []byte) { secpN.FillBytes(sig[:32]) },
			func(sig []byte) { fillRandom(rng, sig[:32]) },
		} {
			raw := encode(alter)
			_, got, err := decodeSignedCIP64(raw[1:])
			r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:64])
			var want common.Address
			ok := sig[64] <= 1 && crypto.ValidateSignatureValues(sig[64], r, s, true)
			if ok {
				pub, err := crypto.SigToPub(hash, sig)
				if ok = err == nil; ok {
					want = crypto.PubkeyToAddress(*pub)
				}
			}
			if (err == nil) != ok || got != want {
				t.Fatalf("sig %x: sender %s, %v; go-ethereum's %s, %v", sig, got, err, want, ok)
			}
		}
	}
}

// FuzzDecodeSignedSender compares decodeSigned's sender with go-ethereum's
// on arbitrary signature values of each transaction type and chain id.
func FuzzDecodeSignedSender(f *testing.F) {
	f.Add(byte(0), uint64(1), []byte{37}, []byte{5}, []byte{1}, uint64(0))
	f.Add(byte(2), uint64(44787), []byte{1}, secpN.Bytes(), secpHalfN.Bytes(), uint64(3))
	f.Add(byte(1), uint64(56), []byte{0}, []byte{1}, []byte{2}, uint64(1))
	f.Fuzz(func(t *testing.T, typ byte, id uint64, v, r, s []byte, nonce uint64) {
		if id == 0 || len(v) > 40 || len(r) > 40 || len(s) > 40 {
			return
		}
		typ %= 3 // legacy, 0x01, 0x02
		V := new(big.Int).SetBytes(v)
		if typ == types.LegacyTxType && len(v) == 1 {
			// A one-byte V: read it as the recovery id (0 to 3) of an
			// EIP-155 V, which random bytes would seldom hit.
			V.SetUint64(id).Lsh(V, 1).Add(V, big.NewInt(35+int64(v[0]%4)))
		}
		checkSender(t, withSig(typ, id, nonce, V, new(big.Int).SetBytes(r), new(big.Int).SetBytes(s)))
	})
}
