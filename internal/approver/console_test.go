package approver_test

import (
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/approver"
)

const origin = "https://approver.test"

type consoleFixture struct {
	*fixture
	h   http.Handler
	now time.Time
}

func newConsole(t *testing.T) *consoleFixture {
	t.Helper()
	f := newFixture(t, testRules)
	c, err := approver.NewConsole(approver.ConsoleConfig{Service: f.svc, Origin: origin, IdleTimeout: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"alice", "bob", "dave"} {
		if _, err := approver.AddOperator(t.Context(), f.store, op, "", nil, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return &consoleFixture{fixture: f, h: c.Handler()}
}

// signIn stores a session for op as a passkey sign-in would, and returns
// its cookie value and CSRF token.
func (c *consoleFixture) signIn(t *testing.T, op string, lastSeen time.Time) (string, string) {
	t.Helper()
	value, csrf := "cookie-of-"+op, "csrf-of-"+op
	h := sha256.Sum256([]byte(value))
	if err := c.store.CreateSession(t.Context(), approver.Session{Hash: h[:], Operator: op, CSRF: csrf,
		CreatedAt: lastSeen, LastSeen: lastSeen}); err != nil {
		t.Fatal(err)
	}
	return value, csrf
}

func (c *consoleFixture) do(method, target, cookie, from string, form url.Values) *httptest.ResponseRecorder {
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	r := httptest.NewRequest(method, target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if from != "" {
		r.Header.Set("Origin", from)
	}
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: approver.SessionCookie, Value: cookie})
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, r)
	return rec
}

func decideForm(csrf, decision, reason string) url.Values {
	v := url.Values{"decision": {decision}, "reason": {reason}}
	if csrf != "" {
		v.Set(approver.CSRFField, csrf)
	}
	return v
}

func TestConsoleShowsAndDecides(t *testing.T) {
	c := newConsole(t)
	_ = c.ask.Approve(t.Context(), subject(id(10), "wallet-a", "250000"))
	cookie, csrf := c.signIn(t, "alice", time.Now())
	q := c.do("GET", "/queue", cookie, "", nil)
	if q.Code != 200 || !strings.Contains(q.Body.String(), id(10)) || !strings.Contains(q.Body.String(), "250000") ||
		!strings.Contains(q.Body.String(), "0x00000000000000000000000000000000000000aa") || !strings.Contains(q.Body.String(), "0 of 2") {
		t.Fatalf("queue page %d:\n%s", q.Code, q.Body)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options"} {
		if q.Header().Get(h) == "" {
			t.Errorf("queue page without %s", h)
		}
	}
	p := c.do("GET", "/tx/"+id(10), cookie, "", nil)
	if p.Code != 200 || !strings.Contains(p.Body.String(), `name="csrf" value="`+csrf+`"`) || !strings.Contains(p.Body.String(), "sha256:") {
		t.Fatalf("transaction page %d:\n%s", p.Code, p.Body)
	}
	d := c.do("POST", "/tx/"+id(10)+"/decide", cookie, origin, decideForm(csrf, "approve", ""))
	if d.Code != http.StatusSeeOther {
		t.Fatalf("approve: %d %s", d.Code, d.Body)
	}
	again := c.do("POST", "/tx/"+id(10)+"/decide", cookie, origin, decideForm(csrf, "approve", ""))
	if again.Code != http.StatusConflict {
		t.Fatalf("approving twice: %d", again.Code)
	}
	// A rejection needs a reason.
	bobCookie, bobCSRF := c.signIn(t, "bob", time.Now())
	if r := c.do("POST", "/tx/"+id(10)+"/decide", bobCookie, origin, decideForm(bobCSRF, "refuse", " ")); r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("rejection without a reason: %d", r.Code)
	}
	if r := c.do("POST", "/tx/"+id(10)+"/decide", bobCookie, origin, decideForm(bobCSRF, "refuse", "unknown recipient")); r.Code != http.StatusSeeOther {
		t.Fatalf("rejection: %d %s", r.Code, r.Body)
	}
	tx, err := c.store.Tx(t.Context(), id(10))
	if err != nil || tx.Status != approver.StatusRefused || len(tx.Decisions) != 2 {
		t.Fatalf("stored %+v %v", tx, err)
	}
}

