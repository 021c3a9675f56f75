package approver

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/internal/audit"
	"github.com/custoskms/custos/internal/ratelimit"
)

//go:embed web
var webFS embed.FS

// Console defaults.
const (
	// DefaultIdleTimeout ends a session nobody used for this long.
	DefaultIdleTimeout = 15 * time.Minute
	// DefaultSessionLifetime ends any session this long after sign-in.
	DefaultSessionLifetime = 12 * time.Hour
	// SessionCookie holds the session's random value (the store keeps its
	// hash only).
	SessionCookie = "custos_session"
	// CSRFField is the hidden field every form of a session carries.
	CSRFField = "csrf"
	// maxReason bounds a decision's reason (it is reported to the API).
	maxReason = 300
)

// ConsoleConfig configures NewConsole.
type ConsoleConfig struct {
	Service *Service
	// Origin is the console's URL as the browser sees it (scheme, host,
	// port): passkeys are bound to its host, and a POST from any other
	// origin is refused.
	Origin string
	// IdleTimeout and Lifetime bound sessions (defaults above).
	IdleTimeout time.Duration
	Lifetime    time.Duration
	// SignInRate is how many passkey ceremonies (sign-in or enrolment,
	// each begun or failed) one client address may make a minute, with
	// bursts of SignInBurst (0: DefaultSignInRate, DefaultSignInBurst); a
	// negative rate sets no limit.
	SignInRate  int
	SignInBurst int
}

// Console is the operators' web console: passkey sign-in, the queue, one
// page per transaction and the approve/reject forms. Pages are rendered on
// the server; the only script is the passkey ceremony.
type Console struct {
	cfg    ConsoleConfig
	svc    *Service
	origin *url.URL
	wa     *webauthn.WebAuthn
	pages  map[string]*template.Template
	// ceremonies hold the WebAuthn challenges between their two requests.
	ceremonies *ceremonies
	// signins limits the ceremonies per client address (nil: no limit).
	signins *ratelimit.Limiter
}

// NewConsole checks cfg and prepares the pages.
func NewConsole(cfg ConsoleConfig) (*Console, error) {
	if cfg.Service == nil {
		return nil, errors.New("approver console: a service is required")
	}
	u, err := url.Parse(cfg.Origin)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("approver console: origin must be a URL such as https://approver.example.com, got %q", cfg.Origin)
	}
	u.Path = ""
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = DefaultSessionLifetime
	}
	if cfg.SignInRate == 0 {
		cfg.SignInRate = DefaultSignInRate
	}
	if cfg.SignInBurst <= 0 {
		cfg.SignInBurst = DefaultSignInBurst
	}
	wa, err := webauthn.New(&webauthn.Config{RPID: u.Hostname(), RPDisplayName: "Custos approver", RPOrigins: []string{u.String()}})
	if err != nil {
		return nil, fmt.Errorf("approver console: %w", err)
	}
	c := &Console{cfg: cfg, svc: cfg.Service, origin: u, wa: wa, pages: map[string]*template.Template{},
		ceremonies: &ceremonies{m: map[string]ceremony{}}, signins: newSignInLimiter(cfg, cfg.Service.cfg.Now)}
	for _, p := range []string{"signin", "enrol", "queue", "tx", "history", "error"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(webFS, "web/layout.html", "web/"+p+".html")
		if err != nil {
			return nil, err
		}
		c.pages[p] = t
	}
	return c, nil
}

var funcs = template.FuncMap{
	"time": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"age": func(now, t time.Time) string {
		d := now.Sub(t).Round(time.Second)
		switch {
		case d < time.Minute:
			return d.String()
		case d < time.Hour:
			return d.Round(time.Minute).String()
		}
		return d.Round(time.Hour).String()
	},
}

// Handler returns the console's routes and the daemon's approval route.
func (c *Console) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST "+ApprovalPath+"{id}", c.svc)
	assets, _ := fs.Sub(webFS, "web/assets")
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(assets)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/queue", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /signin", c.signinPage)
	mux.HandleFunc("POST /signin/begin", c.post(c.limited(c.signinBegin)))
	mux.HandleFunc("POST /signin/finish", c.post(c.signinFinish))
	mux.HandleFunc("GET /enrol", c.enrolPage)
	mux.HandleFunc("POST /enrol/begin", c.post(c.limited(c.enrolBegin)))
	mux.HandleFunc("POST /enrol/finish", c.post(c.enrolFinish))
	mux.HandleFunc("GET /queue", c.signedIn(c.queuePage))
	mux.HandleFunc("GET /tx/{id}", c.signedIn(c.txPage))
	mux.HandleFunc("GET /history", c.signedIn(c.historyPage))
	mux.HandleFunc("GET /history.csv", c.signedIn(c.historyCSV))
	mux.HandleFunc("POST /tx/{id}/decide", c.post(c.signedIn(c.form(c.decide))))
	mux.HandleFunc("POST /signout", c.post(c.signedIn(c.form(c.signout))))
	return headers(mux)
}

