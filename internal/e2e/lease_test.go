package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/custoskms/custos/internal/daemon"
)

// A daemon that holds a claimed transaction past its lease (here: its
// approval takes longer than the lease) keeps it: the run renews its leases
// through the API's lease route, so another signer's claim meanwhile gets
// nothing, and the run still signs and submits it, mined on the dev chain.
func TestHeldLeaseRenewedThroughTheAPI(t *testing.T) {
	s, w, id, payee := queueOne(t)
	const lease = 2 * time.Second
	var othersGot atomic.Int32
	othersGot.Store(-1)
	svc := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		// Past the claim's lease: without renewals it has run out.
		time.Sleep(lease + 300*time.Millisecond)
		var got []pendingTx
		body := map[string]any{"signatureIds": []string{w.sigID}, "signerId": "another-daemon", "leaseSeconds": 60}
		if code := s.apiDo(http.MethodPost, "/v3/kms/pending/ETH", body, &got); code == http.StatusOK {
			othersGot.Store(int32(len(got)))
		}
		rw.WriteHeader(http.StatusNoContent)
	}))
	defer svc.Close()
	ap, err := daemon.NewApprover(daemon.ApproverConfig{URL: svc.URL + "/approve", Protocol: daemon.ProtocolV1,
		Method: http.MethodGet, Secret: []byte("approval secret of the lease test"), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c := s.client()
	c.SignerID, c.LeaseSeconds = "daemon-a", int(lease/time.Second)
	d := s.newDaemon(c, func(cfg *daemon.Config) { cfg.Approval, cfg.Lease = ap, lease })
	sum, err := d.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := othersGot.Load(); n != 0 {
		t.Fatalf("another signer's claim past the first lease got %d transactions, want 0 (the lease was renewed)", n)
	}
	if sum.Signed != 1 || sum.Submitted != 1 {
		t.Fatalf("summary %+v: want the transaction signed and submitted in the same run", sum)
	}
	tx := s.get(id)
	if r := s.receipt(context.Background(), common.HexToHash(tx.TxID)); r.Status != 1 || s.balance(payee).Int64() != 5_000 {
		t.Fatalf("status %d, payee %s", r.Status, s.balance(payee))
	}
}
