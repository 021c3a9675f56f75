// Package unseal is the local socket on which the holders of a
// split-protected wallet store's shares unseal a running process (the signer
// daemon): each holder runs `custos unseal` on the machine, which sends one
// share; the one that reaches the threshold opens the store.
//
// The socket is a unix socket created 0600 in the data directory (itself
// 0700), so only the account running Custos can submit; each submission is
// recorded in the audit log with its outcome (never the share) and, on Linux,
// the submitting process's uid and pid.
package unseal

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/custoskms/custos/internal/audit"
	"github.com/custoskms/custos/internal/walletstore"
)

// SocketName is the socket's file name in the data directory.
const SocketName = "unseal.sock"

// maxRequest bounds one request line: a share is about a hundred bytes.
const maxRequest = 4 << 10

// ioTimeout bounds one exchange, so a client that connects and says nothing
// does not hold a connection forever.
const ioTimeout = 10 * time.Second

// Request is one line from a client: a share, or none to ask the status.
type Request struct {
	Share string `json:"share,omitempty"`
}

// Response is the server's one-line answer.
type Response struct {
	walletstore.SealStatus
	Error string `json:"error,omitempty"`
}

// Recorder is where submissions are audited (an *audit.Log).
type Recorder interface {
	Append(ctx context.Context, events ...audit.Event) error
}

// Server takes shares for one sealed store.
type Server struct {
	sealed *walletstore.Sealed
	audit  Recorder
	log    *slog.Logger
	// opened receives the store when the threshold is reached; it is called
	// once, and owns the store from then on.
	opened func(*walletstore.Store)

	mu       sync.Mutex
	unsealed bool
}

// NewServer serves sealed's submissions, recording each in rec, and hands
// the opened store to opened.
func NewServer(sealed *walletstore.Sealed, rec Recorder, log *slog.Logger, opened func(*walletstore.Store)) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{sealed: sealed, audit: rec, log: log, opened: opened}
}

// Listen creates the socket at path, replacing a stale one left by a
// process that died, and makes it 0600 before it accepts anyone.
func Listen(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != os.ModeSocket {
			return nil, fmt.Errorf("unseal socket %s: exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("unseal socket %s: another process is listening on it", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("unseal socket: %w", err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("unseal socket: %w", err)
	}
	// The directory is 0700; the mode keeps the socket private even where
	// the process's umask would have made it wider.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("unseal socket: %w", err)
	}
	return ln, nil
}

// Serve answers connections until ctx ends or ln fails.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("unseal socket: %w", err)
		}
		wg.Go(func() { s.handle(ctx, c) })
	}
}

func (s *Server) handle(ctx context.Context, c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	line, err := bufio.NewReaderSize(c, maxRequest).ReadSlice('\n')
	if err != nil {
		return
	}
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		writeResponse(c, Response{Error: "malformed request"})
		return
	}
	clear(line)
	writeResponse(c, s.Submit(ctx, req.Share, peerOf(c)))
}

func writeResponse(c net.Conn, r Response) {
	b, _ := json.Marshal(r)
	_, _ = c.Write(append(b, '\n'))
}

// Peer is who submitted, as the kernel reports it (uid −1 where it cannot).
type Peer struct {
	UID int
	PID int
}

// Submit handles one share (an empty one asks the status) and audits it.
// A submission that cannot be audited is not acted on: a share that would
// have unsealed leaves the store sealed, and all holders give theirs again.
func (s *Server) Submit(ctx context.Context, share string, peer Peer) Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	if share == "" {
		return Response{SealStatus: s.status()}
	}
	if s.unsealed {
		return Response{SealStatus: s.status(), Error: "already unsealed"}
	}
	store, st, err := s.sealed.Submit(ctx, share)
	outcome := outcomeOf(store, err)
	fields := map[string]any{"splitId": st.ID, "threshold": st.Threshold, "submitted": st.Submitted, "outcome": outcome}
	if peer.UID >= 0 {
		fields["uid"], fields["pid"] = peer.UID, peer.PID
	}
	if aerr := s.audit.Append(ctx, audit.Event{Type: "unseal.share", Fields: fields}); aerr != nil {
		s.log.Error("unseal: a share submission could not be audited: it is refused", "err", aerr)
		s.sealed.Drop()
		if store != nil {
			store.Close()
		}
		return Response{SealStatus: s.status(), Error: "the submission could not be audited: all shares must be given again"}
	}
	s.log.Info("unseal: share submitted", "outcome", outcome, "submitted", st.Submitted, "threshold", st.Threshold)
	if err != nil {
		return Response{SealStatus: st, Error: err.Error()}
	}
	if store != nil {
		s.unsealed = true
		s.opened(store)
	}
	return Response{SealStatus: st}
}

// status is the sealed store's status; s.mu is held.
func (s *Server) status() walletstore.SealStatus {
	st := s.sealed.Status()
	st.Unsealed = s.unsealed
	return st
}

// outcomeOf names a submission's result in the audit log.
func outcomeOf(store *walletstore.Store, err error) string {
	switch {
	case store != nil:
		return "unsealed"
	case err == nil:
		return "accepted"
	case errors.Is(err, walletstore.ErrMalformedShare):
		return "malformed"
	case errors.Is(err, walletstore.ErrForeignShare):
		return "foreign"
	case errors.Is(err, walletstore.ErrWrongShare):
		return "wrong"
	}
	return "error"
}

// Send submits one share (or, empty, asks the status) to the socket at path.
func Send(ctx context.Context, path, share string) (Response, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return Response{}, fmt.Errorf("unseal socket %s: %w (is a sealed custos daemon running on this data directory?)", path, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	b, err := json.Marshal(Request{Share: share})
	if err != nil {
		return Response{}, err
	}
	defer clear(b)
	if _, err := c.Write(append(b, '\n')); err != nil {
		return Response{}, fmt.Errorf("unseal socket: %w", err)
	}
	var r Response
	if err := json.NewDecoder(bufio.NewReader(c)).Decode(&r); err != nil {
		return Response{}, fmt.Errorf("unseal socket: %w", err)
	}
	return r, nil
}
