package e2e

import (
	"context"
	"math/big"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/ethereum/go-ethereum/common"
	ethtypes "github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/custoskms/custos/internal/chain"
	"github.com/custoskms/custos/internal/remotekey"
	"github.com/custoskms/custos/internal/remotekey/awskms/kmstest"
	"github.com/custoskms/custos/internal/walletstore"
)

// An ETH transfer from a wallet whose key lives in KMS (the emulator): the
// daemon signs it through the KMS backend, the API broadcasts it, and the dev
// chain mines it from the KMS key's address.
func TestKMSKeyTransferMined(t *testing.T) {
	ep := kmstest.Endpoint(t)
	ctx := context.Background()
	ref, pub, err := remotekey.Register(ctx, remotekey.Ref{Backend: remotekey.AWSKMS,
		KeyID: kmstest.CreateKey(t, ep, types.KeySpecEccSecgP256k1), Region: kmstest.Region, Endpoint: ep})
	if err != nil {
		t.Fatal(err)
	}
	funder := newFunder(t)
	c := startDevChain(t, crypto.PubkeyToAddress(funder.PublicKey))
	s := newStack(t, c.URL())
	w := managed{sigID: walletstore.NewID(), addr: common.Address(chain.KeccakAddress(pub))}
	if err := s.wallets.Put(ctx, w.sigID, &walletstore.Wallet{Chain: "ETH", Testnet: true, Remote: &ref, Address: w.addr.Hex()}); err != nil {
		t.Fatal(err)
	}
	s.sendDirect(funder, &w.addr, ether(1), nil, 21000)
	payee := randomAddress(t)
	id := s.queue(w, tatumTx(payee, big.NewInt(5_000), nil, 0, 21000), false)

	sum, err := s.newDaemon(s.client(), nil).RunOnce(ctx)
	if err != nil || sum.Submitted != 1 || sum.Failed != 0 {
		t.Fatalf("run: %+v %v", sum, err)
	}
	got := s.get(id)
	if got.TxID == "" {
		t.Fatal("not completed")
	}
	r := s.receipt(ctx, common.HexToHash(got.TxID))
	if r.Status != ethtypes.ReceiptStatusSuccessful {
		t.Fatalf("receipt status %d", r.Status)
	}
	tx, _, err := s.node.TransactionByHash(ctx, r.TxHash)
	if err != nil {
		t.Fatal(err)
	}
	from, err := ethtypes.Sender(ethtypes.LatestSignerForChainID(big.NewInt(chainID)), tx)
	if err != nil || from != w.addr {
		t.Fatalf("signed by %s, want the KMS key's %s (%v)", from.Hex(), w.addr.Hex(), err)
	}
	if b := s.balance(payee); b.Int64() != 5_000 {
		t.Fatalf("payee balance %s", b)
	}
}
