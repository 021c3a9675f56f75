package e2e

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/common"

	"github.com/custoskms/custos/internal/approver"
	"github.com/custoskms/custos/internal/daemon"
)

// newBrowser starts Debian's chromium headless on a fresh profile; close
// ends it.
func newBrowser(t *testing.T, bin string) (ctx context.Context, close func()) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	close = func() { cancelBrowser(); cancelAlloc() }
	t.Cleanup(close)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatal(err)
	}
	return bctx, close
}

// operatorTab starts a browser of the operator's own (its own profile and
// cookies, as two people's browsers are) with a virtual passkey
// authenticator that verifies its user, registers a passkey through the
// operator's enrolment link and signs in with it; close ends the browser.
func operatorTab(t *testing.T, bin, origin, op, token string) (ctx context.Context, close func()) {
	t.Helper()
	browser, close := newBrowser(t, bin)
	ctx, cancel := context.WithTimeout(browser, 90*time.Second)
	t.Cleanup(cancel)
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2,
			Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
			IsUserVerified: true, AutomaticPresenceSimulation: true}}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(approver.EnrolmentURL(origin, token)),
		// The buttons are enabled once the page's script listens to them.
		chromedp.WaitEnabled(chromedp.ID("enrol")),
		chromedp.Click(chromedp.ID("enrol")),
		chromedp.WaitEnabled(chromedp.ID("signin")), // enrolled: on to the sign-in page
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("operator")),
	); err != nil {
		// What the page said (the ceremony's status line) tells why.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		loc, _ := chromedp.Run(dctx, chromedp.Location())
		body, _ := chromedp.Run(dctx, chromedp.Evaluate[string]("document.body.innerText"))
		t.Fatalf("%s: enrol and sign in: %v at %s:\n%s", op, err, loc, body)
	}
	if who := pageText(t, ctx, "#operator"); who != op {
		t.Fatalf("signed in as %q, want %s", who, op)
	}
	return ctx, close
}

// artifact writes a screenshot where CUSTOS_TEST_ARTIFACTS says (the
// README's are made so), else into the test's temporary directory.
func artifact(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("CUSTOS_TEST_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// pageText is the text of the element sel names. A query can meet a node
// of the document that a navigation just replaced ("No node with given
// id"): it is asked again, on the new document.
func pageText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	var err error
	for range 5 {
		var s string
		if s, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel))); err == nil {
			return s
		}
		if ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("text of %s: %v", sel, err)
	return ""
}