// headers sets what every answer carries: no caching of pages holding
// transactions, no framing, scripts and styles from this origin only.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		// same-origin, not no-referrer: under no-referrer a browser sends
		// "Origin: null" with a form post, which post() must refuse.
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// post refuses a POST whose Origin is not the console's. Browsers send
// Origin with every POST, so a page elsewhere cannot submit a form here
// even when a cookie would reach the console; requests without it (not a
// browser's) are refused too.
func (c *Console) post(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o == "" || o != c.origin.String() {
			c.fail(w, r, http.StatusForbidden, "This request did not come from the console's own pages.")
			return
		}
		next(w, r)
	}
}

type ctxKey struct{}

// signedIn passes on only requests of a live session, which it refreshes;
// others go to the sign-in page (or 401 for a POST).
func (c *Console) signedIn(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := c.session(r)
		if err != nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/signin", http.StatusSeeOther)
				return
			}
			c.fail(w, r, http.StatusUnauthorized, "You are signed out. Sign in again to decide.")
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, s)))
	}
}

// form checks the session's CSRF token in a form post.
func (c *Console) form(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		s := sessionOf(r)
		if err := r.ParseForm(); err != nil ||
			subtle.ConstantTimeCompare([]byte(r.PostFormValue(CSRFField)), []byte(s.CSRF)) != 1 {
			c.fail(w, r, http.StatusForbidden, "This form has expired or did not come from the console. Reload the page and try again.")
			return
		}
		next(w, r)
	}
}

func sessionOf(r *http.Request) Session { s, _ := r.Context().Value(ctxKey{}).(Session); return s }

func hashToken(v string) []byte { h := sha256.Sum256([]byte(v)); return h[:] }

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// session returns the live session the request's cookie names.
func (c *Console) session(r *http.Request) (Session, error) {
	ck, err := r.Cookie(SessionCookie)
	if err != nil || ck.Value == "" {
		return Session{}, ErrNoSession
	}
	h := hashToken(ck.Value)
	s, err := c.svc.cfg.Store.Session(r.Context(), h)
	if err != nil {
		return Session{}, err
	}
	now := c.svc.cfg.Now()
	if now.Sub(s.LastSeen) > c.cfg.IdleTimeout || now.Sub(s.CreatedAt) > c.cfg.Lifetime {
		_ = c.svc.cfg.Store.DeleteSession(r.Context(), h)
		return Session{}, ErrNoSession
	}
	if err := c.svc.cfg.Store.TouchSession(r.Context(), h, now); err != nil {
		return Session{}, err
	}
	return s, nil
}

// startSession signs operator in: a new random session (its hash stored),
// its cookie, and the audit entry written first.
func (c *Console) startSession(w http.ResponseWriter, r *http.Request, operator string) error {
	if err := c.svc.cfg.Audit.Append(r.Context(), audit.Event{Type: "approver.signin", Fields: map[string]any{
		"operator": operator, "remote": r.RemoteAddr}}); err != nil {
		return err
	}
	v, now := randomToken(), c.svc.cfg.Now()
	if err := c.svc.cfg.Store.CreateSession(r.Context(), Session{Hash: hashToken(v), Operator: operator,
		CSRF: randomToken(), CreatedAt: now, LastSeen: now, Remote: r.RemoteAddr}); err != nil {
		return err
	}
	http.SetCookie(w, c.cookie(SessionCookie, v, c.cfg.Lifetime))
	return nil
}

// cookie is Secure, HttpOnly and SameSite=Strict: never sent by a request
// another site starts, never read by a script, never sent in clear (a
// browser treats http://localhost as secure, so a loopback console works).
func (c *Console) cookie(name, value string, maxAge time.Duration) *http.Cookie {
	ck := &http.Cookie{Name: name, Value: value, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode}
	if maxAge < 0 {
		ck.MaxAge = -1
	} else {
		ck.MaxAge = int(maxAge.Seconds())
	}
	return ck
}

