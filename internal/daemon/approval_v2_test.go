package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/intent"
)

// v2Service is an approval service double speaking v2: it checks each
// request with approval.ParseRequest and answers as answer says.
type v2Service struct {
	srv    *httptest.Server
	secret []byte
	mu     sync.Mutex
	reqs   []approval.Request
	bad    int
	// answer writes the reply to a valid request; nil approves, signed.
	answer func(w http.ResponseWriter, r *http.Request, req approval.Request)
	// batch writes the reply to a valid batch request; nil answers 404, as
	// a service without the batch form does.
	batch func(w http.ResponseWriter, r *http.Request, reqs []approval.Request)
	// singles counts single requests, batches the size of each batch,
	// noBatch the batches answered 404.
	singles int
	batches []int
	noBatch int
}

func newV2Service(t *testing.T, secret []byte) *v2Service {
	s := &v2Service{secret: secret}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			_, _ = io.WriteString(w, "<html>sign in</html>")
			return
		}
		if strings.HasSuffix(r.URL.Path, "/"+approval.BatchSegment) {
			s.serveBatch(w, r)
			return
		}
		req, err := approval.ParseRequest(secret, r, time.Now(), time.Minute)
		s.mu.Lock()
		if err != nil {
			s.bad++
		} else {
			s.reqs = append(s.reqs, req)
			s.singles++
		}
		answer := s.answer
		s.mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if answer == nil {
			_ = approval.Respond(w, secret, req, approval.Approve, "", time.Now())
			return
		}
		answer(w, r, req)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *v2Service) serveBatch(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	answer := s.batch
	if answer == nil {
		s.noBatch++
	}
	s.mu.Unlock()
	if answer == nil {
		http.NotFound(w, r)
		return
	}
	reqs, err := approval.ParseBatchRequest(s.secret, r, time.Now(), time.Minute)
	s.mu.Lock()
	if err != nil {
		s.bad++
	} else {
		s.reqs = append(s.reqs, reqs...)
		s.batches = append(s.batches, len(reqs))
	}
	s.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	answer(w, r, reqs)
}

func (s *v2Service) asked() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

