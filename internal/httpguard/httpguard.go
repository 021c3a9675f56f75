// Package httpguard holds what Custos's outgoing HTTP clients (the signer's
// API client, the secret managers' client) share against a peer that is
// hostile or misconfigured: no redirect is followed, an answer is read only
// up to a cap, and plaintext to a remote host is recognised so that it can be
// warned about.
package httpguard

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// ErrTooLarge is returned when an answer is longer than the client reads.
var ErrTooLarge = errors.New("answer larger than the client reads")

// NoRedirects makes an http.Client return a redirect as the answer instead of
// following it, so that a header carrying a secret never goes to a host the
// request was not meant for.
func NoRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Plaintext reports whether a request to u crosses a network unencrypted:
// http:// to a host that is neither loopback (localhost, 127.0.0.0/8, ::1)
// nor link-local (a cloud's instance metadata endpoint, http only by design,
// which no packet leaves the host's link to reach).
func Plaintext(u *url.URL) bool {
	if !strings.EqualFold(u.Scheme, "http") {
		return false
	}
	host := strings.ToLower(u.Hostname())
	if Loopback(host) || strings.HasSuffix(host, ".localhost") {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return err != nil || !ip.IsLinkLocalUnicast()
}

// Loopback reports whether host (a URL's Hostname) is localhost or a
// loopback address (127.0.0.0/8, ::1): a request to it never leaves the
// machine.
func Loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Limit returns r cut at max bytes: a read past them fails with ErrTooLarge,
// so that a longer answer is an error rather than silently truncated.
func Limit(r io.Reader, max int64) io.Reader { return &limited{r: r, left: max, max: max} }

type limited struct {
	r         io.Reader
	left, max int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One byte more tells an answer of exactly max bytes from a longer one.
		var b [1]byte
		if n, err := l.r.Read(b[:]); n == 0 {
			return 0, err
		}
		return 0, fmt.Errorf("%w (%d bytes)", ErrTooLarge, l.max)
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// ReadAll reads r to its end, at most max bytes (ErrTooLarge beyond).
func ReadAll(r io.Reader, max int64) ([]byte, error) { return io.ReadAll(Limit(r, max)) }
