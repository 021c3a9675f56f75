package approver_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/approver"
	"github.com/custoskms/custos/internal/daemon"
)

// limitedConsole is a console whose sign-in limit runs on the clock *now.
func limitedConsole(t *testing.T, rate, burst int, now *time.Time) *approver.Console {
	t.Helper()
	f := newFixture(t, testRules)
	rs, err := approver.ReadRules(strings.NewReader(testRules))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := approver.New(approver.Config{Store: f.store, Rules: rs, Secret: secret, Audit: f.audit,
		Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	c, err := approver.NewConsole(approver.ConsoleConfig{Service: svc, Origin: origin, SignInRate: rate, SignInBurst: burst})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ceremony posts to a ceremony route from remote (with the ceremony cookie
// of an earlier begin, if any).
func ceremony(h http.Handler, path, remote, body string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", path, strings.NewReader(body))
	r.RemoteAddr = remote
	r.Header.Set("Origin", origin)
	r.Header.Set("Content-Type", "application/json")
	for _, ck := range cookies {
		r.AddCookie(ck)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// wantLimited checks a 429 in the ceremony's JSON with its Retry-After.
func wantLimited(t *testing.T, w *httptest.ResponseRecorder, retryAfter string) {
	t.Helper()
	var body struct{ Error string }
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != retryAfter ||
		json.Unmarshal(w.Body.Bytes(), &body) != nil || !strings.Contains(body.Error, "too many") {
		t.Fatalf("past the limit: %d, Retry-After %q, %s; want 429, %s and a JSON error", w.Code, w.Header().Get("Retry-After"), w.Body, retryAfter)
	}
}

// Past its burst an address gets 429 with Retry-After for the next
// ceremony; other addresses are not affected (an IPv6 address's whole /64
// is one client); the bucket refills with time.
func TestSignInLimitPerAddress(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	h := limitedConsole(t, 0, 0, &now).Handler() // the defaults: 10 a minute, bursts of 10
	const remote = "192.0.2.1:50000"
	for i := range approver.DefaultSignInBurst {
		if w := ceremony(h, "/signin/begin", remote, ""); w.Code != http.StatusOK {
			t.Fatalf("sign-in %d: %d %s", i, w.Code, w.Body)
		}
	}
	wantLimited(t, ceremony(h, "/signin/begin", remote, ""), "6")
	// Enrolment begins draw on the same bucket, before the token is looked up.
	wantLimited(t, ceremony(h, "/enrol/begin", "192.0.2.1:50001", `{"token":"x"}`), "6")

	if w := ceremony(h, "/signin/begin", "192.0.2.2:50000", ""); w.Code != http.StatusOK {
		t.Fatalf("another address: %d %s", w.Code, w.Body)
	}
	for i := range approver.DefaultSignInBurst {
		if w := ceremony(h, "/signin/begin", "[2001:db8:1:2:"+strconv.Itoa(i)+"::1]:443", ""); w.Code != http.StatusOK {
			t.Fatalf("IPv6 sign-in %d: %d", i, w.Code)
		}
	}
	wantLimited(t, ceremony(h, "/signin/begin", "[2001:db8:1:2:ffff::9]:443", ""), "6")
	if w := ceremony(h, "/signin/begin", "[2001:db8:1:3::1]:443", ""); w.Code != http.StatusOK {
		t.Fatalf("another /64: %d", w.Code)
	}

	now = now.Add(3 * time.Second)
	wantLimited(t, ceremony(h, "/signin/begin", remote, ""), "3")
	now = now.Add(3 * time.Second)
	if w := ceremony(h, "/signin/begin", remote, ""); w.Code != http.StatusOK {
		t.Fatalf("after 6 s: %d %s", w.Code, w.Body)
	}
	wantLimited(t, ceremony(h, "/signin/begin", remote, ""), "6")
	now = now.Add(time.Minute)
	for i := range approver.DefaultSignInBurst {
		if w := ceremony(h, "/signin/begin", remote, ""); w.Code != http.StatusOK {
			t.Fatalf("a minute later, sign-in %d: %d", i, w.Code)
		}
	}
}

// A finish with a bad assertion costs the address a ceremony more.
func TestSignInLimitCountsFailedFinishes(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	h := limitedConsole(t, 1, 3, &now).Handler()
	const remote = "198.51.100.7:1234"
	begin := ceremony(h, "/signin/begin", remote, "")
	if begin.Code != http.StatusOK {
		t.Fatalf("begin: %d %s", begin.Code, begin.Body)
	}
	if w := ceremony(h, "/signin/finish", remote, `{"id":"forged"}`, begin.Result().Cookies()...); w.Code != http.StatusUnauthorized {
		t.Fatalf("a bad assertion: %d %s", w.Code, w.Body)
	}
	// 3 - a begin - a failed finish leaves one.
	if w := ceremony(h, "/signin/begin", remote, ""); w.Code != http.StatusOK {
		t.Fatalf("the third ceremony: %d", w.Code)
	}
	wantLimited(t, ceremony(h, "/signin/begin", remote, ""), "60")
}

// A flood of distinct addresses keeps at most the bound's buckets.
func TestSignInLimitMemoryBound(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c := limitedConsole(t, 0, 0, &now)
	h := c.Handler()
	for i := range approver.MaxSignInAddresses + 2000 {
		// An unknown enrolment token: counted, and no ceremony is kept.
		remote := "10." + strconv.Itoa(i>>16&255) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255) + ":1"
		if w := ceremony(h, "/enrol/begin", remote, `{"token":"unknown"}`); w.Code != http.StatusBadRequest {
			t.Fatalf("address %d: %d %s", i, w.Code, w.Body)
		}
	}
	if n := c.SignInAddresses(); n != approver.MaxSignInAddresses {
		t.Fatalf("%d addresses kept, want the bound %d", n, approver.MaxSignInAddresses)
	}
}

// The daemon's approval route authenticates with its MAC and is not
// counted: it answers from an address whose sign-in bucket is empty.
func TestSignInLimitLeavesTheApprovalRoute(t *testing.T) {
	f := newFixture(t, testRules)
	c, err := approver.NewConsole(approver.ConsoleConfig{Service: f.svc, Origin: origin, SignInRate: 1, SignInBurst: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	post := func() int {
		r, err := http.NewRequestWithContext(t.Context(), "POST", srv.URL+"/signin/begin", nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Origin", origin)
		resp, err := srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if a, b := post(), post(); a != http.StatusOK || b != http.StatusTooManyRequests {
		t.Fatalf("sign-ins from the daemon's address: %d then %d, want 200 then 429", a, b)
	}
	ask, err := daemon.NewApprover(daemon.ApproverConfig{URL: srv.URL + strings.TrimSuffix(approver.ApprovalPath, "/"), Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	for n := range byte(30) {
		// Below the "small" rule's amount: approved at once.
		if err := ask.Approve(t.Context(), subject(id(n), "wallet-a", "500")); err != nil {
			t.Fatalf("approval request %d: %v", n, err)
		}
	}
}

// A negative rate sets no limit (`--signin-limit 0`).
func TestSignInLimitOff(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	h := limitedConsole(t, -1, 0, &now).Handler()
	for i := range 50 {
		if w := ceremony(h, "/signin/begin", "192.0.2.1:1", ""); w.Code != http.StatusOK {
			t.Fatalf("sign-in %d without a limit: %d", i, w.Code)
		}
	}
}