func (c *Console) signout(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	if err := c.svc.cfg.Audit.Append(r.Context(), audit.Event{Type: "approver.signout", Fields: map[string]any{"operator": s.Operator}}); err != nil {
		c.fail(w, r, http.StatusInternalServerError, "The audit log cannot be written.")
		return
	}
	if err := c.svc.cfg.Store.DeleteSession(r.Context(), s.Hash); err != nil {
		c.fail(w, r, http.StatusInternalServerError, "The session could not be ended.")
		return
	}
	http.SetCookie(w, c.cookie(SessionCookie, "", -1))
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// page is what every template gets.
type page struct {
	Title    string
	Operator string
	CSRF     string
	Now      time.Time
	Data     any
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	s := sessionOf(r)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.pages[name].Execute(w, page{Title: title, Operator: s.Operator, CSRF: s.CSRF, Now: c.svc.cfg.Now(), Data: data}); err != nil {
		c.svc.cfg.Log.Warn("console page", "page", name, "error", err)
	}
}

func (c *Console) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	c.render(w, r, status, "error", http.StatusText(status), msg)
}

func (c *Console) signinPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "signin", "Sign in", nil)
}

func (c *Console) enrolPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "enrol", "Register a passkey", nil)
}

// queueRow is one line of the queue page.
type queueRow struct {
	Tx
	Approvals int
	// Transfers leave the wallet (change outputs are not shown).
	Transfers []transferView
	Fee       *Amount
}

// queuePageSize is how many requests one queue page shows.
const queuePageSize = 50

func (c *Console) queuePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := Filter{Status: Status(q.Get("status")), Chain: strings.ToUpper(q.Get("chain"))}
	switch f.Status {
	case "":
		f.Status = StatusPending
	case "all":
		f.Status = ""
	case StatusPending, StatusApproved, StatusRefused:
	default:
		c.fail(w, r, http.StatusBadRequest, "Unknown status filter.")
		return
	}
	before, err := queueCursor(q.Get("before"))
	if err != nil {
		c.fail(w, r, http.StatusBadRequest, "Unknown queue page.")
		return
	}
	f.Before, f.Limit = before, queuePageSize+1
	txs, err := c.svc.cfg.Store.Queue(r.Context(), f)
	if err != nil {
		c.fail(w, r, http.StatusInternalServerError, "The queue cannot be read.")
		return
	}
	total, err := c.svc.cfg.Store.Count(r.Context(), f)
	if err != nil {
		c.fail(w, r, http.StatusInternalServerError, "The queue cannot be read.")
		return
	}
	status := string(f.Status)
	if status == "" {
		status = "all"
	}
	// One request more than shown tells whether an older page exists.
	link := url.Values{"status": {status}}
	if f.Chain != "" {
		link.Set("chain", f.Chain)
	}
	newest, older := "/queue?"+link.Encode(), ""
	if len(txs) > queuePageSize {
		txs = txs[:queuePageSize]
		last := txs[len(txs)-1]
		link.Set("before", strconv.FormatInt(last.Updated.UnixNano(), 10)+"."+strconv.FormatInt(last.Seq, 10))
		older = "/queue?" + link.Encode()
	}
	rows := make([]queueRow, len(txs))
	for i, t := range txs {
		rows[i] = queueRow{Tx: t, Approvals: approvals(t), Transfers: shown(c.svc.cfg.Rules, t, false), Fee: feeShown(c.svc.cfg.Rules, t)}
	}
	c.render(w, r, http.StatusOK, "queue", "Queue", map[string]any{"Rows": rows, "Status": status, "Chain": f.Chain,
		"Total": total, "Newest": newest, "Older": older, "Paged": before != nil})
}

// queueCursor reads a queue page's ?before=UPDATED.SEQ (the last row of the
// page before: its activity in Unix nanoseconds and its seq); absent, the
// newest page.
func queueCursor(v string) (*QueueCursor, error) {
	if v == "" {
		return nil, nil
	}
	u, sq, ok := strings.Cut(v, ".")
	upd, err1 := strconv.ParseInt(u, 10, 64)
	seq, err2 := strconv.ParseInt(sq, 10, 64)
	if !ok || err1 != nil || err2 != nil || seq <= 0 {
		return nil, strconv.ErrSyntax
	}
	return &QueueCursor{Updated: time.Unix(0, upd).UTC(), Seq: seq}, nil
}

