package tlsreload

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// pair is a self-signed certificate for 127.0.0.1 and its key, in PEM.
type pair struct{ cert, key []byte }

func newPair(t testing.TB, serial int64) pair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "approver.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pair{pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})}
}

// clock is a test clock safe for concurrent handshakes.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// server is a TLS listener serving r's certificate.
type server struct {
	t     *testing.T
	r     *Reloader
	clock *clock
	dir   string
	log   *syncBuffer
	addr  string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func newServer(t *testing.T, first pair) *server {
	t.Helper()
	s := &server{t: t, clock: &clock{}, dir: t.TempDir(), log: &syncBuffer{}}
	s.clock.ns.Store(time.Unix(1_700_000_000, 0).UnixNano())
	s.write(first.cert, first.key)
	r, err := New(s.certFile(), s.keyFile(), Options{Log: slog.New(slog.NewTextHandler(s.log, nil)), Now: s.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	s.r = r
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{GetCertificate: r.GetCertificate, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s.addr = ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.(*tls.Conn).Handshake()
			}()
		}
	}()
	return s
}

func (s *server) certFile() string { return filepath.Join(s.dir, "cert.pem") }
func (s *server) keyFile() string  { return filepath.Join(s.dir, "key.pem") }

// write replaces the files (nil leaves one as it is), with a modification
// time a second later than before, as a renewal's would be.
func (s *server) write(cert, key []byte) {
	s.t.Helper()
	for name, b := range map[string][]byte{s.certFile(): cert, s.keyFile(): key} {
		if b == nil {
			continue
		}
		var mod time.Time
		if fi, err := os.Stat(name); err == nil {
			mod = fi.ModTime()
		}
		if err := os.WriteFile(name, b, 0o600); err != nil {
			s.t.Fatal(err)
		}
		if fi, err := os.Stat(name); err != nil || !fi.ModTime().After(mod) {
			if err := os.Chtimes(name, mod.Add(time.Second), mod.Add(time.Second)); err != nil {
				s.t.Fatal(err)
			}
		}
	}
}

// serial is the serial of the certificate a handshake gets.
func (s *server) serial() (int64, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", s.addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64(), nil
}

func (s *server) wantSerial(want int64, when string) {
	s.t.Helper()
	got, err := s.serial()
	if err != nil || got != want {
		s.t.Fatalf("%s: handshake got serial %d (%v), want %d\nlog:\n%s", when, got, err, want, s.log)
	}
}

// A renewed pair is served from the first handshake after the interval,
// without a restart.
func TestServesTheRenewedPair(t *testing.T) {
	s := newServer(t, newPair(t, 1))
	s.wantSerial(1, "at start")
	renewed := newPair(t, 2)
	s.write(renewed.cert, renewed.key)
	s.wantSerial(1, "within the interval")
	s.clock.advance(DefaultInterval)
	s.wantSerial(2, "after the interval")
	if !strings.Contains(s.log.String(), "TLS certificate reloaded") || !strings.Contains(s.log.String(), "serial=2") {
		t.Fatalf("log:\n%s", s.log)
	}
	// Unchanged files are not reread: nothing more is logged.
	before := s.log.String()
	s.clock.advance(DefaultInterval)
	s.wantSerial(2, "unchanged")
	if s.log.String() != before {
		t.Fatalf("unchanged files were reread:\n%s", s.log)
	}
}

// A replacement that does not load (garbage, a certificate with another
// key, a file gone) leaves the previous pair in service, with a warning
// that shows no key material, once per change; a good pair after it is
// served.
func TestKeepsThePairWhenTheRenewalIsBroken(t *testing.T) {
	first, other := newPair(t, 1), newPair(t, 2)
	s := newServer(t, first)
	for _, step := range []struct {
		name      string
		cert, key []byte
		remove    bool
	}{
		{name: "garbage certificate", cert: []byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n")},
		{name: "certificate of another key", cert: other.cert, key: first.key},
		{name: "key of another certificate", cert: first.cert, key: other.key[:len(other.key)/2]},
		{name: "key file removed", remove: true},
	} {
		warnings := strings.Count(s.log.String(), "level=WARN")
		if step.remove {
			if err := os.Remove(s.keyFile()); err != nil {
				t.Fatal(err)
			}
		} else {
			s.write(step.cert, step.key)
		}
		s.clock.advance(DefaultInterval)
		s.wantSerial(1, step.name)
		if n := strings.Count(s.log.String(), "level=WARN"); n != warnings+1 {
			t.Fatalf("%s: %d warnings, want one more than %d:\n%s", step.name, n, warnings, s.log)
		}
		s.clock.advance(DefaultInterval)
		s.wantSerial(1, step.name+", looked at again")
		if n := strings.Count(s.log.String(), "level=WARN"); n != warnings+1 {
			t.Fatalf("%s: warned again without a change:\n%s", step.name, s.log)
		}
	}
	for _, k := range [][]byte{first.key, other.key} {
		body := strings.Join(strings.Split(string(k), "\n")[1:3], "")
		if strings.Contains(s.log.String(), "PRIVATE KEY") || strings.Contains(strings.ReplaceAll(s.log.String(), "\n", ""), body[:16]) {
			t.Fatalf("the log shows key material:\n%s", s.log)
		}
	}
	good := newPair(t, 3)
	s.write(good.cert, good.key)
	s.clock.advance(DefaultInterval)
	s.wantSerial(3, "a good pair after the broken ones")
}

// Handshakes running while the pair is renewed all succeed, each with one
// of the pairs written.
func TestConcurrentHandshakesDuringRenewals(t *testing.T) {
	s := newServer(t, newPair(t, 1))
	pairs := []pair{newPair(t, 2), newPair(t, 3), newPair(t, 4)}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				n, err := s.serial()
				if err == nil && (n < 1 || n > 4) {
					err = os.ErrInvalid
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for _, p := range pairs {
		s.write(p.cert, p.key)
		s.clock.advance(DefaultInterval)
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a handshake during renewals: %v", err)
	}
	s.clock.advance(DefaultInterval)
	s.wantSerial(4, "after the renewals")
}

// At start a pair that does not load is an error, not a server without a
// certificate.
func TestNewRefusesABadPair(t *testing.T) {
	dir := t.TempDir()
	a, b := newPair(t, 1), newPair(t, 2)
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, a.cert, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, b.key, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(cert, key, Options{}); err == nil {
		t.Fatal("a certificate with another key loaded")
	}
	if _, err := New(cert, filepath.Join(dir, "none.pem"), Options{}); err == nil {
		t.Fatal("a missing key file loaded")
	}
}