// Every way of posting a decision without a live session of this console,
// its token and its origin is refused, and nothing is recorded.
func TestConsoleRefusesForgedDecisions(t *testing.T) {
	c := newConsole(t)
	_ = c.ask.Approve(t.Context(), subject(id(11), "wallet-a", "5000"))
	cookie, csrf := c.signIn(t, "alice", time.Now())
	idle, idleCSRF := c.signIn(t, "bob", time.Now().Add(-11*time.Minute))
	target := "/tx/" + id(11) + "/decide"
	for name, tc := range map[string]struct {
		cookie, from string
		form         url.Values
		want         int
	}{
		"no CSRF token":         {cookie, origin, decideForm("", "approve", ""), http.StatusForbidden},
		"another CSRF token":    {cookie, origin, decideForm("csrf-of-bob", "approve", ""), http.StatusForbidden},
		"from another origin":   {cookie, "https://evil.test", decideForm(csrf, "approve", ""), http.StatusForbidden},
		"without an origin":     {cookie, "", decideForm(csrf, "approve", ""), http.StatusForbidden},
		"signed out":            {"", origin, decideForm(csrf, "approve", ""), http.StatusUnauthorized},
		"unknown session":       {"forged", origin, decideForm(csrf, "approve", ""), http.StatusUnauthorized},
		"idle session":          {idle, origin, decideForm(idleCSRF, "approve", ""), http.StatusUnauthorized},
		"sign-out without CSRF": {cookie, origin, url.Values{}, http.StatusForbidden},
	} {
		path := target
		if name == "sign-out without CSRF" {
			path = "/signout"
		}
		if r := c.do("POST", path, tc.cookie, tc.from, tc.form); r.Code != tc.want {
			t.Errorf("%s: HTTP %d, want %d", name, r.Code, tc.want)
		}
	}
	tx, err := c.store.Tx(t.Context(), id(11))
	if err != nil || len(tx.Decisions) != 0 {
		t.Fatalf("a forged post was recorded: %+v %v", tx.Decisions, err)
	}
	// The session still works, and signing out ends it.
	if r := c.do("POST", "/signout", cookie, origin, url.Values{approver.CSRFField: {csrf}}); r.Code != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", r.Code)
	}
	if r := c.do("POST", target, cookie, origin, decideForm(csrf, "approve", "")); r.Code != http.StatusUnauthorized {
		t.Fatalf("decision after sign-out: %d", r.Code)
	}
	if r := c.do("GET", "/queue", cookie, "", nil); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/signin" {
		t.Fatalf("queue after sign-out: %d %s", r.Code, r.Header().Get("Location"))
	}
}

func TestConsoleSessionCookieAttributes(t *testing.T) {
	c := newConsole(t)
	r := c.do("POST", "/signin/begin", "", origin, url.Values{})
	if r.Code != 200 {
		t.Fatalf("sign-in begin: %d %s", r.Code, r.Body)
	}
	cks := r.Result().Cookies()
	if len(cks) != 1 || !cks[0].Secure || !cks[0].HttpOnly || cks[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("ceremony cookie %+v: want Secure, HttpOnly, SameSite=Strict", cks)
	}
	if !strings.Contains(r.Body.String(), `"userVerification":"required"`) {
		t.Fatalf("sign-in options without required user verification: %s", r.Body)
	}
	if r := c.do("POST", "/signin/begin", "", "https://evil.test", url.Values{}); r.Code != http.StatusForbidden {
		t.Fatalf("sign-in begun from another origin: %d", r.Code)
	}
}

// The holder of the queuing API key sees whose key it is and no Approve
// button; an approval posted anyway is refused (409); another operator
// still gets the button.
func TestConsoleOwnTransaction(t *testing.T) {
	const key = "65f1c0de0123456789abcdef"
	c := newConsole(t)
	if _, err := approver.AddOperator(t.Context(), c.store, "erin", "", []string{key}, time.Now()); err != nil {
		t.Fatal(err)
	}
	s := subject(id(40), "wallet-a", "5000")
	s.Tx.QueuedBy = key
	_ = c.ask.Approve(t.Context(), s)
	cookie, csrf := c.signIn(t, "erin", time.Now())
	p := c.do("GET", "/tx/"+id(40), cookie, "", nil).Body.String()
	if !strings.Contains(p, `id="queued-by">`+key) || strings.Contains(p, `id="approve"`) || !strings.Contains(p, `id="reject"`) {
		t.Fatalf("own transaction page:\n%s", p)
	}
	if r := c.do("POST", "/tx/"+id(40)+"/decide", cookie, origin, decideForm(csrf, "approve", "")); r.Code != http.StatusConflict {
		t.Fatalf("approving one's own: %d", r.Code)
	}
	bob, _ := c.signIn(t, "bob", time.Now())
	if p := c.do("GET", "/tx/"+id(40), bob, "", nil).Body.String(); !strings.Contains(p, `id="approve"`) {
		t.Fatalf("another operator's page has no Approve button:\n%s", p)
	}
}
