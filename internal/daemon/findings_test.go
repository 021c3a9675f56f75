package daemon

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/custoskms/custos/approval"
)

// TestFindings reproduces each finding of the security review that led to
// approval protocol v2, the signing policy and the audit log (docs/policy.md,
// docs/design.md §6), as the attack it describes, and shows that no
// signature comes of it. Where a test of the package proves a finding, the
// subtest runs that test or its helper. What the API decides (the gas price
// it fills, /metrics) is proved against the real API by e2e's
// TestFindingsAtTheAPI.
func TestFindings(t *testing.T) {
	secret := []byte("shared approval secret")

	t.Run("1 approval bypass", func(t *testing.T) {
		// An API answering the id "../../health" steered the approval
		// request to /health, which answers 200 to anyone.
		t.Run("id traversal", func(t *testing.T) {
			var health, asked atomic.Int32
			svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/health" {
					health.Add(1)
					return // 200
				}
				asked.Add(1)
				w.WriteHeader(http.StatusServiceUnavailable)
			}))
			defer svc.Close()
			h := newHarness(t)
			h.queueThree()
			h.api.rewrite = func(b []byte) []byte {
				return bytes.Replace(b, []byte(`"id":"`+txID(1)+`"`), []byte(`"id":"../../health"`), 1)
			}
			d := h.daemon(func(c *Config) { c.Approval = approver(t, svc.URL, "GET", secret) })
			sum, err := d.RunOnce(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if health.Load() != 0 || asked.Load() != 1 || sum.Signed != 0 || h.chain.calls.Load() != 0 {
				t.Fatalf("/health asked %d times, approval %d; summary %+v, signatures %d", health.Load(), asked.Load(), sum, h.chain.calls.Load())
			}
			t.Run("TestParsePendingTxRefusesBadIDs", TestParsePendingTxRefusesBadIDs)
		})
		// A 302 to a login page (200), and any 2xx that is not a signed
		// approval of the very id and bytes, approve nothing.
		for _, name := range []string{"redirect 302 to a 200 login page", "unsigned 200", "empty 204"} {
			t.Run(name, func(t *testing.T) { assertNeverApproved(t, secret, answerNamed(t, secret, name)) })
		}
		t.Run("TestApprovalFollowsNoRedirect", TestApprovalFollowsNoRedirect)
		// A refusal is final: TestApprovalV2SignedRefusalIsFinal.
	})

	// {"serializedTransaction":"A","SerializedTransaction":"B"} was shown
	// to the approver as A and signed as B (TestAmbiguousKeysAreNotSigned).
	t.Run("2 approver and signer read different transactions", func(t *testing.T) {
		h := newHarness(t)
		svc := newV2Service(t, secret)
		sum := ambiguousRun(t, h, h.daemon(withV2(t, h, svc)))
		if h.chain.calls.Load() != 1 || svc.asked() != 1 || svc.reqs[0].ID != txID(4) || sum.Signed != 1 ||
			len(h.api.submitted(txID(1)))+len(h.api.submitted(txID(2))) != 0 {
			t.Fatalf("summary %+v, signatures %d, approval requests %d", sum, h.chain.calls.Load(), svc.asked())
		}
	})

	// With --wallets B, a transaction naming [A, B] with A's from was
	// signed with A's key (TestWalletsLimitWhichKeysSign).
	t.Run("3 wallets bypass", func(t *testing.T) {
		h := newHarness(t)
		sum := walletsRun(t, h)
		if sum.Signed != 1 || h.chain.calls.Load() != 1 || len(h.api.submitted(txID(1)))+len(h.api.submitted(txID(3))) != 0 {
			t.Fatalf("summary %+v, signatures %d", sum, h.chain.calls.Load())
		}
	})

	// Nothing limited what was signed (TestPolicyRefusalIsFinal): a
	// transfer over the policy's limit is refused before any key is used.
	t.Run("4 no signing policy", func(t *testing.T) {
		h := newHarness(t)
		h.pay(1, "1001")
		ic, mod := h.withPolicy(testPolicy(t, `{"maxAmount":{"":"1000"}}`))
		sum, err := h.daemon(mod).RunOnce(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if r := h.api.errorsReported(); sum.Signed != 0 || ic.calls.Load() != 0 || len(r) != 1 || !r[0].Refused {
			t.Fatalf("summary %+v, signatures %d, reports %+v", sum, ic.calls.Load(), r)
		}
	})

	t.Run("5 clients", func(t *testing.T) {
		// The daemon's X-API-Key followed a 307 to another host: now the
		// run fails and signs nothing, and the other host sees no key.
		t.Run("redirected API", func(t *testing.T) {
			h := newHarness(t)
			h.queueThree()
			front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, h.api.srv.URL+r.URL.Path, http.StatusTemporaryRedirect)
			}))
			defer front.Close()
			c, err := NewClient(front.URL, testAPIKey)
			if err != nil {
				t.Fatal(err)
			}
			c.Retries = 0
			assertRunFails(t, h, c)
			if h.api.pendingCalls != 0 {
				t.Fatalf("the API key followed the redirect %d times", h.api.pendingCalls)
			}
			t.Run("TestClientFollowsNoRedirect", TestClientFollowsNoRedirect)
		})
		// The daemon read API answers of any size: one past the cap is
		// an error, and nothing is signed.
		t.Run("oversize answer", func(t *testing.T) {
			h := newHarness(t)
			h.queueThree()
			c := h.api.client()
			c.MaxAnswer = 64
			assertRunFails(t, h, c)
			t.Run("TestClientCapsAnswers", TestClientCapsAnswers)
		})
	})
}

// answerNamed is the answer of unapprovingAnswers called name.
func answerNamed(t *testing.T, secret []byte, name string) func(w http.ResponseWriter, r *http.Request, req approval.Request) {
	t.Helper()
	for _, a := range unapprovingAnswers(secret) {
		if a.name == name {
			return a.answer
		}
	}
	t.Fatalf("no answer %q", name)
	return nil
}

// assertRunFails runs a daemon of h talking to the API through c: the run
// fails and nothing is signed or submitted.
func assertRunFails(t *testing.T, h *harness, c *Client) {
	t.Helper()
	d, err := New(Config{Chains: []string{"ETH"}, Testnet: true, LedgerPath: h.ledger, Lookup: lookupOf(h.chain)}, c, h.keys)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sum, err := d.RunOnce(t.Context())
	if err == nil || sum.Signed != 0 || h.chain.calls.Load() != 0 || len(h.api.received()) != 0 {
		t.Fatalf("run: %+v %v; signatures %d", sum, err, h.chain.calls.Load())
	}
}

// A JSON serializedTransaction behind a space JSON does not allow (a
// vertical tab, a no-break space) is checked too, and refused: a chain's
// parser that trims Unicode spaces would otherwise read a duplicate key
// this check never saw.
func TestCheckSerializedBehindAnySpace(t *testing.T) {
	for _, s := range []string{"\v{\"to\":\"a\",\"to\":\"b\"}", "\u00a0{\"to\":\"a\",\"TO\":\"b\"}", "\f[1]", " \t{\"a\":1,\"a\":2}"} {
		if err := checkSerialized(s); !errors.Is(err, ErrAmbiguousJSON) {
			t.Errorf("%q: %v, want ErrAmbiguousJSON", s, err)
		}
	}
	for _, s := range []string{" {\"to\":\"a\"}", "0xf86c", "AAAA", ""} {
		if err := checkSerialized(s); err != nil {
			t.Errorf("%q: %v, want no refusal", s, err)
		}
	}
}
