package daemon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/intent"
)

func batchSubject(n int) Subject {
	idx := uint32(0)
	return Subject{Tx: PendingTx{ID: fmt.Sprintf("65f1c0de%016d", n), Chain: "ETH",
		SerializedTransaction: fmt.Sprintf(`{"nonce":%d}`, n), Hashes: []string{"wallet"}, Index: &idx},
		Intent: intent.Intent{Chain: "ETH", Network: "mainnet", Signers: []string{}}, Indexes: []uint32{0}, Decoded: true}
}

// approveAll answers every request of a batch with a signed d.
func approveAll(secret []byte, d approval.Decision) func(http.ResponseWriter, *http.Request, []approval.Request) {
	return func(w http.ResponseWriter, _ *http.Request, reqs []approval.Request) {
		answers := make([]approval.Answer, len(reqs))
		for i := range answers {
			answers[i] = approval.Answer{Decision: d, Reason: "by rule"}
		}
		_ = approval.RespondBatch(w, secret, reqs, answers, time.Now())
	}
}

// holdFirst makes the service hold its first single request until release
// is closed; arrived is closed when it comes.
func holdFirst(s *v2Service) (arrived, release chan struct{}) {
	arrived, release = make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.answer = func(w http.ResponseWriter, _ *http.Request, req approval.Request) {
		first := false
		once.Do(func() { first = true })
		if first {
			close(arrived)
			<-release
		}
		_ = approval.Respond(w, s.secret, req, approval.Approve, "", time.Now())
	}
	return arrived, release
}

// gather asks about subject 0 while the service holds it, then about
// subjects 1..n at once, waits until they are all queued behind it, lets
// the service answer, and returns each call's error.
func gather(t *testing.T, s *v2Service, a *Approver, n int) []error {
	t.Helper()
	arrived, release := holdFirst(s)
	errs := make([]error, n+1)
	var wg sync.WaitGroup
	ask := func(i int) {
		defer wg.Done()
		errs[i] = a.Approve(t.Context(), batchSubject(i))
	}
	wg.Add(1)
	go ask(0)
	<-arrived
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go ask(i)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		queued := a.batch.sender.Queued()
		if queued == n {
			break
		}
		if time.Now().After(deadline) {
			close(release)
			t.Fatalf("%d of %d queued", queued, n)
		}
	}
	close(release)
	wg.Wait()
	return errs
}

// inFlight is v2Approver with n requests in flight before others wait.
func inFlight(t *testing.T, url string, secret []byte, n int) *Approver {
	a := v2Approver(t, url, secret)
	a.batch = newApprovalBatcher(a, n)
	return a
}