func v2Approver(t *testing.T, url string, secret []byte) *Approver {
	a, err := NewApprover(ApproverConfig{URL: url + "/approve", Secret: secret, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if a.Protocol() != ProtocolV2 {
		t.Fatalf("default protocol %s", a.Protocol())
	}
	return a
}

// withV2 configures a daemon to ask svc in v2 about transactions of a
// chain that decodes intents.
func withV2(t *testing.T, h *harness, svc *v2Service) func(*Config) {
	return func(c *Config) {
		c.Approval = v2Approver(t, svc.srv.URL, svc.secret)
		c.Lookup = lookupOf(h.chain)
	}
}

// reply writes resp with the given signature header (none when empty).
func reply(w http.ResponseWriter, resp approval.Response, sig string) {
	if sig != "" {
		w.Header().Set(approval.HeaderSignature, sig)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func signedReply(secret []byte, w http.ResponseWriter, resp approval.Response) {
	reply(w, resp, approval.SignResponse(secret, resp))
}

func approveOf(req approval.Request) approval.Response {
	return approval.Response{ID: req.ID, Digest: req.Digest, Decision: approval.Approve, Timestamp: time.Now().Unix()}
}

// Every answer but a signed, fresh approval of the very id and bytes asked
// about leaves the transactions unsigned, unreported and pending, and they
// are asked about again next run.
func TestApprovalV2SignsOnlyOnASignedFreshAnswer(t *testing.T) {
	secret := []byte("shared approval secret")
	for _, tc := range unapprovingAnswers(secret) {
		t.Run(tc.name, func(t *testing.T) { assertNeverApproved(t, secret, tc.answer) })
	}
}

// v2Answer is one way an approval service (or what stands in its place)
// answers a v2 request.
type v2Answer struct {
	name   string
	answer func(w http.ResponseWriter, r *http.Request, req approval.Request)
}

// unapprovingAnswers are the answers that must not approve: everything but
// a signed, fresh approval of the very id and bytes asked about.
func unapprovingAnswers(secret []byte) []v2Answer {
	other := []byte("another secret")
	return []v2Answer{
		{"unsigned 200", func(w http.ResponseWriter, _ *http.Request, req approval.Request) {
			reply(w, approveOf(req), "")
		}},
		{"empty 204", func(w http.ResponseWriter, _ *http.Request, _ approval.Request) { w.WriteHeader(http.StatusNoContent) }},
		{"wrong MAC", func(w http.ResponseWriter, _ *http.Request, req approval.Request) {
			signedReply(other, w, approveOf(req))
		}},
		{"MAC of another decision", func(w http.ResponseWriter, _ *http.Request, req approval.Request) {
			resp := approveOf(req)
			refuse := resp
			refuse.Decision = approval.Refuse
			reply(w, resp, approval.SignResponse(secret, refuse))
		}},
		{"stale timestamp", func(w http.ResponseWriter, _ *http.Request, req approval.Request) {
			resp := approveOf(req)
			resp.Timestamp -= 120
			signedReply(secret, w, resp)
		}},
		{"timestamp from the future", func(w http.ResponseWriter, _ *http.Request, req approval.Request) {
			resp := approveOf(req)
			resp.Timestamp += 120
			signedReply(secret, w, resp)
		}},
		{"digest of other bytes", func(w http.ResponseWriter, _ *http.Request, req approval.Request) {
			resp := approveOf(req)
			resp.Digest = approval.Digest("tx-other")
			signedReply(secret, w, resp)
		}},
		{"another id", func(w http.ResponseWriter, _ *http.Request, req approval.Request) {
			resp := approveOf(req)
			resp.ID = txID(99)
			signedReply(secret, w, resp)
		}},
		{"unknown decision", func(w http.ResponseWriter, _ *http.Request, req approval.Request) {
			resp := approveOf(req)
			resp.Decision = "yes"
			signedReply(secret, w, resp)
		}},
		{"signed pending", func(w http.ResponseWriter, _ *http.Request, req approval.Request) {
			resp := approveOf(req)
			resp.Decision = approval.Pending
			resp.Reason = "1 of 2 approvals"
			signedReply(secret, w, resp)
		}},
		{"signed approval with a non-2xx status", func(w http.ResponseWriter, _ *http.Request, req approval.Request) {
			resp := approveOf(req)
			w.Header().Set(approval.HeaderSignature, approval.SignResponse(secret, resp))
			w.WriteHeader(http.StatusBadGateway)
			_ = json.NewEncoder(w).Encode(resp)
		}},
		{"unsigned 403 (not final in v2)", func(w http.ResponseWriter, _ *http.Request, _ approval.Request) {
			http.Error(w, "no", http.StatusForbidden)
		}},
		{"redirect 302 to a 200 login page", func(w http.ResponseWriter, r *http.Request, _ approval.Request) {
			http.Redirect(w, r, "/login", http.StatusFound)
		}},
		{"malformed", func(w http.ResponseWriter, _ *http.Request, req approval.Request) {
			w.Header().Set(approval.HeaderSignature, approval.SignResponse(secret, approveOf(req)))
			_, _ = io.WriteString(w, `{"id":`)
		}},
		{"duplicate decision keys", func(w http.ResponseWriter, _ *http.Request, req approval.Request) {
			resp := approveOf(req)
			w.Header().Set(approval.HeaderSignature, approval.SignResponse(secret, resp))
			b, _ := json.Marshal(resp)
			_, _ = w.Write(bytes.Replace(b, []byte(`"decision":"approve"`), []byte(`"decision":"approve","Decision":"approve"`), 1))
		}},
		{"oversize", func(w http.ResponseWriter, _ *http.Request, req approval.Request) {
			// A valid signed approval, padded past the cap with whitespace
			// that a decoder would skip.
			resp := approveOf(req)
			w.Header().Set(approval.HeaderSignature, approval.SignResponse(secret, resp))
			b, _ := json.Marshal(resp)
			_, _ = w.Write(append(b, bytes.Repeat([]byte(" "), approval.MaxResponseBytes)...))
		}},
	}
}

// assertNeverApproved runs a daemon asking a v2 service that answers with
// answer, twice: the two transactions are asked about each run, and never
// signed, submitted or reported.
func assertNeverApproved(t *testing.T, secret []byte, answer func(w http.ResponseWriter, r *http.Request, req approval.Request)) {
	t.Helper()
	h := newHarness(t)
	h.queueThree()
	svc := newV2Service(t, secret)
	svc.answer = answer
	d := h.daemon(withV2(t, h, svc))
	for run := 1; run <= 2; run++ {
		sum, err := d.RunOnce(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if sum.Rejected != 2 || sum.Signed != 0 || h.chain.calls.Load() != 0 {
			t.Fatalf("run %d: summary %+v, signer calls %d: want nothing signed", run, sum, h.chain.calls.Load())
		}
		if svc.asked() != 2*run || svc.bad != 0 {
			t.Fatalf("run %d: service asked %d times (%d bad requests), want %d", run, svc.asked(), svc.bad, 2*run)
		}
	}
	if r := h.api.errorsReported(); len(r) != 0 {
		t.Fatalf("not approved yet, yet reported: %+v", r)
	}
	if len(h.api.submitted(txID(1)))+len(h.api.submitted(txID(2))) != 0 {
		t.Fatal("an unapproved transaction was submitted")
	}
}

// A signed approval signs; the request carries the exact bytes, their
// digest, the intent decoded from them, the wallets and the index.
func TestApprovalV2RequestCarriesWhatIsSigned(t *testing.T) {
	secret := []byte("shared approval secret")
	h := newHarness(t)
	h.queueThree()
	svc := newV2Service(t, secret)
	d := h.daemon(withV2(t, h, svc))
	sum, err := d.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Signed != 2 || sum.Submitted != 2 || svc.asked() != 2 {
		t.Fatalf("summary %+v, asked %d", sum, svc.asked())
	}
	for _, req := range svc.reqs {
		if req.Version != 2 || req.Chain != "ETH" || req.Network != "testnet" ||
			req.Digest != approval.Digest(req.SerializedTransaction) ||
			len(req.Intent.Transfers) != 1 || req.Intent.Transfers[0].To != req.SerializedTransaction {
			t.Fatalf("request %+v", req)
		}
		switch req.ID {
		case txID(1):
			if req.SerializedTransaction != "tx-one" || len(req.SignatureIDs) != 1 || req.SignatureIDs[0] != sigPK || len(req.Indexes) != 0 {
				t.Fatalf("request %+v", req)
			}
		case txID(2):
			if req.SerializedTransaction != "tx-two" || req.SignatureIDs[0] != sigMn || len(req.Indexes) != 1 || req.Indexes[0] != 3 {
				t.Fatalf("request %+v", req)
			}
		default:
			t.Fatalf("asked about %s", req.ID)
		}
	}
}

// A signed refusal is final: not signed, reported once with the service's
// reason and "refused": true, and not asked about again, also after a restart.
func TestApprovalV2SignedRefusalIsFinal(t *testing.T) {
	secret := []byte("shared approval secret")
	h := newHarness(t)
	h.queueThree()
	svc := newV2Service(t, secret)
	svc.answer = func(w http.ResponseWriter, _ *http.Request, req approval.Request) {
		_ = approval.Respond(w, secret, req, approval.Refuse, " over the daily limit \n", time.Now())
	}
	cfg := withV2(t, h, svc)
	d := h.daemon(cfg)
	sum, err := d.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rejected != 2 || sum.Signed != 0 || h.chain.calls.Load() != 0 || svc.asked() != 2 {
		t.Fatalf("summary %+v, signer calls %d, asked %d", sum, h.chain.calls.Load(), svc.asked())
	}
	r := h.api.errorsReported()
	if len(r) != 2 {
		t.Fatalf("reports %+v", r)
	}
	for _, e := range r {
		if !e.Refused || e.Error != "refused by the approval service: over the daily limit" {
			t.Fatalf("report %+v", e)
		}
	}
	if _, err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	d.Close()
	d2 := h.daemon(cfg)
	if _, err := d2.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if svc.asked() != 2 || len(h.api.errorsReported()) != 2 || h.chain.calls.Load() != 0 {
		t.Fatalf("later runs: asked %d, reports %d, signer calls %d", svc.asked(), len(h.api.errorsReported()), h.chain.calls.Load())
	}
}

// v2 needs the intent: a chain that cannot decode one is not approved, and
// the service is not asked.
func TestApprovalV2NeedsAnIntent(t *testing.T) {
	secret := []byte("s")
	svc := newV2Service(t, secret)
	a := v2Approver(t, svc.srv.URL, secret)
	err := a.Approve(t.Context(), Subject{Tx: PendingTx{ID: txID(1), Chain: "ETH", SerializedTransaction: "x"}})
	if !errors.Is(err, ErrNotApproved) || errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "intent") || svc.asked() != 0 {
		t.Fatalf("undecoded subject: %v, asked %d", err, svc.asked())
	}
	err = a.Approve(t.Context(), Subject{Tx: PendingTx{ID: "../../health", SerializedTransaction: "x"}, Decoded: true})
	if !errors.Is(err, errBadID) || svc.asked() != 0 || svc.bad != 0 {
		t.Fatalf("bad id: %v, asked %d", err, svc.asked())
	}
}

// The approval URL is https, or http to a loopback host only, in both protocols.
func TestApproverURLMustBeHTTPSOrLoopback(t *testing.T) {
	for _, u := range []string{"http://approve.example/tx", "http://10.0.0.1/tx", "http://127.0.0.1.example/tx", "http://[::2]/tx", "ftp://127.0.0.1/x", "approve.example"} {
		for _, p := range []Protocol{ProtocolV1, ProtocolV2} {
			if _, err := NewApprover(ApproverConfig{URL: u, Protocol: p, Secret: []byte("s")}); !errors.Is(err, ErrConfig) {
				t.Errorf("%s %s: %v, want ErrConfig", p, u, err)
			}
		}
	}
	for _, u := range []string{"https://approve.example/tx", "http://127.0.0.1:8080/tx", "http://127.9.9.9/tx", "http://[::1]:80/tx", "http://localhost/tx", "http://LOCALHOST:1/tx"} {
		if _, err := NewApprover(ApproverConfig{URL: u, Secret: []byte("s")}); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	if _, err := NewApprover(ApproverConfig{URL: "https://a.example", Protocol: "v3", Secret: []byte("s")}); !errors.Is(err, ErrConfig) {
		t.Errorf("protocol v3: %v", err)
	}
}

// The approver and the signer read one transaction: a pending transaction
// with a case-variant serializedTransaction (shown as A by a reader that
// keeps the first key, signed as B by Go's decoder) is never signed or
// shown to the approval service. It is refused for good, as the policy
// refuses: reported once with "refused": true, noted in the ledger, and
// neither asked about nor reported again, not even after a restart.
func TestAmbiguousKeysAreNotSigned(t *testing.T) {
	secret := []byte("s")
	h := newHarness(t)
	svc := newV2Service(t, secret)
	cfg := withV2(t, h, svc)
	d := h.daemon(cfg)
	sum := ambiguousRun(t, h, d)
	if sum.Rejected != 2 || sum.Failed != 0 || sum.Signed != 1 || h.chain.calls.Load() != 1 || svc.asked() != 1 || svc.reqs[0].ID != txID(4) {
		t.Fatalf("summary %+v, signer calls %d, asked %d", sum, h.chain.calls.Load(), svc.asked())
	}
	r := h.api.errorsReported()
	if len(r) != 2 {
		t.Fatalf("reports %+v", r)
	}
	for _, e := range r {
		if !e.Refused || !strings.HasPrefix(e.Error, "refused by the signer: ") || !strings.Contains(e.Error, "ambiguous JSON") ||
			(e.SignatureID != txID(1) && e.SignatureID != txID(2)) {
			t.Fatalf("report %+v", e)
		}
	}
	if sum, err := d.RunOnce(t.Context()); err != nil || sum.Rejected != 0 || sum.Failed != 0 {
		t.Fatalf("second run: %+v %v", sum, err)
	}
	d.Close()
	if sum, err := h.daemon(cfg).RunOnce(t.Context()); err != nil || sum.Rejected != 0 || sum.Failed != 0 {
		t.Fatalf("after a restart: %+v %v", sum, err)
	}
	if len(h.api.errorsReported()) != 2 || h.chain.calls.Load() != 1 || svc.asked() != 1 {
		t.Fatalf("later runs: reports %d, signer calls %d, asked %d", len(h.api.errorsReported()), h.chain.calls.Load(), svc.asked())
	}
}

// ambiguousRun serves three transactions to d, two of them ambiguous: 1
// with a case-variant serializedTransaction key (the API's answer is
// rewritten, since json.Encoder cannot write one), 2 with a JSON
// serializedTransaction holding case-variant keys; 4 is plain. It returns
// the first run's summary.
func ambiguousRun(t *testing.T, h *harness, d *Daemon) Summary {
	t.Helper()
	h.api.add(PendingTx{ID: txID(1), Chain: "ETH", SerializedTransaction: "tx-one", Hashes: []string{sigPK}})
	h.api.add(PendingTx{ID: txID(2), Chain: "ETH", SerializedTransaction: `{"to":"0xaa","To":"0xbb"}`, Hashes: []string{sigMn}, Index: u32(3)})
	h.api.add(PendingTx{ID: txID(4), Chain: "ETH", SerializedTransaction: "tx-four", Hashes: []string{sigPK}})
	h.api.rewrite = func(b []byte) []byte {
		return bytes.Replace(b, []byte(`"serializedTransaction":"tx-one"`), []byte(`"serializedTransaction":"tx-one","SerializedTransaction":"tx-evil"`), 1)
	}
	sum, err := d.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestParsePendingTxRefusesAmbiguousKeys(t *testing.T) {
	for _, doc := range []string{
		`{"id":"` + txID(1) + `","chain":"ETH","serializedTransaction":"A","SerializedTransaction":"B","hashes":["a"]}`,
		`{"id":"` + txID(1) + `","chain":"ETH","serializedTransaction":"A","hashes":["a"],"hashes":["b"]}`,
		`{"id":"` + txID(1) + `","chain":"ETH","serializedTransaction":"{\"value\":\"1\",\"Value\":\"2\"}","hashes":["a"]}`,
		`{"id":"` + txID(1) + `","ID":"` + txID(2) + `","chain":"ETH","serializedTransaction":"A","hashes":["a"]}`,
	} {
		if _, err := ParsePendingTx([]byte(doc)); !errors.Is(err, ErrAmbiguousJSON) {
			t.Errorf("%s: %v, want ErrAmbiguousJSON", doc, err)
		}
	}
	// An ambiguous id cannot be reported under either id.
	if tx, err := parsePending([]byte(`{"id":"`+txID(1)+`","Id":"`+txID(2)+`","chain":"ETH","serializedTransaction":"A","hashes":["a"]}`), false); err == nil || tx.ID != "" {
		t.Errorf("ambiguous id: %q %v", tx.ID, err)
	}
	if _, err := ParsePendingTx([]byte(`{"id":"` + txID(1) + `","chain":"ETH","serializedTransaction":"{\"value\":\"1\",\"to\":\"0x\"}","hashes":["a"]}`)); err != nil {
		t.Errorf("a plain JSON transaction: %v", err)
	}
}

// --wallets limits the keys that sign, not only the ids asked for: with
// --wallets B, a transaction naming [A, B] (A's key would sign on ETH) is
// refused, reported and not signed; one naming B alone is signed.
func TestWalletsLimitWhichKeysSign(t *testing.T) {
	h := newHarness(t)
	sum := walletsRun(t, h)
	if sum.Signed != 1 || sum.Failed != 2 || h.chain.calls.Load() != 1 || len(h.api.submitted(txID(2))) != 1 {
		t.Fatalf("summary %+v, signer calls %d", sum, h.chain.calls.Load())
	}
	rep := h.api.errorsReported()
	if len(rep) != 2 {
		t.Fatalf("reports %+v", rep)
	}
	for _, e := range rep {
		if !strings.Contains(e.Error, ErrWalletNotAllowed.Error()) || e.SignatureID == txID(2) {
			t.Fatalf("report %+v", e)
		}
	}
	// The resolver on its own.
	r := NewResolver(h.keys, true)
	r.only = map[string]bool{sigMn: true}
	defer r.Close()
	if _, err := r.Resolve(context.Background(), h.chain, PendingTx{Chain: "ETH", Hashes: []string{sigPK, sigMn}}); !errors.Is(err, ErrWalletNotAllowed) {
		t.Fatalf("resolve: %v", err)
	}
}

// walletsRun serves three transactions to a daemon given --wallets sigMn:
// 1 names [sigPK, sigMn] (sigPK's key would sign on ETH), 3 names both in
// signatures[], 2 names sigMn alone. It returns the run's summary.
func walletsRun(t *testing.T, h *harness) Summary {
	t.Helper()
	h.api.add(PendingTx{ID: txID(1), Chain: "ETH", SerializedTransaction: "tx-one", Hashes: []string{sigPK, sigMn}, Index: u32(0)})
	h.api.add(PendingTx{ID: txID(2), Chain: "ETH", SerializedTransaction: "tx-two", Hashes: []string{sigMn}, Index: u32(3)})
	h.api.add(PendingTx{ID: txID(3), Chain: "ETH", SerializedTransaction: "tx-three", Signatures: []Signature{{ID: sigPK, Index: u32(1)}, {ID: sigMn, Index: u32(1)}}})
	d := h.daemon(func(c *Config) { c.Wallets = []string{sigMn} })
	sum, err := d.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// The daemon's workers ask in parallel, round after round: they reuse
// their connections to the approval service instead of opening one per
// request past the default two idle per host.
func TestApprovalV2KeepsConnectionsAcrossRequests(t *testing.T) {
	secret := []byte("approval-secret")
	svc := newV2Service(t, secret)
	var opened atomic.Int32
	svc.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			opened.Add(1)
		}
	}
	a := v2Approver(t, svc.srv.URL, secret)
	const workers, rounds = 8, 4
	idx := uint32(0)
	for r := range rounds {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := Subject{Tx: PendingTx{ID: fmt.Sprintf("65f1c0de%016d", r*workers+w), Chain: "ETH",
					SerializedTransaction: "0xf86c", Hashes: []string{"wallet"}, Index: &idx},
					Intent: intent.Intent{Chain: "ETH", Network: "mainnet", Signers: []string{}}, Indexes: []uint32{0}, Decoded: true}
				if err := a.Approve(t.Context(), s); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	// One per worker, and two more: the batch requests (one in flight)
	// overlap the single requests of the workers whose batch the service,
	// which has no batch form, refused, and a connection being released as
	// another request starts makes the transport dial one more.
	if n := opened.Load(); n > workers+2 {
		t.Fatalf("%d connections opened for %d rounds of %d parallel requests, want at most %d", n, rounds, workers, workers+2)
	}
}
