package daemon

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/chain/chains"
	"github.com/custoskms/custos/internal/chain/evm/evmtest"
	"github.com/custoskms/custos/internal/remotekey"
)

// A wallet whose key is held outside the process is signed with through its
// opener: the submitted transaction recovers to that key's address.
func TestDaemonSignsWithARemoteKey(t *testing.T) {
	key := evmtest.NewMemKey(t)
	key.HighS = true
	pub, _ := key.PublicKey(t.Context())
	ref := remotekey.Ref{Backend: remotekey.AWSKMS, KeyID: "alias/custos"}
	opened := 0
	open := func(_ context.Context, got remotekey.Ref) (chain.DigestSigner, error) {
		if got != ref {
			t.Errorf("opened %+v, want %+v", got, ref)
		}
		opened++
		return key, nil
	}
	api := newFakeAPI(t)
	keys := newMemKeys(Wallet{WalletRef: WalletRef{SignatureID: sigPK, Chain: "ETH", Testnet: true}, Remote: &ref})
	api.add(PendingTx{ID: txID(1), Chain: "ETH", SerializedTransaction: unsignedEIP1559(11155111, 0, [20]byte{1}), Hashes: []string{sigPK}})
	ledger := filepath.Join(t.TempDir(), "l.db")
	d, err := New(Config{Chains: []string{"ETH"}, Testnet: true, LedgerPath: ledger, OpenRemoteKey: open}, api.client(), keys)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := d.RunOnce(t.Context())
	d.Close()
	if err != nil || sum.Failed != 0 || sum.Submitted != 1 || opened != 1 {
		t.Fatalf("%+v %v, key opened %d times; reported %+v", sum, err, opened, api.errorsReported())
	}
	got := api.submitted(txID(1))
	if len(got) != 1 {
		t.Fatalf("submitted %v", got)
	}
	var tx types.Transaction
	if err := tx.UnmarshalBinary(common.FromHex(got[0])); err != nil {
		t.Fatal(err)
	}
	from, err := types.Sender(types.LatestSignerForChainID(tx.ChainId()), &tx)
	if err != nil || from != common.Address(chain.KeccakAddress(pub)) {
		t.Fatalf("sender %s (%v), want the remote key's address", from.Hex(), err)
	}
}

// custos sign holds no remote key opener: its Resolve refuses such a wallet
// rather than signing with an empty key.
func TestResolveRefusesARemoteKey(t *testing.T) {
	ref := remotekey.Ref{Backend: remotekey.AWSKMS, KeyID: "k"}
	keys := newMemKeys(Wallet{WalletRef: WalletRef{SignatureID: sigPK, Chain: "ETH", Testnet: true}, Remote: &ref})
	c, err := chains.Lookup("ETH")
	if err != nil {
		t.Fatal(err)
	}
	tx := PendingTx{ID: txID(1), Chain: "ETH", SerializedTransaction: unsignedEIP1559(11155111, 0, [20]byte{1}), Hashes: []string{sigPK}}
	if _, err := NewResolver(keys, true).Resolve(t.Context(), c, tx); !errors.Is(err, ErrRemoteKey) {
		t.Fatalf("err %v, want ErrRemoteKey", err)
	}
}

// countingKey is a remote key that notes how many of its kind sign at once.
type countingKey struct {
	chain.DigestSigner
	now, most *atomic.Int64
}

func (k countingKey) SignDigest(ctx context.Context, digest []byte) (*big.Int, *big.Int, error) {
	n := k.now.Add(1)
	defer k.now.Add(-1)
	for m := k.most.Load(); n > m && !k.most.CompareAndSwap(m, n); m = k.most.Load() {
	}
	time.Sleep(2 * time.Millisecond) // a round trip to the key service
	return k.DigestSigner.SignDigest(ctx, digest)
}

// Keys held outside the process are asked at most remoteInFlight at a time,
// though the concurrency lets far more transactions be in flight.
func TestRemoteSignaturesBounded(t *testing.T) {
	const n = 3 * remoteInFlight
	var now, most atomic.Int64
	api := newFakeAPI(t)
	keys := newMemKeys()
	remote := map[string]chain.DigestSigner{}
	for i := range n {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		ref := remotekey.Ref{Backend: remotekey.AWSKMS, KeyID: "alias/k" + strconv.Itoa(i)}
		remote[ref.KeyID] = countingKey{evmtest.NewMemKey(t), &now, &most}
		keys.wallets[id] = Wallet{WalletRef: WalletRef{SignatureID: id, Chain: "ETH", Testnet: true}, Remote: &ref}
		api.add(PendingTx{ID: txID(i + 1), Chain: "ETH", SerializedTransaction: unsignedEIP1559(11155111, 0, [20]byte{1}), Hashes: []string{id}})
	}
	open := func(_ context.Context, ref remotekey.Ref) (chain.DigestSigner, error) { return remote[ref.KeyID], nil }
	d, err := New(Config{Chains: []string{"ETH"}, Testnet: true, LedgerPath: filepath.Join(t.TempDir(), "l.db"), OpenRemoteKey: open,
		Concurrency: 4 * remoteInFlight}, api.client(), keys)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sum, err := d.RunOnce(t.Context())
	if err != nil || sum.Submitted != n {
		t.Fatalf("%+v %v; reported %+v", sum, err, api.errorsReported())
	}
	if m := most.Load(); m > remoteInFlight || m < 2 {
		t.Fatalf("%d remote signatures at once, want 2..%d", m, remoteInFlight)
	}
}
