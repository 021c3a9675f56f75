package e2e

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/custoskms/custos/internal/daemon"
	"github.com/custoskms/custos/internal/devchain"
)

// startDevChain runs the embedded dev chain with funder's address funded.
func startDevChain(t testing.TB, funded ...common.Address) *devchain.Chain {
	t.Helper()
	alloc := map[common.Address]*big.Int{}
	for _, a := range funded {
		alloc[a] = ether(1_000_000)
	}
	c, err := devchain.Start(context.Background(), devchain.Options{Alloc: alloc, PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func newFunder(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// transferCase is one queued transaction of the flow.
type transferCase struct {
	name string
	id   string // pending id
}

// runFlow is the end-to-end flow on any node at chainID whose funder account
// holds ether: a private-key wallet and a mnemonic wallet (index 5) each
// queue a value transfer and an ERC-20 transfer through POST /v3/kms, one
// daemon run signs and submits them, the server broadcasts them through the
// node, and each is checked on the chain and by GET /v3/kms/{id}.
func runFlow(t *testing.T, s *stack, funder *ecdsa.PrivateKey) {
	pkw := s.addPrivateKeyWallet()
	mnw := s.addMnemonicWallet(5)
	for _, w := range []managed{pkw, mnw} {
		s.sendDirect(funder, &w.addr, ether(10), nil, 21000)
	}
	supply := new(big.Int).Mul(big.NewInt(1_000_000), devchain.Ether)
	token := s.deployToken(funder, supply)
	for _, w := range []managed{pkw, mnw} {
		s.sendDirect(funder, &token, new(big.Int), transferCall(w.addr, big.NewInt(1_000_000)), 300_000)
	}

	payee, tokenPayee := randomAddress(t), randomAddress(t)
	cases := []transferCase{
		// (a)+(c): value transfer, private-key wallet, native unsigned EIP-1559 hex.
		{name: "value/private-key/native", id: s.queue(pkw, nativeTx1559(t, payee, big.NewInt(1_111), 0, 21000), false)},
		// (b)+(c): ERC-20 transfer, private-key wallet, Tatum JSON, legacy gas price.
		{name: "erc20/private-key/tatum", id: s.queue(pkw, tatumTx(token, new(big.Int), transferCall(tokenPayee, big.NewInt(300)), 1, 300_000), false)},
		// (a)+(d): value transfer, mnemonic wallet by hashes + index.
		{name: "value/mnemonic-index/tatum", id: s.queue(mnw, tatumTx1559(payee, big.NewInt(2_222), nil, 0, 21000), false)},
		// (b)+(d): ERC-20 transfer, mnemonic wallet by signatures[{id,index}].
		{name: "erc20/mnemonic-signatures/tatum", id: s.queue(mnw, tatumTx1559(token, new(big.Int), transferCall(tokenPayee, big.NewInt(400)), 1, 300_000), true)},
	}
	for _, c := range cases {
		if got := s.get(c.id); got.TxID != "" {
			t.Fatalf("%s: txId %s before signing", c.name, got.TxID)
		}
	}

	d := s.newDaemon(s.client(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sum, err := d.RunOnce(ctx)
	if err != nil || sum.Signed != 4 || sum.Submitted != 4 || sum.Failed != 0 {
		t.Fatalf("daemon run: %+v %v", sum, err)
	}

	senders := map[string]common.Address{cases[0].name: pkw.addr, cases[1].name: pkw.addr, cases[2].name: mnw.addr, cases[3].name: mnw.addr}
	for _, c := range cases {
		got := s.get(c.id)
		if got.TxID == "" {
			t.Fatalf("%s: GET shows no txId after the run", c.name)
		}
		r := s.receipt(ctx, common.HexToHash(got.TxID))
		if r.Status != types.ReceiptStatusSuccessful {
			t.Fatalf("%s: receipt status %d", c.name, r.Status)
		}
		tx, _, err := s.node.TransactionByHash(ctx, r.TxHash)
		if err != nil {
			t.Fatal(err)
		}
		from, err := types.Sender(types.LatestSignerForChainID(big.NewInt(chainID)), tx)
		if err != nil || from != senders[c.name] {
			t.Fatalf("%s: signed by %s, want %s (%v)", c.name, from.Hex(), senders[c.name].Hex(), err)
		}
	}
	if got, want := s.balance(payee), big.NewInt(1_111+2_222); got.Cmp(want) != 0 {
		t.Fatalf("payee balance %s, want %s", got, want)
	}
	if got := s.tokenBalance(token, tokenPayee); got.Int64() != 700 {
		t.Fatalf("token payee balance %s, want 700", got)
	}
	if got := s.tokenBalance(token, pkw.addr); got.Int64() != 1_000_000-300 {
		t.Fatalf("private-key wallet token balance %s", got)
	}
	if got := s.tokenBalance(token, mnw.addr); got.Int64() != 1_000_000-400 {
		t.Fatalf("mnemonic wallet token balance %s", got)
	}
	if s.nonce(pkw.addr) != 2 || s.nonce(mnw.addr) != 2 {
		t.Fatalf("nonces %d %d, want 2 2", s.nonce(pkw.addr), s.nonce(mnw.addr))
	}

	// A second run finds nothing: completed transactions are not pending.
	sum, err = d.RunOnce(ctx)
	if err != nil || sum.Pending != 0 || sum.Signed != 0 {
		t.Fatalf("second run: %+v %v", sum, err)
	}
}

func TestEndToEndDevChain(t *testing.T) {
	funder := newFunder(t)
	c := startDevChain(t, crypto.PubkeyToAddress(funder.PublicKey))
	runFlow(t, newStack(t, c.URL()), funder)
}

// queueOne funds a private-key wallet on a dev chain and queues one value
// transfer (nonce 0) from it.
func queueOne(t *testing.T) (*stack, managed, string, common.Address) {
	s, w, payee := fundedWallet(t)
	id := s.queue(w, tatumTx(payee, big.NewInt(5_000), nil, 0, 21000), false)
	return s, w, id, payee
}

// fundedWallet is a stack on a fresh dev chain with a private-key wallet
// holding 1 ether, and a payee address.
func fundedWallet(t *testing.T) (*stack, managed, common.Address) {
	funder := newFunder(t)
	c := startDevChain(t, crypto.PubkeyToAddress(funder.PublicKey))
	s := newStack(t, c.URL())
	w := s.addPrivateKeyWallet()
	s.sendDirect(funder, &w.addr, ether(1), nil, 21000)
	return s, w, randomAddress(t)
}

// nothingSigned checks that no trace of id exists anywhere: not in the
// ledger, not at the API, not on the chain.
func (s *stack) nothingSigned(id string, w managed) {
	s.t.Helper()
	l, err := daemon.OpenLedger(s.ledgerPath)
	if err != nil {
		s.t.Fatal(err)
	}
	defer l.Close()
	got, err := l.Lookup(context.Background(), []string{id})
	if err != nil || len(got) != 0 {
		s.t.Fatalf("ledger holds %v (%v)", got, err)
	}
	if txData, err := s.pstore.TxData(context.Background(), s.tenant, id); err != nil || txData != "" {
		s.t.Fatalf("API holds txData %q (%v)", txData, err)
	}
	if tx := s.get(id); tx.TxID != "" {
		s.t.Fatalf("completed with %s", tx.TxID)
	}
	pn, err := s.node.PendingNonceAt(context.Background(), w.addr)
	if err != nil || pn != 0 || s.nonce(w.addr) != 0 {
		s.t.Fatalf("the wallet sent a transaction: pending nonce %d (%v)", pn, err)
	}
}

// The approval service answering 503 (busy), a service that is down, or one
// that does not answer in time, does not approve yet. Nothing is signed in
// any case, and once the service approves, the same transaction goes
// through. (A 403 refuses for good: TestDeletedInTheMiddle.)
func TestApprovalRefusedOrDown(t *testing.T) {
	s, w, id, payee := queueOne(t)
	secret := []byte("approval secret of the e2e test")

	var asked, badSig atomic.Int32
	answer := atomic.Int32{}
	answer.Store(http.StatusServiceUnavailable)
	svc := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		if daemon.VerifyApproval(secret, r, nil, time.Now(), time.Minute) != nil || r.URL.Path != "/approve/"+id {
			badSig.Add(1)
		}
		rw.WriteHeader(int(answer.Load()))
	}))
	defer svc.Close()

	// A closed port: the service is down.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downURL := "http://" + ln.Addr().String() + "/approve"
	ln.Close()
	// A service that never answers within the timeout.
	hang := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer hang.Close()

	run := func(url string) daemon.Summary {
		t.Helper()
		ap, err := daemon.NewApprover(daemon.ApproverConfig{URL: url, Protocol: daemon.ProtocolV1, Method: http.MethodGet, Secret: secret, Timeout: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		d := s.newDaemon(s.client(), func(c *daemon.Config) { c.Approval = ap })
		sum, err := d.RunOnce(context.Background())
		d.Close()
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	for name, url := range map[string]string{"503": svc.URL + "/approve", "down": downURL, "timeout": hang.URL + "/approve"} {
		sum := run(url)
		if sum.Rejected != 1 || sum.Signed != 0 || sum.Submitted != 0 {
			t.Fatalf("%s: %+v", name, sum)
		}
		s.nothingSigned(id, w)
	}
	if asked.Load() != 1 || badSig.Load() != 0 {
		t.Fatalf("approval service asked %d times, %d badly signed", asked.Load(), badSig.Load())
	}

	// The same service approving: signed, submitted, mined.
	answer.Store(http.StatusNoContent)
	if sum := run(svc.URL + "/approve"); sum.Signed != 1 || sum.Submitted != 1 {
		t.Fatalf("approved: %+v", sum)
	}
	tx := s.get(id)
	if r := s.receipt(context.Background(), common.HexToHash(tx.TxID)); r.Status != 1 || s.balance(payee).Int64() != 5_000 {
		t.Fatalf("after approval: status %d, payee %s", r.Status, s.balance(payee))
	}
}

// crashingAPI stands for a daemon process that dies right after its ledger
// write: Broadcast is where the signed transaction would leave the process,
// and nothing leaves — not the submission, not an error report.
type crashingAPI struct {
	daemon.API
	reached atomic.Int32
}

var errKilled = errors.New("process killed")

func (c *crashingAPI) Broadcast(context.Context, string, string, string) (string, error) {
	c.reached.Add(1)
	return "", errKilled
}

func (c *crashingAPI) ReportErrors(context.Context, []daemon.TxError) error { return errKilled }

// A daemon killed between signing and submitting leaves the signed
// transaction in its ledger and nothing anywhere else; after a restart the
// same txData is submitted (not signed again), and the chain holds exactly one
// transaction from the wallet.
//
// It runs without leases (Tatum's behaviour) and with them, as `custos daemon`
// runs by default: the restarted process has a new signer id, so it gets the
// transaction once the dead process's lease has expired.
func TestCrashBetweenSigningAndSubmitting(t *testing.T) {
	t.Run("no-lease", func(t *testing.T) { crashAndRestart(t, 0) })
	t.Run("lease", func(t *testing.T) { crashAndRestart(t, time.Second) })
}

func crashAndRestart(t *testing.T, lease time.Duration) {
	s, w, id, payee := queueOne(t)
	clientAs := func(signer string) *daemon.Client {
		c := s.client()
		if lease > 0 {
			c.SignerID, c.LeaseSeconds = signer, int(lease/time.Second)
		}
		return c
	}
	withLease := func(c *daemon.Config) { c.Lease = lease }

	crash := &crashingAPI{API: clientAs("signer-killed")}
	d := s.newDaemon(crash, withLease)
	sum, _ := d.RunOnce(context.Background())
	d.Close() // the lock file of a killed process is released by the OS
	if crash.reached.Load() != 1 || sum.Signed != 1 || sum.Submitted != 0 {
		t.Fatalf("first run: %+v, broadcast reached %d", sum, crash.reached.Load())
	}
	l, err := daemon.OpenLedger(s.ledgerPath)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := l.Lookup(context.Background(), []string{id})
	l.Close()
	if err != nil || len(entries) != 1 {
		t.Fatalf("ledger after the crash: %v %v", entries, err)
	}
	signed := entries[id]
	if tx := s.get(id); tx.TxID != "" {
		t.Fatalf("completed before any submission: %s", tx.TxID)
	}
	if n, err := s.node.PendingNonceAt(context.Background(), w.addr); err != nil || n != 0 {
		t.Fatalf("a transaction reached the node: pending nonce %d %v", n, err)
	}

	// Restart: the daemon submits from its ledger.
	d = s.newDaemon(clientAs("signer-restarted"), withLease)
	if lease > 0 {
		// The dead process's lease still holds the transaction.
		sum, err := d.RunOnce(context.Background())
		if err != nil || sum.Pending != 0 {
			t.Fatalf("during the lease: %+v %v", sum, err)
		}
		time.Sleep(lease + 100*time.Millisecond)
	}
	sum, err = d.RunOnce(context.Background())
	if err != nil || sum.Resubmitted != 1 || sum.Signed != 0 || sum.Submitted != 1 {
		t.Fatalf("after restart: %+v %v", sum, err)
	}
	tx := s.get(id)
	if tx.TxID != signed.TxID {
		t.Fatalf("completed with %s, the ledger signed %s", tx.TxID, signed.TxID)
	}
	if txData, err := s.pstore.TxData(context.Background(), s.tenant, id); err != nil || txData != signed.TxData {
		t.Fatalf("the API received other bytes than the ledger's (%v)", err)
	}
	r := s.receipt(context.Background(), common.HexToHash(tx.TxID))
	if r.Status != 1 {
		t.Fatalf("status %d", r.Status)
	}
	mined, _, err := s.node.TransactionByHash(context.Background(), r.TxHash)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := mined.MarshalBinary()
	if err != nil || "0x"+common.Bytes2Hex(raw) != signed.TxData {
		t.Fatalf("mined bytes differ from the ledger's (%v)", err)
	}
	// Exactly one transaction from the wallet: nonce 0 used once, and no
	// other transaction of the wallet in any block.
	if s.nonce(w.addr) != 1 || s.balance(payee).Int64() != 5_000 {
		t.Fatalf("nonce %d, payee %s", s.nonce(w.addr), s.balance(payee))
	}
	if n := s.countSent(w.addr); n != 1 {
		t.Fatalf("%d transactions from the wallet on chain, want 1", n)
	}
	// Another restart finds nothing to do.
	sum, err = d.RunOnce(context.Background())
	if err != nil || sum.Pending != 0 || sum.Resubmitted != 0 {
		t.Fatalf("third run: %+v %v", sum, err)
	}
}

// countSent counts the transactions sent by a in every block of the chain.
func (s *stack) countSent(a common.Address) int {
	s.t.Helper()
	ctx := context.Background()
	head, err := s.node.BlockNumber(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	n := 0
	for i := uint64(0); i <= head; i++ {
		b, err := s.node.BlockByNumber(ctx, new(big.Int).SetUint64(i))
		if err != nil {
			s.t.Fatal(err)
		}
		for _, tx := range b.Transactions() {
			if from, err := types.Sender(types.LatestSignerForChainID(big.NewInt(chainID)), tx); err == nil && from == a {
				n++
			}
		}
	}
	return n
}
