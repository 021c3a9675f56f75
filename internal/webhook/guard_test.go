package webhook

import (
	"context"
	"net/netip"
	"strings"
	"testing"
)

func TestGuardAllowed(t *testing.T) {
	refused := []string{"127.0.0.1", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "fe80::1",
		"fc00::1", "224.0.0.1", "ff02::1", "0.0.0.0", "::", "100.64.0.1", "0.1.2.3", "255.255.255.255", "::ffff:127.0.0.1", "::ffff:10.0.0.1"}
	allowed := []string{"8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8"}
	var g Guard
	for _, s := range refused {
		if g.Allowed(netip.MustParseAddr(s)) {
			t.Errorf("%s allowed", s)
		}
		if !(Guard{AllowPrivate: true}).Allowed(netip.MustParseAddr(s)) {
			t.Errorf("%s refused with AllowPrivate", s)
		}
	}
	for _, s := range allowed {
		if !g.Allowed(netip.MustParseAddr(s)) {
			t.Errorf("%s refused", s)
		}
	}
	loop := Guard{AllowLoopback: true}
	if !loop.Allowed(netip.MustParseAddr("127.0.0.1")) || !loop.Allowed(netip.MustParseAddr("::1")) || loop.Allowed(netip.MustParseAddr("10.0.0.1")) {
		t.Error("AllowLoopback allows loopback and nothing else")
	}
}

func TestCheckURL(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		url   string
		g     Guard
		fault string // "" when accepted
	}{
		{"https://8.8.8.8/hook?x=1", Guard{}, ""},
		{"http://8.8.8.8:8080/", Guard{}, ""},
		{"http://127.0.0.1:9/", Guard{}, "private"},
		{"http://127.0.0.1:9/", Guard{AllowLoopback: true}, ""},
		{"http://[::1]/", Guard{}, "private"},
		{"http://localhost:9/", Guard{}, "resolves to"},
		{"http://localhost:9/", Guard{AllowLoopback: true}, ""},
		{"http://169.254.169.254/latest/meta-data", Guard{AllowLoopback: true}, "private"},
		{"http://10.0.0.1/", Guard{AllowPrivate: true}, ""},
		{"ftp://8.8.8.8/", Guard{}, "http or https"},
		{"https:///x", Guard{}, "http or https"},
		{"8.8.8.8/hook", Guard{}, "http or https"},
		{"mailto:a@b", Guard{}, "http or https"},
		{"https://8.8.8.8/" + strings.Repeat("a", MaxURL), Guard{}, "at most"},
		{"https://no-such-host.invalid/", Guard{}, "does not resolve"},
	} {
		got := c.g.CheckURL(ctx, c.url)
		if (c.fault == "") != (got == "") || !strings.Contains(got, c.fault) {
			t.Errorf("CheckURL(%q) with %+v = %q, want %q", c.url, c.g, got, c.fault)
		}
	}
}
