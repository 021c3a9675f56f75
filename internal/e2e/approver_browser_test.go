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

// overflowing lists what sticks out past the right edge of the page's
// viewport: the document itself when it scrolls sideways, and any element
// whose box ends beyond the viewport's width (text that does not wrap, a
// table wider than the screen). Boxes parked off screen to the left (the
// skip link, a table header kept for screen readers) do not count.
const overflowing = `(() => {
  const w = document.documentElement.clientWidth, out = [];
  if (document.documentElement.scrollWidth > w) out.push("document " + document.documentElement.scrollWidth + " > " + w);
  for (const e of document.querySelectorAll("body *")) {
    const r = e.getBoundingClientRect();
    if (r.width > 0 && r.right > w + 0.5) out.push(e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + " ends at " + Math.round(r.right));
  }
  for (const e of document.querySelectorAll(".scroll")) {
    if (e.scrollWidth > e.clientWidth) out.push("scroll box " + e.scrollWidth + " > " + e.clientWidth);
  }
  return out.slice(0, 10);
})()`

// phoneWidth makes the tab a 375×812 phone (mobile emulation: the page's
// viewport meta applies) and checks that the page at target fits its width.
func phoneWidth(t *testing.T, tab context.Context, target, wait string) {
	t.Helper()
	if err := chromedp.Do(tab, chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile),
		chromedp.Navigate(target), chromedp.WaitVisible(chromedp.ID(wait))); err != nil {
		t.Fatal(err)
	}
	out, err := chromedp.Run(tab, chromedp.Evaluate[[]string](overflowing))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) > 0 {
		t.Fatalf("%s at 375 px overflows sideways: %s", target, strings.Join(out, "; "))
	}
}

// tabTo presses Tab from the top of the page until the keyboard's focus is
// on the element with id: what a person without a mouse does.
func tabTo(t *testing.T, tab context.Context, id string) {
	t.Helper()
	for range 40 {
		if err := chromedp.Do(tab, chromedp.KeyEvent("\t")); err != nil {
			t.Fatal(err)
		}
		got, err := chromedp.Run(tab, chromedp.Evaluate[string]("document.activeElement ? document.activeElement.id : ''"))
		if err != nil {
			t.Fatal(err)
		}
		if got == id {
			return
		}
	}
	t.Fatalf("40 presses of Tab never reached #%s", id)
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
		// 5000 wei in ETH, with the exact wei beside it.
		if !strings.Contains(q, strings.ToLower(id)) || !strings.Contains(q, "0.000000000000005 eth") || !strings.Contains(q, "5000 (smallest unit)") ||
			!strings.Contains(q, strings.ToLower(payee.Hex())) || !strings.Contains(q, fmt.Sprintf("%d of 2", i)) {
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
		approve := chromedp.Click(chromedp.ID("approve"))
		if i == 0 {
			artifact(t, tab, "approver-transaction.png")
			// On a phone: the queue and the transaction fit the width, and
			// alice approves with the keyboard alone (Tab to the button,
			// Enter).
			phoneWidth(t, tab, a.origin+"/queue", "queue")
			artifact(t, tab, "approver-queue-phone.png")
			phoneWidth(t, tab, a.origin+"/tx/"+id, "digest")
			tabTo(t, tab, "approve")
			approve = chromedp.KeyEvent("\r")
		}
		if err := chromedp.Do(tab, approve, chromedp.WaitNotPresent(chromedp.ID("approve"))); err != nil {
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
