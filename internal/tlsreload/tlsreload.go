// Package tlsreload serves a TLS certificate and key from files that are
// renewed in place (by an ACME client, a certificate manager or an
// operator): a server's GetCertificate rereads them once they change, so a
// renewal needs no restart.
//
// The files are looked at from the handshakes themselves, at most once per
// interval: no goroutine and no signal to wire. A renewal is served from the
// first handshake after the next look.
package tlsreload

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultInterval is how often, at most, the files are looked at.
const DefaultInterval = 5 * time.Second

// Options configures New.
type Options struct {
	// Interval is the least time between two looks at the files
	// (DefaultInterval when 0). A look stats both files; only a change of
	// either's size, modification time or identity (a file renamed over
	// it, a symbolic link turned) rereads the pair.
	Interval time.Duration
	// Log gets a line for each pair loaded or refused (discarded when nil).
	// Neither shows key material.
	Log *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Reloader serves the pair its files hold, keeping the last good pair
// when they change into something that does not load: a half-written
// renewal, a certificate with another key, a missing file.
type Reloader struct {
	certFile, keyFile string
	opts              Options
	// cert is read by every handshake without a lock.
	cert atomic.Pointer[tls.Certificate]

	// mu is held by the one handshake looking at the files; the others
	// meanwhile serve cert as it is.
	mu      sync.Mutex
	checked time.Time
	// seen are the files as last looked at, loaded or refused: they are
	// reread only once they change again, so a bad renewal is warned about
	// once, not at every look.
	seen [2]os.FileInfo
}

// New loads the pair from certFile and keyFile (PEM: the chain, leaf first,
// and its private key). Unlike a later reload, a pair that does not load
// here is an error.
func New(certFile, keyFile string, opts Options) (*Reloader, error) {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Reloader{certFile: certFile, keyFile: keyFile, opts: opts}
	seen, err := r.stat()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	r.cert.Store(&cert)
	r.seen, r.checked = seen, opts.Now()
	return r, nil
}

// Certificate is the pair served now.
func (r *Reloader) Certificate() *tls.Certificate { return r.cert.Load() }

// GetCertificate is tls.Config.GetCertificate: the pair served now, after a
// look at the files if the interval has passed. It never fails: a pair that
// does not load leaves the previous one in service.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.check()
	return r.cert.Load(), nil
}

// check rereads the pair if the interval has passed and the files changed.
func (r *Reloader) check() {
	if !r.mu.TryLock() {
		return // another handshake is looking
	}
	defer r.mu.Unlock()
	now := r.opts.Now()
	if now.Sub(r.checked) < r.opts.Interval {
		return
	}
	r.checked = now
	// Stat before reading: a change landing in between is read now and
	// seen as a change again at the next look, which rereads it once more.
	seen, err := r.stat()
	if err != nil {
		if r.seen != [2]os.FileInfo{} {
			r.opts.Log.Warn("TLS certificate files unreadable; serving the previous certificate", "error", err)
			r.seen = [2]os.FileInfo{}
		}
		return
	}
	if same(seen[0], r.seen[0]) && same(seen[1], r.seen[1]) {
		return
	}
	r.seen = seen
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		// The error names what failed to parse or match, never the bytes.
		r.opts.Log.Warn("TLS certificate not reloaded; serving the previous certificate",
			"cert", r.certFile, "key", r.keyFile, "error", err)
		return
	}
	r.cert.Store(&cert)
	attrs := []any{"cert", r.certFile}
	if leaf := cert.Leaf; leaf != nil {
		attrs = append(attrs, "subject", leaf.Subject.String(), "serial", leaf.SerialNumber.Text(16), "not_after", leaf.NotAfter.UTC())
	}
	r.opts.Log.Info("TLS certificate reloaded", attrs...)
}

func (r *Reloader) stat() ([2]os.FileInfo, error) {
	var out [2]os.FileInfo
	for i, name := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(name)
		if err != nil {
			return out, err
		}
		if !fi.Mode().IsRegular() {
			return out, fmt.Errorf("%s: not a regular file", name)
		}
		out[i] = fi
	}
	return out, nil
}

// same reports whether a and b are the same file, unchanged.
func same(a, b os.FileInfo) bool {
	return a != nil && b != nil && os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}
