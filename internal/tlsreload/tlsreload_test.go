package tlsreload

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custoskms/custos/internal/tlsreload/tlstest"
)

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
	log   *logLines
	addr  string
}

// logLines keeps the lines the reloader logs from the handshakes'
// goroutines, for the test to read.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.lines = append(l.lines, string(p))
	l.mu.Unlock()
	return len(p), nil
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "")
}

func newServer(t *testing.T, first tlstest.Pair) *server {
	t.Helper()
	s := &server{t: t, clock: &clock{}, dir: t.TempDir(), log: &logLines{}}
	s.clock.ns.Store(time.Unix(1_700_000_000, 0).UnixNano())
	s.write(first.Cert, first.Key)
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
	s := newServer(t, tlstest.NewPair(t, 1))
	s.wantSerial(1, "at start")
	renewed := tlstest.NewPair(t, 2)
	s.write(renewed.Cert, renewed.Key)
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
	first, other := tlstest.NewPair(t, 1), tlstest.NewPair(t, 2)
	s := newServer(t, first)
	for _, step := range []struct {
		name      string
		cert, key []byte
		remove    bool
	}{
		{name: "garbage certificate", cert: []byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n")},
		{name: "certificate of another key", cert: other.Cert, key: first.Key},
		{name: "key of another certificate", cert: first.Cert, key: other.Key[:len(other.Key)/2]},
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
	for _, k := range [][]byte{first.Key, other.Key} {
		body := strings.Join(strings.Split(string(k), "\n")[1:3], "")
		if strings.Contains(s.log.String(), "PRIVATE KEY") || strings.Contains(strings.ReplaceAll(s.log.String(), "\n", ""), body[:16]) {
			t.Fatalf("the log shows key material:\n%s", s.log)
		}
	}
	good := tlstest.NewPair(t, 3)
	s.write(good.Cert, good.Key)
	s.clock.advance(DefaultInterval)
	s.wantSerial(3, "a good pair after the broken ones")
}

// Handshakes running while the pair is renewed all succeed, each with one
// of the pairs written.
func TestConcurrentHandshakesDuringRenewals(t *testing.T) {
	s := newServer(t, tlstest.NewPair(t, 1))
	pairs := []tlstest.Pair{tlstest.NewPair(t, 2), tlstest.NewPair(t, 3), tlstest.NewPair(t, 4)}
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
					err = fmt.Errorf("serial %d was never written", n)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for _, p := range pairs {
		s.write(p.Cert, p.Key)
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
	a, b := tlstest.NewPair(t, 1), tlstest.NewPair(t, 2)
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, a.Cert, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, b.Key, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(cert, key, Options{}); err == nil {
		t.Fatal("a certificate with another key loaded")
	}
	if _, err := New(cert, filepath.Join(dir, "none.pem"), Options{}); err == nil {
		t.Fatal("a missing key file loaded")
	}
}