// A lone request goes at once and alone; those asked while it is in flight
// go together in one batch, each approved by its own signed item.
func TestApprovalBatchGathersWhatIsAskedMeanwhile(t *testing.T) {
	secret := []byte("approval-secret")
	svc := newV2Service(t, secret)
	svc.batch = approveAll(secret, approval.Approve)
	a := inFlight(t, svc.srv.URL, secret, 1)
	for i := range 3 {
		if err := a.Approve(t.Context(), batchSubject(100+i)); err != nil {
			t.Fatal(err)
		}
	}
	if svc.singles != 3 || len(svc.batches) != 0 {
		t.Fatalf("one at a time: %d singles, batches %v, want 3 singles", svc.singles, svc.batches)
	}
	for i, err := range gather(t, svc, a, 10) {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if svc.singles != 4 || !slices.Equal(svc.batches, []int{10}) || svc.bad != 0 {
		t.Fatalf("%d singles, batches %v, %d bad: want the held one alone, then one batch of 10", svc.singles, svc.batches, svc.bad)
	}
}

// With two in flight, a second request does not wait for the first.
func TestApprovalBatchTwoInFlight(t *testing.T) {
	secret := []byte("approval-secret")
	svc := newV2Service(t, secret)
	svc.batch = approveAll(secret, approval.Approve)
	a := inFlight(t, svc.srv.URL, secret, 2)
	arrived, release := holdFirst(svc)
	done := make(chan error, 1)
	go func() { done <- a.Approve(t.Context(), batchSubject(0)) }()
	<-arrived
	if err := a.Approve(t.Context(), batchSubject(1)); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if svc.singles != 2 || len(svc.batches) != 0 {
		t.Fatalf("%d singles, batches %v", svc.singles, svc.batches)
	}
}

// A service without the batch form answers 404: each request of the batch
// is asked alone, and no batch is sent again.
func TestApprovalBatchFallsBackOn404(t *testing.T) {
	secret := []byte("approval-secret")
	svc := newV2Service(t, secret)
	a := inFlight(t, svc.srv.URL, secret, 1)
	for i, err := range gather(t, svc, a, 5) {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if svc.noBatch != 1 || svc.singles != 6 || svc.bad != 0 {
		t.Fatalf("%d batches answered 404, %d singles, %d bad", svc.noBatch, svc.singles, svc.bad)
	}
	// From then on every request goes alone at once, however many are
	// in flight.
	arrived, release := holdFirst(svc)
	held := make(chan error, 1)
	go func() { held <- a.Approve(t.Context(), batchSubject(50)) }()
	<-arrived
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.Approve(t.Context(), batchSubject(60+i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if svc.noBatch != 1 || svc.singles != 12 {
		t.Fatalf("after the 404: %d batches answered 404, %d singles", svc.noBatch, svc.singles)
	}
}

// Another status (a service failing) sends each request alone this time
// only: the next gathered requests go as a batch again.
func TestApprovalBatchFallsBackOnceOnOtherStatus(t *testing.T) {
	secret := []byte("approval-secret")
	svc := newV2Service(t, secret)
	var mu sync.Mutex
	fail := true
	svc.batch = func(w http.ResponseWriter, r *http.Request, reqs []approval.Request) {
		mu.Lock()
		f := fail
		fail = false
		mu.Unlock()
		if f {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		approveAll(secret, approval.Approve)(w, r, reqs)
	}
	a := inFlight(t, svc.srv.URL, secret, 1)
	for round := 1; round <= 2; round++ {
		for i, err := range gather(t, svc, a, 4) {
			if err != nil {
				t.Errorf("round %d, call %d: %v", round, i, err)
			}
		}
	}
	if svc.singles != 1+4+1 || !slices.Equal(svc.batches, []int{4, 4}) {
		t.Fatalf("%d singles, batches %v: want 503 then alone, then a batch", svc.singles, svc.batches)
	}
}

// A signed refusal in a batch is final, as a single one is.
func TestApprovalBatchRefusalIsFinal(t *testing.T) {
	secret := []byte("approval-secret")
	svc := newV2Service(t, secret)
	svc.batch = approveAll(secret, approval.Refuse)
	a := inFlight(t, svc.srv.URL, secret, 1)
	errs := gather(t, svc, a, 3)
	for i, err := range errs[1:] {
		var re *RefusedError
		if !errors.As(err, &re) || re.Reason != "by rule" {
			t.Errorf("call %d: %v, want a refusal", i+1, err)
		}
	}
}

// No hostile batch answer approves or refuses: the requests it does not
// answer validly are not approved yet, and are not asked alone either.
func TestApprovalBatchHostileAnswersNeverApprove(t *testing.T) {
	secret := []byte("approval-secret")
	// edited signs approvals of reqs, lets edit change them, and writes them.
	edited := func(edit func(reqs []approval.Request, b *approval.BatchResponse)) func(http.ResponseWriter, *http.Request, []approval.Request) {
		return func(w http.ResponseWriter, _ *http.Request, reqs []approval.Request) {
			var b approval.BatchResponse
			for _, req := range reqs {
				resp := approveOf(req)
				b.Responses = append(b.Responses, approval.BatchItem{Response: resp, Signature: approval.SignResponse(secret, resp)})
			}
			edit(reqs, &b)
			_ = json.NewEncoder(w).Encode(b)
		}
	}
	resign := func(it *approval.BatchItem) { it.Signature = approval.SignResponse(secret, it.Response) }
	for name, answer := range map[string]func(http.ResponseWriter, *http.Request, []approval.Request){
		"empty": edited(func(_ []approval.Request, b *approval.BatchResponse) { b.Responses = nil }),
		"duplicated": edited(func(_ []approval.Request, b *approval.BatchResponse) {
			b.Responses = append(b.Responses, b.Responses...)
		}),
		"wrong digest": edited(func(_ []approval.Request, b *approval.BatchResponse) {
			for i := range b.Responses {
				b.Responses[i].Digest = approval.Digest("other")
				resign(&b.Responses[i])
			}
		}),
		"ids swapped": edited(func(_ []approval.Request, b *approval.BatchResponse) {
			for i := range b.Responses {
				b.Responses[i].ID = b.Responses[(i+1)%len(b.Responses)].ID
			}
		}),
		"ids not asked": edited(func(_ []approval.Request, b *approval.BatchResponse) {
			for i := range b.Responses {
				b.Responses[i].ID = fmt.Sprintf("65f1c0de%016d", 900+i)
				resign(&b.Responses[i])
			}
		}),
		"stale": edited(func(_ []approval.Request, b *approval.BatchResponse) {
			for i := range b.Responses {
				b.Responses[i].Timestamp -= 120
				resign(&b.Responses[i])
			}
		}),
		"unsigned": edited(func(_ []approval.Request, b *approval.BatchResponse) {
			for i := range b.Responses {
				b.Responses[i].Signature = ""
			}
		}),
		"another secret": edited(func(_ []approval.Request, b *approval.BatchResponse) {
			for i := range b.Responses {
				b.Responses[i].Signature = approval.SignResponse([]byte("another"), b.Responses[i].Response)
			}
		}),
		"signed in a header only": func(w http.ResponseWriter, _ *http.Request, reqs []approval.Request) {
			resp := approveOf(reqs[0])
			w.Header().Set(approval.HeaderSignature, approval.SignResponse(secret, resp))
			_ = json.NewEncoder(w).Encode(approval.BatchResponse{Responses: []approval.BatchItem{{Response: resp}}})
		},
		"a single answer": func(w http.ResponseWriter, _ *http.Request, reqs []approval.Request) {
			signedReply(secret, w, approveOf(reqs[0]))
		},
		"oversize": edited(func(_ []approval.Request, b *approval.BatchResponse) {
			b.Responses[0].Reason = strings.Repeat("x", 4*approval.MaxBatchItemBytes)
		}),
		"duplicate keys": func(w http.ResponseWriter, _ *http.Request, reqs []approval.Request) {
			_, _ = w.Write([]byte(`{"responses":[],"Responses":[]}`))
		},
	} {
		t.Run(name, func(t *testing.T) {
			svc := newV2Service(t, secret)
			svc.batch = answer
			a := inFlight(t, svc.srv.URL, secret, 1)
			errs := gather(t, svc, a, 3)
			for i, err := range errs[1:] {
				if !errors.Is(err, ErrNotApproved) || errors.Is(err, ErrRefused) {
					t.Errorf("call %d: %v, want not approved yet", i+1, err)
				}
			}
			if svc.singles != 1 || len(svc.batches) != 1 {
				t.Fatalf("%d singles, batches %v: want the batch's requests left for the next run", svc.singles, svc.batches)
			}
		})
	}
}

// TestBatchBodyIsJSONMarshal checks the batch body the daemon writes by
// hand against encoding/json's, byte for byte, for requests holding strings
// that need escapes and requests stamped in an earlier second, and the
// request MAC against those exact bytes.
func TestBatchBodyIsJSONMarshal(t *testing.T) {
	secret := []byte("secret")
	a, err := NewApprover(ApproverConfig{URL: "http://127.0.0.1:1/approve", Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	a.Now = func() time.Time { return now }
	var sent []byte
	var header http.Header
	a.HTTP.Transport = roundTrip(func(r *http.Request) (*http.Response, error) {
		sent, _ = io.ReadAll(r.Body)
		header = r.Header.Clone()
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	})
	odd := []string{`"quoted" \ back`, "<b>&</b>", "é\u2028\x00\xff", "tab\there"}
	var group []*asking
	for i := range 8 {
		s := ethSubject(i)
		s.Tx.SerializedTransaction += odd[i%len(odd)]
		s.Intent.Transfers[0].Asset = odd[(i+1)%len(odd)]
		s.Intent.Memo = odd[(i+2)%len(odd)]
		if i%2 == 1 {
			s.Tx.QueuedBy = ""
		}
		// Every third was asked a second earlier and is stamped again.
		group = append(group, newAsking(t.Context(), v2Request(s, now.Add(-time.Duration(i%3/2)*time.Second))))
	}
	a.batch.send(group)
	reqs := make([]approval.Request, len(group))
	for i, c := range group {
		reqs[i] = c.req
		if c.req.Timestamp != now.Unix() {
			t.Fatalf("request %d stamped %d, want %d", i, c.req.Timestamp, now.Unix())
		}
	}
	want, err := json.Marshal(approval.BatchRequest{Version: approval.Version, Requests: reqs})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sent, want) {
		t.Fatalf("batch body\n got %s\nwant %s", sent, want)
	}
	ts := header.Get(approval.HeaderTimestamp)
	if mac := approval.RequestMAC(secret, http.MethodPost, "/approve/batch", ts, want); header.Get(approval.HeaderSignature) != mac {
		t.Fatalf("signature %q, want %q", header.Get(approval.HeaderSignature), mac)
	}
}
