package approver

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/custoskms/custos/internal/ratelimit"
)

// Passkey ceremonies are the console's only work an unauthenticated client
// can ask for: each begin keeps a challenge on the server, each finish checks
// a signature. They are limited per client address.
const (
	// DefaultSignInRate is how many ceremonies one address may begin (or
	// fail) a minute, and DefaultSignInBurst how many at once: an operator
	// signing in needs one, a mistyped PIN or two a few more.
	DefaultSignInRate  = 10
	DefaultSignInBurst = 10
	// maxSignInAddresses bounds the addresses whose buckets are kept; past
	// it the least recently seen is forgotten (ratelimit.Limiter).
	maxSignInAddresses = 10_000
)

// newSignInLimiter is the limiter of cfg (nil without a limit).
func newSignInLimiter(cfg ConsoleConfig, now func() time.Time) *ratelimit.Limiter {
	if cfg.SignInRate < 0 {
		return nil
	}
	return ratelimit.New(float64(cfg.SignInRate)/60, cfg.SignInBurst, maxSignInAddresses, now)
}

// clientAddress is the key of a request's bucket: the connection's remote
// address, never a header a client writes (X-Forwarded-For), so behind a
// proxy every client shares the proxy's bucket. IPv6 is grouped by /64, the
// block one host or home is given: a client stepping through its own /64
// still has one bucket.
func clientAddress(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return ip.String()
	}
	p, _ := ip.Prefix(64)
	return p.String()
}

// takeSignIn takes one ceremony from r's address: 0 when it may go ahead,
// else how long until the address has one again.
func (c *Console) takeSignIn(r *http.Request) time.Duration {
	if c.signins == nil {
		return 0
	}
	return c.signins.Take(clientAddress(r.RemoteAddr))
}

// limited refuses a ceremony's begin past its address's limit: 429 with
// Retry-After, in JSON like the ceremony's other answers, before any
// challenge is made or any enrolment token looked up.
func (c *Console) limited(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if wait := c.takeSignIn(r); wait > 0 {
			secs := ratelimit.RetryAfter(wait)
			w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
			jsonError(w, http.StatusTooManyRequests, fmt.Sprintf("too many sign-in attempts from this address; try again in %d s", secs))
			return
		}
		next(w, r)
	}
}
