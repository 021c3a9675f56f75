// Package webhook delivers the pending store's outbox to the receivers
// tenants subscribed (Tatum's KMS_COMPLETED_TX and KMS_FAILED_TX): a worker
// inside `custos serve` claims due deliveries with a lease, POSTs each body
// signed with the tenant's HMAC secret, and records the outcome, retrying
// with exponential backoff until the attempts run out. Receiver URLs are
// tenant input: Guard refuses those reaching private networks.
package webhook

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// MaxURL bounds a receiver URL, as Tatum's subscription attributes are.
const MaxURL = 500

// Guard decides which receiver addresses deliveries may reach. A tenant
// chooses its URLs, so by default only public unicast addresses are
// allowed: a URL naming (or resolving to) the server's loopback, a private
// network, a link-local address (a cloud's metadata endpoint), multicast or
// an unspecified address would let a tenant probe what only the server reaches.
type Guard struct {
	// AllowPrivate allows every address (`custos serve --webhook-allow-private`).
	AllowPrivate bool
	// AllowLoopback allows loopback addresses (`custos dev`).
	AllowLoopback bool
	// Resolver looks host names up; nil is net.DefaultResolver.
	Resolver *net.Resolver
}

// cgnat and thisNetwork are the shared address space (RFC 6598) and
// "this network" (0.0.0.0/8), neither of which netip classifies.
var (
	cgnat       = netip.MustParsePrefix("100.64.0.0/10")
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
)

// Allowed reports whether deliveries may connect to ip.
func (g Guard) Allowed(ip netip.Addr) bool {
	ip = ip.Unmap()
	switch {
	case g.AllowPrivate:
		return true
	case ip.IsLoopback():
		return g.AllowLoopback
	case ip.IsPrivate(), ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast(),
		ip.IsMulticast(), ip.IsUnspecified(), cgnat.Contains(ip), thisNetwork.Contains(ip),
		ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return false
	}
	return ip.IsValid()
}

// CheckURL checks a receiver URL at subscription time: http or https, a
// host, no more than MaxURL bytes, and every address the host resolves to
// allowed. It returns a message for the subscriber, or "" when the URL is
// accepted. The dialer checks again at each delivery (Control), since the
// host's addresses may change.
func (g Guard) CheckURL(ctx context.Context, raw string) string {
	if len(raw) > MaxURL {
		return fmt.Sprintf("must be at most %d characters", MaxURL)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
		return "must be an absolute http or https URL"
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if !g.Allowed(ip) {
			return "must not reach a private, loopback, link-local, multicast or unspecified address"
		}
		return ""
	}
	r := g.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	ips, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return "host does not resolve"
	}
	for _, ip := range ips {
		if !g.Allowed(ip) {
			return "must not reach a private, loopback, link-local, multicast or unspecified address (host resolves to " + ip.Unmap().String() + ")"
		}
	}
	return ""
}

// Control is a net.Dialer Control function refusing connections to addresses
// the guard does not allow. It sees the address actually dialed, after
// name resolution, so a host that resolved to a public address at
// subscription time and to a private one now is refused now.
func (g Guard) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook receiver address %q: %w", address, err)
	}
	if !g.Allowed(ap.Addr()) {
		return &RefusedAddressError{Addr: ap.Addr().Unmap()}
	}
	return nil
}

// RefusedAddressError is a delivery refused because its receiver resolved to
// an address the guard does not allow.
type RefusedAddressError struct{ Addr netip.Addr }

func (e *RefusedAddressError) Error() string {
	return "receiver address " + e.Addr.String() + " is private, loopback, link-local, multicast or unspecified; refused"
}

// redact drops the query and user info of a receiver URL for logs: tenants
// sometimes put tokens there.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return strings.TrimSuffix(u.String(), "?")
}