// Two operators enrol passkeys in a real browser and sign in; a transfer
// above the threshold is queued on the dev chain and the daemon asks; the
// console shows its amount and recipient; one approval is not enough, the
// second lets the daemon sign and the transfer is mined. Then a rejection
// with a reason: refused, the reason reported, nothing signed.
func TestApproverConsoleInChromium(t *testing.T) {
	bin := requireTool(t, "CUSTOS_TEST_CHROMIUM", "Debian's chromium")
	s, w, id, payee := queueOne(t)
	a := newApprover(t, twoAboveThousand)
	ctx := context.Background()
	tokens := map[string]string{}
	for _, op := range []string{"alice", "bob"} {
		tok, err := approver.AddOperator(ctx, a.store, op, "", nil, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		tokens[op] = tok
	}
	run := a.daemonRun(t, s)
	if sum := run(); sum.Rejected != 1 || sum.Signed != 0 {
		t.Fatalf("the daemon's first ask: %+v", sum)
	}
	for i, op := range []string{"alice", "bob"} {
		tab, closeTab := operatorTab(t, bin, a.origin, op, tokens[op])
		if err := chromedp.Do(tab, chromedp.Navigate(a.origin+"/queue"), chromedp.WaitVisible(chromedp.ID("queue"))); err != nil {
			t.Fatal(err)
		}
		q := strings.ToLower(pageText(t, tab, "#queue"))
		if !strings.Contains(q, strings.ToLower(id)) || !strings.Contains(q, "5000") || !strings.Contains(q, strings.ToLower(payee.Hex())) ||
			!strings.Contains(q, fmt.Sprintf("%d of 2", i)) {
			t.Fatalf("%s's queue does not show the transfer of 5000 wei to %s with %d of 2 approvals:\n%s", op, payee.Hex(), i, q)
		}
		if i == 0 {
			artifact(t, tab, "approver-queue.png")
		}
		if err := chromedp.Do(tab, chromedp.Navigate(a.origin+"/tx/"+id), chromedp.WaitVisible(chromedp.ID("digest"))); err != nil {
			t.Fatal(err)
		}
		if tr := strings.ToLower(pageText(t, tab, "#transfers")); !strings.Contains(tr, "5000") || !strings.Contains(tr, strings.ToLower(payee.Hex())) {
			t.Fatalf("transaction page transfers: %s", tr)
		}
		if i == 0 {
			artifact(t, tab, "approver-transaction.png")
		}
		if err := chromedp.Do(tab, chromedp.Click(chromedp.ID("approve")), chromedp.WaitNotPresent(chromedp.ID("approve"))); err != nil {
			t.Fatal(err)
		}
		if got := pageText(t, tab, "#approvals"); !strings.HasPrefix(got, fmt.Sprintf("%d of 2", i+1)) {
			t.Fatalf("after %s's approval: %q", op, got)
		}
		sum := run()
		if i == 0 {
			if sum.Rejected != 1 || sum.Signed != 0 {
				t.Fatalf("after one approval: %+v", sum)
			}
			s.nothingSigned(id, w)
			closeTab()
			continue
		}
		if sum.Signed != 1 || sum.Submitted != 1 {
			t.Fatalf("after two approvals: %+v", sum)
		}
		got := s.get(id)
		if r := s.receipt(ctx, common.HexToHash(got.TxID)); r.Status != 1 || s.balance(payee).Int64() != 5_000 {
			t.Fatalf("mined: status %d, payee %s", r.Status, s.balance(payee))
		}

		// The rejection, by bob in the same session.
		second := s.queue(w, tatumTx(payee, big.NewInt(7_000), nil, 1, 21000), false)
		if sum := run(); sum.Rejected != 1 {
			t.Fatalf("the second transfer's first ask: %+v", sum)
		}
		if err := chromedp.Do(tab, chromedp.Navigate(a.origin+"/tx/"+second), chromedp.WaitVisible(chromedp.ID("reject")),
			chromedp.SendKeys(chromedp.ID("reason"), "payee not on the allow list"),
			chromedp.Click(chromedp.ID("reject")), chromedp.WaitNotPresent(chromedp.ID("reject"))); err != nil {
			t.Fatal(err)
		}
		if st := pageText(t, tab, "#status"); st != "refused" {
			t.Fatalf("status after the rejection: %q", st)
		}
		if sum := run(); sum.Signed != 0 {
			t.Fatalf("after the rejection: %+v", sum)
		}
		assertRefused(t, s, second, "refused by the approval service: refused by bob: payee not on the allow list")
		l, err := daemon.OpenLedger(s.ledgerPath)
		if err != nil {
			t.Fatal(err)
		}
		signed, err := l.Lookup(ctx, []string{second})
		l.Close()
		if pn, perr := s.node.PendingNonceAt(ctx, w.addr); err != nil || len(signed) != 0 || perr != nil || pn != 1 {
			t.Fatalf("the rejected transfer was signed: ledger %v (%v), pending nonce %d (%v)", signed, err, pn, perr)
		}
		// Signing out ends the session: the console asks to sign in again.
		if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS(".signout button")), chromedp.WaitVisible(chromedp.ID("signin")),
			chromedp.Navigate(a.origin+"/queue"), chromedp.WaitVisible(chromedp.ID("signin"))); err != nil {
			t.Fatal(err)
		}
	}
}