func approvals(t Tx) int {
	n := 0
	for _, d := range t.Decisions {
		if d.Decision == approval.Approve && t.Need.Eligible(d.Operator) {
			n++
		}
	}
	return n
}

func (c *Console) txPage(w http.ResponseWriter, r *http.Request) {
	c.showTx(w, r, http.StatusOK, "")
}

func (c *Console) showTx(w http.ResponseWriter, r *http.Request, status int, notice string) {
	t, err := c.svc.cfg.Store.Tx(r.Context(), r.PathValue("id"))
	if errors.Is(err, ErrRequestNotFound) {
		c.fail(w, r, http.StatusNotFound, "No such transaction.")
		return
	}
	if err != nil {
		c.fail(w, r, http.StatusInternalServerError, "The transaction cannot be read.")
		return
	}
	op := sessionOf(r).Operator
	decided := false
	for _, d := range t.Decisions {
		decided = decided || d.Operator == op
	}
	own, err := c.svc.owns(r.Context(), op, t.Request)
	if err != nil {
		c.fail(w, r, http.StatusInternalServerError, "The transaction cannot be read.")
		return
	}
	c.render(w, r, status, "tx", "Transaction "+t.Request.ID, map[string]any{
		"Tx": t, "Approvals": approvals(t), "Notice": notice, "Own": own,
		"Transfers": shown(c.svc.cfg.Rules, t, true), "Fee": feeShown(c.svc.cfg.Rules, t),
		"CanDecide": t.Status == StatusPending && !decided && t.Need.Eligible(op),
		"Decided":   decided, "Eligible": t.Need.Eligible(op),
	})
}

func (c *Console) decide(w http.ResponseWriter, r *http.Request) {
	var d approval.Decision
	switch r.PostFormValue("decision") {
	case "approve":
		d = approval.Approve
	case "refuse":
		d = approval.Refuse
	default:
		c.fail(w, r, http.StatusBadRequest, "Choose approve or reject.")
		return
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if d == approval.Refuse && reason == "" {
		c.showTx(w, r, http.StatusUnprocessableEntity, "A rejection needs a reason: it is reported with the transaction.")
		return
	}
	if len(reason) > maxReason {
		c.showTx(w, r, http.StatusUnprocessableEntity, fmt.Sprintf("The reason is longer than %d bytes.", maxReason))
		return
	}
	_, err := c.svc.Decide(r.Context(), sessionOf(r).Operator, r.PathValue("id"), d, strings.ToValidUTF8(reason, "?"))
	switch {
	case errors.Is(err, ErrAlreadyDecided), errors.Is(err, ErrClosed), errors.Is(err, ErrNotEligible), errors.Is(err, ErrOwnTransaction):
		c.showTx(w, r, http.StatusConflict, err.Error()+".")
		return
	case errors.Is(err, ErrRequestNotFound):
		c.fail(w, r, http.StatusNotFound, "No such transaction.")
		return
	case err != nil:
		c.svc.cfg.Log.Error("decision", "id", r.PathValue("id"), "error", err)
		c.fail(w, r, http.StatusInternalServerError, "The decision was not recorded.")
		return
	}
	http.Redirect(w, r, "/tx/"+url.PathEscape(r.PathValue("id")), http.StatusSeeOther)
}

// ceremonies keep each WebAuthn challenge between its begin and finish
// requests, keyed by a random id in a short-lived cookie; bounded so that
// unauthenticated begins cannot grow it without limit.
type ceremonies struct {
	mu sync.Mutex
	m  map[string]ceremony
}

type ceremony struct {
	data     webauthn.SessionData
	operator string
	expires  time.Time
}

const (
	ceremonyCookie = "custos_ceremony"
	ceremonyTTL    = 5 * time.Minute
	maxCeremonies  = 10_000
)

func (cs *ceremonies) put(now time.Time, c ceremony) (string, bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for k, v := range cs.m {
		if now.After(v.expires) {
			delete(cs.m, k)
		}
	}
	if len(cs.m) >= maxCeremonies {
		return "", false
	}
	id := randomToken()
	c.expires = now.Add(ceremonyTTL)
	cs.m[id] = c
	return id, true
}

// take returns and forgets a live ceremony: each challenge answers once.
func (cs *ceremonies) take(now time.Time, id string) (ceremony, bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c, ok := cs.m[id]
	delete(cs.m, id)
	return c, ok && now.Before(c.expires)
}
